using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace GwReprocess.Dsp;

/// <summary>The inner loop shared by one-shot and streaming resampling, so both give bit-identical samples.</summary>
internal static class PolyphaseKernel
{
    /// <summary>Computes outputs <c>k0 .. k0+y.Length−1</c>; <paramref name="xe"/>[i] holds input sample <c>origin + i</c> (zeros stored where the input has none).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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
        if (up == 1 && Vector256.IsHardwareAccelerated)
        {
            Decimate(filter, xe.Slice((int)start), y);
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

    /// <summary>Outputs per tile: 2048, fewer for large factors so the phase streams (down × tile) stay near 512 KB.</summary>
    private static int TileFor(int down) => Math.Clamp(65536 / down / 32 * 32, 32, 2048);

    /// <summary>
    /// Integer down-sampling (up = 1), vectorised across outputs: the input is split into its <c>down</c> phases so the
    /// inputs of 4 consecutive outputs are contiguous, each tap is broadcast once per 32 outputs, and no horizontal sums are needed.
    /// Every output accumulates its taps in ascending order with fused multiply-adds (vector lanes and scalar tail alike),
    /// so the value of an output does not depend on where a call starts.
    /// </summary>
    /// <remarks><paramref name="x"/>[0] is the first input of output 0 of <paramref name="y"/>.</remarks>
    private static void Decimate(ResamplingFilter filter, ReadOnlySpan<double> x, Span<double> y)
    {
        int d = filter.Down, c = filter.TapsPerPhase;
        int q = (c + d - 1) / d;
        // Taps by (q, r): tap m = d·qi + r, zero past the bank.
        var taps = System.Buffers.ArrayPool<double>.Shared.Rent(q * d);
        int tile = TileFor(d);
        int streamLength = tile + q;
        var streams = System.Buffers.ArrayPool<double>.Shared.Rent(d * streamLength);
        try
        {
            for (int m = 0; m < q * d; m++) taps[m] = m < c ? filter.Bank[m] : 0.0;
            for (int k0 = 0; k0 < y.Length; k0 += tile)
            {
                int count = Math.Min(tile, y.Length - k0);
                int span = count + q - 1;
                // streams[r·streamLength + j] = x[d·(k0 + j) + r], zero beyond the input (only zero taps read those).
                Deinterleave(x, d * k0, d, span, streams, streamLength);
                DecimateTile(taps, q, d, streams, streamLength, y.Slice(k0, count));
            }
        }
        finally
        {
            System.Buffers.ArrayPool<double>.Shared.Return(streams);
            System.Buffers.ArrayPool<double>.Shared.Return(taps);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Deinterleave(ReadOnlySpan<double> x, int baseIndex, int d, int span, double[] streams, int streamLength)
    {
        int full = Math.Clamp((x.Length - baseIndex) / d, 0, span);
        ref double src = ref Unsafe.Add(ref MemoryMarshal.GetReference(x), baseIndex);
        ref double dst = ref MemoryMarshal.GetArrayDataReference(streams);
        int j = 0;
        if (d == 4 && System.Runtime.Intrinsics.X86.Avx.IsSupported)
        {
            ref double d0 = ref dst;
            ref double d1 = ref Unsafe.Add(ref dst, streamLength);
            ref double d2 = ref Unsafe.Add(ref dst, 2 * streamLength);
            ref double d3 = ref Unsafe.Add(ref dst, 3 * streamLength);
            for (; j + 4 <= full; j += 4)
            {
                // 4×4 transpose: rows are 4 consecutive groups, columns the 4 phases.
                var r0 = Vector256.LoadUnsafe(ref src, (nuint)(4 * j));
                var r1 = Vector256.LoadUnsafe(ref src, (nuint)(4 * j + 4));
                var r2 = Vector256.LoadUnsafe(ref src, (nuint)(4 * j + 8));
                var r3 = Vector256.LoadUnsafe(ref src, (nuint)(4 * j + 12));
                var t0 = System.Runtime.Intrinsics.X86.Avx.UnpackLow(r0, r1);
                var t1 = System.Runtime.Intrinsics.X86.Avx.UnpackHigh(r0, r1);
                var t2 = System.Runtime.Intrinsics.X86.Avx.UnpackLow(r2, r3);
                var t3 = System.Runtime.Intrinsics.X86.Avx.UnpackHigh(r2, r3);
                System.Runtime.Intrinsics.X86.Avx.Permute2x128(t0, t2, 0x20).StoreUnsafe(ref d0, (nuint)j);
                System.Runtime.Intrinsics.X86.Avx.Permute2x128(t1, t3, 0x20).StoreUnsafe(ref d1, (nuint)j);
                System.Runtime.Intrinsics.X86.Avx.Permute2x128(t0, t2, 0x31).StoreUnsafe(ref d2, (nuint)j);
                System.Runtime.Intrinsics.X86.Avx.Permute2x128(t1, t3, 0x31).StoreUnsafe(ref d3, (nuint)j);
            }
        }
        for (; j < full; j++)
        {
            ref double group = ref Unsafe.Add(ref src, d * j);
            for (int r = 0; r < d; r++) Unsafe.Add(ref dst, r * streamLength + j) = Unsafe.Add(ref group, r);
        }
        for (; j < span; j++)
        {
            for (int r = 0; r < d; r++)
            {
                int index = baseIndex + d * j + r;
                streams[r * streamLength + j] = index < x.Length ? x[index] : 0.0;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DecimateTile(double[] taps, int q, int d, double[] streams, int streamLength, Span<double> y)
    {
        ref double t = ref MemoryMarshal.GetArrayDataReference(taps);
        ref double s = ref MemoryMarshal.GetArrayDataReference(streams);
        ref double o = ref MemoryMarshal.GetReference(y);
        int i = 0;
        for (; i + 32 <= y.Length; i += 32)
        {
            var a0 = Vector256<double>.Zero; var a1 = Vector256<double>.Zero; var a2 = Vector256<double>.Zero; var a3 = Vector256<double>.Zero;
            var a4 = Vector256<double>.Zero; var a5 = Vector256<double>.Zero; var a6 = Vector256<double>.Zero; var a7 = Vector256<double>.Zero;
            for (int qi = 0; qi < q; qi++)
            {
                for (int r = 0; r < d; r++)
                {
                    var h = Vector256.Create(Unsafe.Add(ref t, qi * d + r));
                    ref double p = ref Unsafe.Add(ref s, r * streamLength + i + qi);
                    a0 = Vector256.FusedMultiplyAdd(h, Vector256.LoadUnsafe(ref p, 0), a0);
                    a1 = Vector256.FusedMultiplyAdd(h, Vector256.LoadUnsafe(ref p, 4), a1);
                    a2 = Vector256.FusedMultiplyAdd(h, Vector256.LoadUnsafe(ref p, 8), a2);
                    a3 = Vector256.FusedMultiplyAdd(h, Vector256.LoadUnsafe(ref p, 12), a3);
                    a4 = Vector256.FusedMultiplyAdd(h, Vector256.LoadUnsafe(ref p, 16), a4);
                    a5 = Vector256.FusedMultiplyAdd(h, Vector256.LoadUnsafe(ref p, 20), a5);
                    a6 = Vector256.FusedMultiplyAdd(h, Vector256.LoadUnsafe(ref p, 24), a6);
                    a7 = Vector256.FusedMultiplyAdd(h, Vector256.LoadUnsafe(ref p, 28), a7);
                }
            }
            a0.StoreUnsafe(ref o, (nuint)i); a1.StoreUnsafe(ref o, (nuint)(i + 4)); a2.StoreUnsafe(ref o, (nuint)(i + 8)); a3.StoreUnsafe(ref o, (nuint)(i + 12));
            a4.StoreUnsafe(ref o, (nuint)(i + 16)); a5.StoreUnsafe(ref o, (nuint)(i + 20)); a6.StoreUnsafe(ref o, (nuint)(i + 24)); a7.StoreUnsafe(ref o, (nuint)(i + 28));
        }
        for (; i + 4 <= y.Length; i += 4)
        {
            var a = Vector256<double>.Zero;
            for (int qi = 0; qi < q; qi++)
                for (int r = 0; r < d; r++)
                    a = Vector256.FusedMultiplyAdd(Vector256.Create(Unsafe.Add(ref t, qi * d + r)), Vector256.LoadUnsafe(ref Unsafe.Add(ref s, r * streamLength + i + qi)), a);
            a.StoreUnsafe(ref o, (nuint)i);
        }
        for (; i < y.Length; i++)
        {
            double a = 0;
            for (int qi = 0; qi < q; qi++)
                for (int r = 0; r < d; r++)
                    a = Math.FusedMultiplyAdd(Unsafe.Add(ref t, qi * d + r), Unsafe.Add(ref s, r * streamLength + i + qi), a);
            Unsafe.Add(ref o, i) = a;
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
