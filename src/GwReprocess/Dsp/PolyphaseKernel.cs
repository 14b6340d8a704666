using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace GwReprocess.Dsp;

/// <summary>The inner loop shared by one-shot and streaming resampling, so both give bit-identical samples.</summary>
internal static class PolyphaseKernel
{
    /// <summary>Computes outputs <c>k0 .. k0+y.Length−1</c>; <paramref name="xe"/>[i] holds input sample <c>origin + i</c> (zeros stored where the input has none).</summary>
    public static void Run(ResamplingFilter filter, ReadOnlySpan<double> xe, long origin, long k0, Span<double> y)
    {
        if (y.IsEmpty) return;
        int c = filter.TapsPerPhase, up = filter.Up, down = filter.Down;
        long firstStart = filter.LastInputOf(k0) - c + 1 - origin;
        long lastEnd = filter.LastInputOf(k0 + y.Length - 1) + 1 - origin;
        if (firstStart < 0 || lastEnd > xe.Length)
            throw new InvalidOperationException($"polyphase window [{firstStart}, {lastEnd}) outside buffer of {xe.Length}");

        long t = k0 * down + filter.HalfLength;
        long start = t / up - c + 1 - origin;
        int phase = (int)(t % up);
        int stepWhole = down / up, stepPhase = down % up;
        ref double bank = ref MemoryMarshal.GetArrayDataReference(filter.Bank);
        ref double x = ref MemoryMarshal.GetReference(xe);
        ref double output = ref MemoryMarshal.GetReference(y);
        if (up == 1)
        {
            for (int i = 0; i < y.Length; i++)
            {
                Unsafe.Add(ref output, i) = Dot(ref bank, ref Unsafe.Add(ref x, (nint)start), c);
                start += down;
            }
            return;
        }
        for (int i = 0; i < y.Length; i++)
        {
            Unsafe.Add(ref output, i) = Dot(ref Unsafe.Add(ref bank, phase * c), ref Unsafe.Add(ref x, (nint)start), c);
            start += stepWhole;
            phase += stepPhase;
            if (phase >= up)
            {
                phase -= up;
                start++;
            }
        }
    }

    /// <summary>Dot product of <paramref name="n"/> (a multiple of 4) doubles with a fixed summation order, independent of memory alignment.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static double Dot(ref double a, ref double b, int n)
    {
        if (Vector256.IsHardwareAccelerated)
        {
            var acc0 = Vector256<double>.Zero;
            var acc1 = Vector256<double>.Zero;
            var acc2 = Vector256<double>.Zero;
            var acc3 = Vector256<double>.Zero;
            int i = 0;
            for (; i + 16 <= n; i += 16)
            {
                acc0 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref a, (nuint)i), Vector256.LoadUnsafe(ref b, (nuint)i), acc0);
                acc1 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref a, (nuint)(i + 4)), Vector256.LoadUnsafe(ref b, (nuint)(i + 4)), acc1);
                acc2 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref a, (nuint)(i + 8)), Vector256.LoadUnsafe(ref b, (nuint)(i + 8)), acc2);
                acc3 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref a, (nuint)(i + 12)), Vector256.LoadUnsafe(ref b, (nuint)(i + 12)), acc3);
            }
            for (; i < n; i += 4)
                acc0 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref a, (nuint)i), Vector256.LoadUnsafe(ref b, (nuint)i), acc0);
            return Vector256.Sum((acc0 + acc1) + (acc2 + acc3));
        }
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (int i = 0; i < n; i += 4)
        {
            s0 += Unsafe.Add(ref a, i) * Unsafe.Add(ref b, i);
            s1 += Unsafe.Add(ref a, i + 1) * Unsafe.Add(ref b, i + 1);
            s2 += Unsafe.Add(ref a, i + 2) * Unsafe.Add(ref b, i + 2);
            s3 += Unsafe.Add(ref a, i + 3) * Unsafe.Add(ref b, i + 3);
        }
        return (s0 + s1) + (s2 + s3);
    }
}
