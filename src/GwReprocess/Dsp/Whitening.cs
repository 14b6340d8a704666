using MathNet.Numerics.IntegralTransforms;

namespace GwReprocess.Dsp;

/// <summary>Whitening by an ASD: divided out in the frequency domain over a block, or as a finite zero-phase FIR for streams.</summary>
/// <remarks>
/// Both normalise as gwpy's <c>TimeSeries.whiten</c> does (×√(2·dt)): Gaussian noise whose one-sided ASD is the given one comes out
/// with unit variance. Frequencies where the ASD is zero or not finite, and those below <c>lowCornerHz</c>, are removed.
/// </remarks>
public static class Whitening
{
    /// <summary>Whitens a whole block: <c>irfft(rfft(x) / ASD(f))·√(2/fs)</c>, the ASD linearly interpolated at the block's FFT frequencies (circular at the block edges).</summary>
    public static double[] InFrequencyDomain(ReadOnlySpan<double> x, double sampleRate, FrequencySeries asd, double lowCornerHz = 0)
    {
        int n = x.Length;
        if (n == 0) return [];
        var buffer = new double[n % 2 == 0 ? n + 2 : n + 1];
        x.CopyTo(buffer);
        Fourier.ForwardReal(buffer, n, FourierOptions.Matlab);
        int bins = n / 2 + 1;
        double norm = Math.Sqrt(2.0 / sampleRate);
        for (int k = 0; k < bins; k++)
        {
            double g = Gain(asd, k * sampleRate / n, lowCornerHz) * norm;
            buffer[2 * k] *= g;
            buffer[2 * k + 1] *= g;
        }
        Fourier.InverseReal(buffer, n, FourierOptions.Matlab);
        return buffer[..n];
    }

    /// <summary>
    /// Zero-phase whitening FIR of <paramref name="taps"/> (odd) coefficients: the impulse response of 1/ASD on a grid of
    /// <c>max(taps, fs/Df)</c> points, truncated to <c>±(taps−1)/2</c> samples with a symmetric Hann taper, ×√(2/fs).
    /// </summary>
    public static double[] FirFromAsd(FrequencySeries asd, double sampleRate, int taps, double lowCornerHz = 0)
    {
        if (taps < 3 || taps % 2 == 0) throw new BadInputException($"whitening FIR length must be odd and at least 3, got {taps}");
        int n = Math.Max(taps, (int)Math.Round(sampleRate / asd.Df));
        if (n % 2 == 1) n++;
        var buffer = new double[n + 2];
        int bins = n / 2 + 1;
        for (int k = 0; k < bins; k++) buffer[2 * k] = Gain(asd, k * sampleRate / n, lowCornerHz);
        Fourier.InverseReal(buffer, n, FourierOptions.Matlab);
        int half = (taps - 1) / 2;
        var window = FirWindow.Hann.Compute(taps + 2, periodic: false); // drop the zero end points so no kept tap is zeroed
        double norm = Math.Sqrt(2.0 / sampleRate);
        var h = new double[taps];
        for (int j = -half; j <= half; j++)
        {
            double impulse = buffer[((j % n) + n) % n];
            h[j + half] = impulse * window[j + half + 1] * norm;
        }
        return h;
    }

    /// <summary>The whitening FIR as a centred convolution filter, for <see cref="PolyphaseResampler.Resample(ReadOnlySpan{double}, ResamplingFilter)"/> (one block) or <see cref="StreamingResampler"/> (a stream; same samples).</summary>
    public static ResamplingFilter FirFilter(FrequencySeries asd, double sampleRate, int taps, double lowCornerHz = 0) =>
        ResamplingFilter.Convolution(FirFromAsd(asd, sampleRate, taps, lowCornerHz));

    /// <summary>The whitening FIR applied to a stream in the frequency domain (FFT overlap-save); same samples as <see cref="FirFilter"/> to FFT rounding, much cheaper for long FIRs.</summary>
    public static OverlapSaveFilter OverlapSave(FrequencySeries asd, double sampleRate, int taps, double lowCornerHz = 0) =>
        new(FirFromAsd(asd, sampleRate, taps, lowCornerHz));

    private static double Gain(FrequencySeries asd, double hz, double lowCornerHz)
    {
        if (hz < lowCornerHz) return 0;
        double a = asd.Interpolate(hz);
        return a > 0 && double.IsFinite(a) ? 1.0 / a : 0.0;
    }
}
