namespace GwReprocess.Dsp;

/// <summary>Whitening of one window by the PSD of the background span just before it (aframe's preprocessor): the double-precision reference of the serving whitener.</summary>
/// <remarks>
/// A series of N = background + K + c samples (c = (T−1)/2, the FIR's half-length) holds a background b = x[0 : N−K−c],
/// the window x[N−K−c : N−c] and c samples after it. The ASD is b's mean Welch PSD (Hann segments of L samples, overlap L/2,
/// constant detrend, one-sided density), square-rooted; the FIR is <see cref="Whitening.FirFromAsd"/> of it; the output is
/// the centred convolution y[n] = Σ_j h[j]·x[N−K−c + n + c − j] over the window's K samples, with real samples on both
/// sides: the window ends c samples before the newest sample, as aframe's whitener crops half its filter length at each
/// end. (A window whitened up to the newest sample would meet zeros in the last c samples' taps, and a truncated whitening
/// FIR passes the strain's seismic band there: a rms hundreds of times the whitened floor.)
/// </remarks>
public static class StreamWhitening
{
    /// <summary>Checks the sizes the whitener needs; errors name <paramref name="name"/>.</summary>
    public static void Validate(string name, int backgroundSamples, int kernel, int segment, int taps, double lowCornerHz, double sampleRate, int? delay = null)
    {
        if (!(sampleRate > 0)) throw new BadInputException($"{name}: sample rate must be positive, got {sampleRate}");
        if (kernel < 1) throw new BadInputException($"{name}: window of {kernel} samples must be at least 1");
        if (segment < 4 || segment % 2 != 0) throw new BadInputException($"{name}: Welch segment of {segment} samples must be even and at least 4 (the overlap is half a segment)");
        if (backgroundSamples < segment) throw new BadInputException($"{name}: background of {backgroundSamples} samples is shorter than one Welch segment of {segment}");
        if (taps < 3 || taps % 2 == 0 || taps >= segment)
            throw new BadInputException($"{name}: whitening FIR of {taps} taps must be odd, at least 3 and shorter than the {segment}-sample Welch segment (so its grid is the Welch bins)");
        if (!(lowCornerHz >= 0) || lowCornerHz >= sampleRate / 2) throw new BadInputException($"{name}: low corner {lowCornerHz} Hz must be at least 0 and below Nyquist ({sampleRate / 2} Hz)");
        if (delay < Delay(taps))
            throw new BadInputException($"{name}: a window delay of {delay} samples is shorter than half the {taps}-tap FIR ({Delay(taps)}): its last taps would meet no data");
    }

    /// <summary>Samples each window ends before the newest: the FIR's half-length (T−1)/2.</summary>
    public static int Delay(int taps) => (taps - 1) / 2;

    /// <summary>Samples of stream one window needs: its background, itself, and the <see cref="Delay"/> after it.</summary>
    public static int SeriesLength(int backgroundSamples, int kernel, int taps) => backgroundSamples + kernel + Delay(taps);

    /// <summary>The whitening FIR (<paramref name="taps"/> coefficients) designed from <paramref name="background"/>'s mean Welch ASD.</summary>
    public static double[] Fir(ReadOnlySpan<double> background, int segment, int taps, double lowCornerHz, double sampleRate)
    {
        var asd = Welch.Asd(background, sampleRate, segment, segment / 2, SpectralAverage.Mean);
        return Whitening.FirFromAsd(asd, sampleRate, taps, lowCornerHz);
    }

    /// <summary>Whitens the <paramref name="kernel"/> samples of <paramref name="series"/> that end <paramref name="delay"/> (default <see cref="Delay"/>, at least it) before its end by the background before them; returns K samples.</summary>
    public static double[] Window(ReadOnlySpan<double> series, int kernel, int segment, int taps, double lowCornerHz, double sampleRate, int? delay = null)
    {
        int after = delay ?? Delay(taps);
        int background = series.Length - kernel - after;
        Validate("stream whitening", background, kernel, segment, taps, lowCornerHz, sampleRate, after);
        var h = Fir(series[..background], segment, taps, lowCornerHz, sampleRate);
        int c = Delay(taps);
        // y[i] = Σ_j h[j]·x[centre − j] as a dot product of the reversed taps with a forward slice of the series.
        var reversed = h.AsSpan().ToArray();
        Array.Reverse(reversed);
        var y = new double[kernel];
        for (int i = 0; i < kernel; i++)
        {
            int centre = background + i + c;
            // The delay ≥ c after the window and background ≥ segment > c keep every tap inside the series.
            y[i] = System.Numerics.Tensors.TensorPrimitives.Dot(reversed, series.Slice(centre - taps + 1, taps));
        }
        return y;
    }
}
