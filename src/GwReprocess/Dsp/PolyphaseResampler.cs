using System.Buffers;

namespace GwReprocess.Dsp;

/// <summary>One-shot rational resampling, sample for sample equal to <c>scipy.signal.resample_poly</c> (zero padding at both ends).</summary>
public static class PolyphaseResampler
{
    /// <summary><c>resample_poly(x, up, down)</c> with SciPy's default Kaiser(5.0) filter.</summary>
    public static double[] Resample(ReadOnlySpan<double> x, int up, int down) => Resample(x, ResamplingFilter.Create(up, down));

    /// <summary>Resamples with a prepared filter; the result has <c>filter.OutputLength(x.Length)</c> samples.</summary>
    public static double[] Resample(ReadOnlySpan<double> x, ResamplingFilter filter)
    {
        var y = new double[checked((int)filter.OutputLength(x.Length))];
        Resample(x, filter, y);
        return y;
    }

    /// <summary>Resamples into <paramref name="y"/>, which must hold exactly <c>filter.OutputLength(x.Length)</c> samples.</summary>
    public static void Resample(ReadOnlySpan<double> x, ResamplingFilter filter, Span<double> y)
    {
        long nOut = filter.OutputLength(x.Length);
        if (y.Length != nOut) throw new ArgumentException($"output holds {y.Length} samples, resampling {x.Length} by {filter.Up}/{filter.Down} gives {nOut}", nameof(y));
        if (filter.IsIdentity)
        {
            x.CopyTo(y);
            return;
        }
        if (nOut == 0) return;
        int c = filter.TapsPerPhase;
        // Interior outputs read only real input; the few at each edge read a small zero-padded copy.
        long kLo = CeilDiv((long)(c - 1) * filter.Up - filter.HalfLength, filter.Down);
        long kHi = FloorDiv((long)x.Length * filter.Up - 1 - filter.HalfLength, filter.Down);
        kLo = Math.Clamp(kLo, 0, nOut);
        long kEnd = Math.Clamp(kHi + 1, kLo, nOut);
        ComputePadded(x, filter, 0, kLo, y);
        if (kEnd > kLo) PolyphaseKernel.Run(filter, x, 0, kLo, y[(int)kLo..(int)kEnd]);
        ComputePadded(x, filter, kEnd, nOut, y);
    }

    /// <summary><c>scipy.signal.decimate(x, q, ftype='fir', zero_phase=True)</c>: a Hamming-window FIR of 20·q+1 taps applied by polyphase down-sampling.</summary>
    public static double[] Decimate(ReadOnlySpan<double> x, int q)
    {
        if (q < 1) throw new BadInputException($"decimation factor must be a positive integer, got {q}");
        if (q == 1) return x.ToArray();
        var taps = FirDesign.Lowpass(20 * q + 1, 1.0 / q, FirWindow.Hamming);
        return Resample(x, ResamplingFilter.FromTaps(1, q, taps));
    }

    /// <summary>Resamples every channel with the same filter, in parallel over channels.</summary>
    public static double[][] ResampleChannels(IReadOnlyList<ReadOnlyMemory<double>> channels, ResamplingFilter filter, int maxDegreeOfParallelism = -1)
    {
        var outputs = new double[channels.Count][];
        Parallel.For(0, channels.Count, new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism },
            i => outputs[i] = Resample(channels[i].Span, filter));
        return outputs;
    }

    private static void ComputePadded(ReadOnlySpan<double> x, ResamplingFilter filter, long k0, long k1, Span<double> y)
    {
        if (k1 <= k0) return;
        long first = filter.LastInputOf(k0) - filter.TapsPerPhase + 1;
        long last = filter.LastInputOf(k1 - 1);
        int length = checked((int)(last - first + 1));
        var buffer = ArrayPool<double>.Shared.Rent(length);
        try
        {
            var padded = buffer.AsSpan(0, length);
            padded.Clear();
            long from = Math.Max(first, 0), to = Math.Min(last + 1, x.Length);
            if (to > from) x[(int)from..(int)to].CopyTo(padded[(int)(from - first)..]);
            PolyphaseKernel.Run(filter, padded, first, k0, y[(int)k0..(int)k1]);
        }
        finally
        {
            ArrayPool<double>.Shared.Return(buffer);
        }
    }

    internal static long FloorDiv(long a, long b) => a >= 0 ? a / b : -((-a + b - 1) / b);

    internal static long CeilDiv(long a, long b) => -FloorDiv(-a, b);
}
