using System.Globalization;
using GwReprocess.Data;
using GwReprocess.Dsp;
using GwReprocess.Frames;
using GwReprocess.Time;
using Inference;

namespace GwReprocess.Models;

/// <summary>A detector's fitted Wiener cleaner: the taps, and the witness standardisation the client must apply (in this channel order).</summary>
/// <remarks><see cref="StrainAsd"/> is the raw strain's ASD over the fit span (median Welch, 2 s segments): the reference the post-processing whitens with.</remarks>
public sealed record WienerCleaner(string Ifo, IReadOnlyList<ChannelName> Witnesses, IReadOnlyList<ChannelScaling> Scaling, MultiChannelFir Fir, FrequencySeries StrainAsd)
{
    /// <summary>Config parameter listing the witness channels in model order.</summary>
    public const string ChannelsParameter = "witness_channels";

    /// <summary>Config parameter with each witness's <c>mean:scale</c>, in the same order.</summary>
    public const string ScalingParameter = "witness_scaling";

    /// <summary>Config parameter naming the high-pass the witnesses went through before standardisation (<see cref="WitnessHighpass.ToString"/>); absent: none.</summary>
    public const string HighpassParameter = "witness_highpass";

    /// <summary>The high-pass the witnesses went through before the scaling was fitted (the client applies the same), or null for none.</summary>
    public WitnessHighpass? Highpass { get; init; }

    /// <summary>Stores channels and scaling in a model's config, so a client can check its channel order and standardise as the fit did.</summary>
    public void Annotate(ModelConfig config)
    {
        config.Parameters[ChannelsParameter] = new ModelParameter { StringValue = string.Join(',', Witnesses.Select(w => w.Value)) };
        config.Parameters[ScalingParameter] = new ModelParameter
        {
            StringValue = string.Join(',', Scaling.Select(s => string.Create(CultureInfo.InvariantCulture, $"{s.Mean:R}:{s.Scale:R}"))),
        };
        AnnotateHighpass(config, Highpass);
    }

    /// <summary>Records <paramref name="highpass"/> in a cleaner's config (removes the parameter for none).</summary>
    public static void AnnotateHighpass(ModelConfig config, WitnessHighpass? highpass)
    {
        if (highpass is null) config.Parameters.Remove(HighpassParameter);
        else config.Parameters[HighpassParameter] = new ModelParameter { StringValue = highpass.ToString() };
    }

    /// <summary>The witness high-pass a cleaner's config records (null: none); a value that does not parse is bad input naming the model.</summary>
    public static WitnessHighpass? HighpassOf(ModelConfig config)
    {
        if (!config.Parameters.TryGetValue(HighpassParameter, out var p)) return null;
        return WitnessHighpass.Parse(p.StringValue)
            ?? throw new BadInputException($"{config.Name}: parameter {HighpassParameter} '{p.StringValue}' is not '<cutoff> Hz order <n>'");
    }

    /// <summary>Reads channels and scaling back from a config written by <see cref="Annotate"/>; null when the model carries none.</summary>
    public static (IReadOnlyList<ChannelName> Channels, IReadOnlyList<ChannelScaling> Scaling)? FromConfig(ModelConfig config)
    {
        if (!config.Parameters.TryGetValue(ChannelsParameter, out var ch) || !config.Parameters.TryGetValue(ScalingParameter, out var sc)) return null;
        var channels = ch.StringValue.Split(',').Select(ChannelName.Parse).ToList();
        var scaling = sc.StringValue.Split(',').Select(p =>
        {
            var f = p.Split(':');
            return f.Length == 2 && double.TryParse(f[0], NumberStyles.Float, CultureInfo.InvariantCulture, out double m) && double.TryParse(f[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double s)
                ? new ChannelScaling(m, s) : throw new BadInputException($"{config.Name}: parameter {ScalingParameter} entry '{p}' is not mean:scale");
        }).ToList();
        if (channels.Count != scaling.Count) throw new BadInputException($"{config.Name}: {channels.Count} witness channels but {scaling.Count} scalings");
        return (channels, scaling);
    }
}

/// <summary>Fits a detector's Wiener cleaner on frames: witnesses → the strain's noise in a band.</summary>
public static class WienerCleanerFit
{
    /// <summary>
    /// Ridge term relative to witness power. Line witnesses are nearly sinusoidal, so many tap sets fit the line equally
    /// well while amplifying the witness's sensor noise across the band; the ridge picks the one with the least gain.
    /// </summary>
    public const double DefaultRidge = 1e-2;

