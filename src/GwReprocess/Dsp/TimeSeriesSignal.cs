using GwReprocess.Data;

namespace GwReprocess.Dsp;

/// <summary>gwpy-shaped one-liners on <see cref="TimeSeries"/>: <c>ts.Resample(new SampleRate(4096))</c>, <c>ts.Bandpass(20, 500)</c>, <c>ts.Asd(4, 2)</c>.</summary>
public static class TimeSeriesSignal
{
    /// <summary>Resamples with SciPy's <c>resample_poly</c> default filter; the first output sample keeps <see cref="TimeSeries.T0"/>.</summary>
    /// <exception cref="BadInputException">The rates do not reduce to up/down ≤ <see cref="ResamplingFilter.MaxFactor"/> (message names the channel).</exception>
    public static TimeSeries Resample(this TimeSeries series, SampleRate rate)
    {
        if (series.SampleRate == rate) return series;
        var filter = ResamplingFilter.ForRates(series.SampleRate, rate, series.Channel.ToString());
        return series.Resample(rate, filter);
    }

    /// <summary>Resamples with a prepared filter whose up/down must take the series' rate to <paramref name="rate"/>.</summary>
    public static TimeSeries Resample(this TimeSeries series, SampleRate rate, ResamplingFilter filter)
    {
        if (Math.Abs(series.SampleRate.Hertz * filter.Up / filter.Down - rate.Hertz) > 1e-9 * rate.Hertz)
            throw new ArgumentException($"{series.Channel}: filter {filter.Up}/{filter.Down} does not take {series.SampleRate} to {rate}", nameof(filter));
        var y = PolyphaseResampler.Resample(series.Samples.Span, filter);
        return new TimeSeries(series.Channel, series.T0, rate, y, series.Unit);
    }

    /// <summary>Resamples several channels to one rate, in parallel over channels (order kept).</summary>
    public static TimeSeries[] ResampleAll(IReadOnlyList<TimeSeries> channels, SampleRate rate, int maxDegreeOfParallelism = -1)
    {
        var result = new TimeSeries[channels.Count];
        Parallel.For(0, channels.Count, new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism },
            i => result[i] = channels[i].Resample(rate));
        return result;
    }

    /// <summary>Butterworth band-pass of <paramref name="order"/> (2·order poles), zero-phase (<c>sosfiltfilt</c>) unless <paramref name="zeroPhase"/> is false (<c>sosfilt</c>).</summary>
    public static TimeSeries Bandpass(this TimeSeries series, double lowHz, double highHz, int order = 8, bool zeroPhase = true) =>
        series.Apply(Design(series, () => Butterworth.Bandpass(order, lowHz, highHz, series.SampleRate.Hertz)), zeroPhase);

    /// <summary>Butterworth high-pass, zero-phase by default.</summary>
    public static TimeSeries Highpass(this TimeSeries series, double cutoffHz, int order = 8, bool zeroPhase = true) =>
        series.Apply(Design(series, () => Butterworth.Highpass(order, cutoffHz, series.SampleRate.Hertz)), zeroPhase);

    /// <summary>Butterworth low-pass, zero-phase by default.</summary>
    public static TimeSeries Lowpass(this TimeSeries series, double cutoffHz, int order = 8, bool zeroPhase = true) =>
        series.Apply(Design(series, () => Butterworth.Lowpass(order, cutoffHz, series.SampleRate.Hertz)), zeroPhase);

    /// <summary>Filters with any second-order sections, zero-phase by default.</summary>
    public static TimeSeries Apply(this TimeSeries series, SecondOrderSections sos, bool zeroPhase = true)
    {
        double[] y;
        try
        {
            y = zeroPhase ? SosFilter.FilterZeroPhase(sos, series.Samples.Span) : SosFilter.Filter(sos, series.Samples.Span);
        }
        catch (BadInputException e)
        {
            throw new BadInputException($"{series.Channel}: {e.Message}", e);
        }
        return series.WithSamples(y);
    }

    /// <summary>Welch ASD as gwpy's <c>ts.asd(fftlength, overlap, method)</c>: Hann window, segments of <paramref name="fftLength"/> seconds overlapping by <paramref name="overlap"/> seconds.</summary>
    public static FrequencySeries Asd(this TimeSeries series, double fftLength, double overlap, SpectralAverage method = SpectralAverage.Median)
    {
        var psd = series.Psd(fftLength, overlap, method);
        return psd.Sqrt(string.IsNullOrEmpty(series.Unit) ? "1/rtHz" : series.Unit + "/rtHz");
    }

    /// <summary>Welch one-sided PSD density (see <see cref="Asd"/>).</summary>
    public static FrequencySeries Psd(this TimeSeries series, double fftLength, double overlap, SpectralAverage method = SpectralAverage.Median)
    {
        string name = series.Channel.ToString();
        if (!(fftLength > 0)) throw new BadInputException($"{name}: FFT length must be positive, got {fftLength} s");
        if (!(overlap >= 0 && overlap < fftLength)) throw new BadInputException($"{name}: overlap must be at least 0 s and below the FFT length of {fftLength} s, got {overlap} s");
        int nperseg = (int)Math.Round(fftLength * series.SampleRate.Hertz);
        int noverlap = (int)Math.Round(overlap * series.SampleRate.Hertz);
        if (series.Length < nperseg)
            throw new BadInputException($"{name}: {series.Duration} of data is shorter than one FFT length of {fftLength} s");
        var psd = Welch.Psd(series.Samples.Span, series.SampleRate.Hertz, nperseg, noverlap, method, name);
        return new FrequencySeries(name, psd.F0, psd.Df, psd.Values, string.IsNullOrEmpty(series.Unit) ? "1/Hz" : series.Unit + "^2/Hz");
    }

    /// <summary>Whitens by <paramref name="asd"/> with a zero-phase FIR of <paramref name="fftLength"/>·fs taps (made odd), as gwpy's <c>whiten</c>; unit variance for noise with that ASD. Applied by FFT overlap-save.</summary>
    public static TimeSeries Whiten(this TimeSeries series, FrequencySeries asd, double fftLength = 2, double lowCornerHz = 0)
    {
        int taps = (int)Math.Round(fftLength * series.SampleRate.Hertz) | 1;
        var filter = Whitening.OverlapSave(asd, series.SampleRate.Hertz, taps, lowCornerHz);
        var head = filter.Process(series.Samples.Span);
        var tail = filter.Flush();
        var y = new double[series.Length];
        head.CopyTo(y, 0);
        tail.CopyTo(y, head.Length);
        return series.WithSamples(y);
    }

    private static SecondOrderSections Design(TimeSeries series, Func<SecondOrderSections> design)
    {
        try
        {
            return design();
        }
        catch (BadInputException e)
        {
            throw new BadInputException($"{series.Channel}: {e.Message}", e);
        }
    }
}
