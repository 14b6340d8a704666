using GwReprocess.Dsp;

namespace GwReprocess.Simulation;

/// <summary>The FIR colouring filter of a <see cref="ColoredNoise"/> stream, in the frequency domain; immutable and shared across streams with the same curve and rate.</summary>
/// <remarks>
/// The filter is the zero-phase response |H(f)| = ASD(f)·√(fs/2) sampled at fs/M, turned into M taps by an inverse
/// FFT, centred and Hann-windowed, then transformed at the block FFT length N = 8M for overlap-save. Unit-variance
/// white noise through it has the one-sided PSD |H|²·2/fs = ASD² (smoothed by the window over ~2 fs/M).
/// </remarks>
public sealed class NoiseFilter
{
    /// <summary>Designs the filter for <paramref name="asd"/> (units/√Hz) at <paramref name="sampleRate"/> with <paramref name="taps"/> taps (a power of two ≥ 4096).</summary>
    public NoiseFilter(Func<double, double> asd, int sampleRate, int taps)
    {
        if (taps < ColoredNoise.ChunkLength || !int.IsPow2(taps)) throw new ArgumentException($"taps must be a power of two ≥ {ColoredNoise.ChunkLength}, got {taps}");
        SampleRate = sampleRate;
        Taps = taps;
        FftLength = 8 * taps;
        int m = taps;
        var h = new double[m + 2];
        double gain = Math.Sqrt(sampleRate / 2.0);
        for (int k = 0; k <= m / 2; k++)
        {
            h[2 * k] = asd(k * (double)sampleRate / m) * gain;
            h[2 * k + 1] = 0;
        }
        RealFft.For(m).Inverse(h);
        // Zero-phase impulse response sits at index 0 (wrapping); centre it and taper with a Hann window.
        var taper = new double[m];
        for (int i = 0; i < m; i++)
        {
            double w = 0.5 - 0.5 * Math.Cos(2 * Math.PI * i / m);
            taper[i] = h[(i + m / 2) % m] * w;
        }
        var spectrum = new double[FftLength + 2];
        taper.CopyTo(spectrum, 0);
        RealFft.For(FftLength).Forward(spectrum);
        Spectrum = spectrum;
    }

    public int SampleRate { get; }

    /// <summary>Number of FIR taps M.</summary>
    public int Taps { get; }

    /// <summary>Block FFT length N = 8M; each block yields N − M new samples.</summary>
    public int FftLength { get; }

    /// <summary>New samples per block, B = N − M.</summary>
    public int BlockLength => FftLength - Taps;

    /// <summary>Interleaved (re, im) spectrum of the windowed taps at N points, N/2+1 bins.</summary>
    internal double[] Spectrum { get; }
}

/// <summary>Gaussian noise coloured by a <see cref="NoiseFilter"/>, addressable by absolute sample index on a global grid.</summary>
/// <remarks>
/// White noise comes in chunks of 4096 samples, each drawn from a stream keyed by (channel key, chunk index);
/// output blocks of B samples (block k covers samples [kB, (k+1)B) counted from GPS 0) are computed by overlap-save
/// from the white samples [kB − M, (k+1)B). A block's samples depend only on the key and k, so a span read
/// alone equals the same span inside any longer run, bit for bit. The last block is cached for sequential reads.
/// </remarks>
public sealed class ColoredNoise : IChannelNoise
{
    /// <summary>White-noise chunk length (samples); every filter's taps and block are multiples of it.</summary>
    public const int ChunkLength = 4096;

    private readonly NoiseFilter _filter;
    private readonly StreamKey _key;
    private readonly double[] _work;
    private readonly RealFft _fft;
    private long _cachedBlock = long.MinValue;

    public ColoredNoise(NoiseFilter filter, StreamKey key)
    {
        _filter = filter;
        _key = key;
        _work = new double[filter.FftLength + 2];
        _fft = RealFft.For(filter.FftLength);
    }

    public NoiseFilter Filter => _filter;

    /// <summary>Writes samples [<paramref name="firstSample"/>, firstSample + destination.Length) into <paramref name="destination"/>.</summary>
    public void Fill(long firstSample, Span<double> destination) => Render(firstSample, destination, add: false, 1.0);

    /// <summary>Adds <paramref name="scale"/> × samples [firstSample, …) to <paramref name="destination"/>.</summary>
    public void Add(long firstSample, Span<double> destination, double scale = 1.0) => Render(firstSample, destination, add: true, scale);

    private void Render(long firstSample, Span<double> destination, bool add, double scale)
    {
        int b = _filter.BlockLength, m = _filter.Taps;
        long n = firstSample;
        int written = 0;
        while (written < destination.Length)
        {
            long block = Math.DivRem(n, b, out long offset);
            if (offset < 0) { block--; offset += b; }
            ComputeBlock(block);
            int count = (int)Math.Min(b - offset, destination.Length - written);
            var source = _work.AsSpan(m + (int)offset, count);
            var target = destination.Slice(written, count);
            if (add)
            {
                if (scale == 1.0) System.Numerics.Tensors.TensorPrimitives.Add(target, source, target);
                else System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(source, scale, target, target);
            }
            else if (scale == 1.0) source.CopyTo(target);
            else System.Numerics.Tensors.TensorPrimitives.Multiply(source, scale, target);
            written += count;
            n += count;
        }
    }

    private void ComputeBlock(long block)
    {
        if (block == _cachedBlock) return;
        int nfft = _filter.FftLength, b = _filter.BlockLength, m = _filter.Taps;
        long first = block * b - m;
        long firstChunk = first / ChunkLength - (first % ChunkLength < 0 ? 1 : 0);
        for (int c = 0; c < nfft / ChunkLength; c++)
        {
            var gen = _key.Derive(firstChunk + c).CreateGenerator();
            gen.FillNormal(_work.AsSpan(c * ChunkLength, ChunkLength));
        }
        _fft.Forward(_work);
        var h = _filter.Spectrum;
        for (int k = 0; k <= nfft / 2; k++)
        {
            double xr = _work[2 * k], xi = _work[2 * k + 1], hr = h[2 * k], hi = h[2 * k + 1];
            _work[2 * k] = xr * hr - xi * hi;
            _work[2 * k + 1] = xr * hi + xi * hr;
        }
        _fft.Inverse(_work);
        _cachedBlock = block;
    }
}