    /// <summary>Reads the channels over <paramref name="span"/>, resamples them to <paramref name="rate"/>, standardises the witnesses and fits the taps.</summary>
    /// <remarks>The strain is band-passed to <paramref name="band"/> (order-8 Butterworth, zero phase) before fitting, so the fit does not chase seismic noise the witnesses cannot explain.</remarks>
    public static async Task<WienerCleaner> FitAsync(FrameSource source, string ifo, ChannelName strain, IReadOnlyList<ChannelName> witnesses, Segment span,
        SampleRate rate, int taps, int advance, (double Low, double High) band, double ridge = DefaultRidge, CancellationToken cancellationToken = default, WitnessHighpass? highpass = null)
    {
        if (witnesses.Count == 0) throw new BadInputException($"{ifo}: no witness channels to fit a Wiener cleaner on");
        var names = witnesses.Select(w => w.Value).Prepend(strain.Value).ToList();
        var data = await source.ReadAsync(names, span, cancellationToken).ConfigureAwait(false);
        var resampled = TimeSeriesSignal.ResampleAll(data.Channels, rate);
        int n = resampled.Min(s => s.Length);
        for (int c = 1; c < resampled.Length && highpass is not null; c++) resampled[c] = resampled[c].WithSamples(highpass.Apply(resampled[c].Samples.Span, rate.Hertz));
        var asd = resampled[0].Asd(fftLength: 2, overlap: 1, SpectralAverage.Median);
        // Fit in the metric of the strain's noise floor (lines excluded): the band-passed strain is red, so an unweighted
        // least squares spends its estimation noise where the strain is loud (15–30 Hz) and that noise, spread evenly over the
        // witnesses' band, lands where the strain is quiet (80–130 Hz: +4 % on average, +11 % in single 1 Hz bins). Whitening
        // target and witnesses alike by one filter leaves the taps unchanged in meaning (the filters commute).
        var floor = NoiseFloor(asd);
        var target = resampled[0].Bandpass(band.Low, band.High).Whiten(floor, WhiteningSeconds, band.Low).Samples[..n];
        var scaling = new ChannelScaling[witnesses.Count];
        var standardised = new ReadOnlyMemory<double>[witnesses.Count];
        for (int c = 0; c < witnesses.Count; c++)
        {
            var w = resampled[c + 1].Samples.Span[..n];
            scaling[c] = ChannelScaling.Fit(w);
            var x = new double[n];
            double inv = 1 / scaling[c].Scale;
            for (int i = 0; i < n; i++) x[i] = (w[i] - scaling[c].Mean) * inv;
            // Fit in the band too: witnesses carry most of their power far below it (angular control lines, red noise),
            // which would otherwise dominate the normal equations and the ridge. The filter is linear and the noise
            // estimate is band-passed before it is subtracted, so what the fit leaves out of band never reaches the strain.
            standardised[c] = resampled[c + 1].WithSamples(x).Bandpass(band.Low, band.High).Whiten(floor, WhiteningSeconds, band.Low).Samples;
        }
        string description = string.Create(CultureInfo.InvariantCulture,
            $"Wiener cleaner for {strain}: {witnesses.Count} witnesses × {taps} taps (advance {advance}), least squares on {span} in {band.Low}–{band.High} Hz{(highpass is null ? "" : $", witnesses high-passed at {highpass}")}");
        var fir = WienerFit.Fit(standardised, target, taps, advance, ridge, description);
        return new WienerCleaner(ifo, witnesses, scaling, fir, asd) { Highpass = highpass };
    }

    /// <summary>Length (s) of the whitening FIR applied to target and witnesses before the fit.</summary>
    public const double WhiteningSeconds = 0.5;

    /// <summary>The ASD with narrow lines removed: a running median over ±8 Hz.</summary>
    public static FrequencySeries NoiseFloor(FrequencySeries asd, double halfWidthHz = 8)
    {
        var v = asd.Values.Span;
        int half = Math.Max(1, (int)Math.Round(halfWidthHz / asd.Df));
        var floor = new double[v.Length];
        var window = new List<double>(2 * half + 1);
        for (int i = 0; i < v.Length; i++)
        {
            window.Clear();
            for (int j = Math.Max(0, i - half); j <= Math.Min(v.Length - 1, i + half); j++) window.Add(v[j]);
            window.Sort();
            floor[i] = window[window.Count / 2];
        }
        return new FrequencySeries(asd.Name, asd.F0, asd.Df, floor, asd.Unit);
    }
}
