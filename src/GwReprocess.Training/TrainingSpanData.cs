using System.Globalization;
using GwReprocess.Data;
using GwReprocess.Dsp;
using GwReprocess.Frames;
using GwReprocess.Models;
using GwReprocess.Time;

namespace GwReprocess.Training;

/// <summary>One detector's training span as the network sees it: standardised witnesses and the band-passed, scaled strain, at the processing rate.</summary>
/// <param name="Ifo">The detector.</param>
/// <param name="Span">The span read.</param>
/// <param name="SampleRate">The processing rate every channel was resampled to (Hz).</param>
/// <param name="Channels">The witnesses, in model order.</param>
/// <param name="Scaling">Each witness's standardisation over the span.</param>
/// <param name="StrainUnit">The strain channel's unit, kept for the model's metadata.</param>
/// <param name="Witnesses">[channel][sample], each standardised with <see cref="Scaling"/>.</param>
/// <param name="Target">The strain band-passed to the cleaning band, divided by <see cref="TargetScale"/>.</param>
/// <param name="TargetScale">Standard deviation of the band-passed strain (strain units): the network's output unit.</param>
internal sealed record TrainingSpanData(string Ifo, Segment Span, int SampleRate, IReadOnlyList<ChannelName> Channels, IReadOnlyList<ChannelScaling> Scaling,
    float[][] Witnesses, float[] Target, double TargetScale, string StrainUnit)
{
    /// <summary>True when the scales are a linear cleaner's that the client applies (the exported network then takes standardised witnesses).</summary>
    public bool SharedScaling { get; init; }

    /// <summary>Samples per channel.</summary>
    public int Length => Target.Length;

    /// <summary>
    /// Reads <paramref name="channels"/> over <paramref name="span"/>, resamples every channel to <paramref name="sampleRate"/> as the client does,
    /// refuses NaN or infinite samples (naming channel and GPS time), standardises the witnesses over the span and band-passes
    /// the strain (order-8 Butterworth, zero phase, summed over the bands) as DeepClean's preprocessing does.
    /// </summary>
    /// <remarks>With <paramref name="highpass"/> every witness goes through it after resampling and before standardisation, as in the client. With <paramref name="linear"/> the target is what that linear cleaner leaves of the strain. With <paramref name="scaling"/> the witnesses are standardised with those scales (a linear cleaner's, which the new cleaner then shares its input with) instead of their own over the span.</remarks>
    public static async Task<TrainingSpanData> ReadAsync(FrameSource source, CleanerChannels channels, Segment span, int sampleRate,
        IReadOnlyList<(double Low, double High)> bands, CancellationToken cancellationToken, IReadOnlyList<ChannelScaling>? scaling = null, MultiChannelFir? linear = null,
        WitnessHighpass? highpass = null)
    {
        var names = channels.Witnesses.Select(w => w.Value).Prepend(channels.Strain.Value).ToList();
        var data = await source.ReadAsync(names, span, cancellationToken).ConfigureAwait(false);
        foreach (var series in data.Channels) RefuseNonFinite(series);
        var resampled = TimeSeriesSignal.ResampleAll(data.Channels, new SampleRate(sampleRate));
        int n = resampled.Min(s => s.Length);
        var witnesses = new float[channels.Witnesses.Count][];
        var standardised = new ReadOnlyMemory<double>[channels.Witnesses.Count];
        var scales = new ChannelScaling[channels.Witnesses.Count];
        for (int c = 0; c < witnesses.Length; c++)
        {
            // The client's preprocessing, the same function over the whole span: high-pass (when set), then standardise.
            ReadOnlySpan<double> w = highpass is null ? resampled[c + 1].Samples.Span : highpass.Apply(resampled[c + 1].Samples.Span, sampleRate);
            w = w[..n];
            scales[c] = scaling?[c] ?? ChannelScaling.Fit(w);
            var d = new double[n];
            var x = new float[n];
            double inv = 1 / scales[c].Scale;
            for (int i = 0; i < n; i++) x[i] = (float)(d[i] = (w[i] - scales[c].Mean) * inv);
            witnesses[c] = x;
            standardised[c] = d;
        }
        var strain = resampled[0];
        if (linear is not null)
        {
            // DeepClean learns what the linear cleaner leaves: its prediction (as its ONNX model computes it, in double) comes off first.
            var predicted = WienerFit.Predict(linear, standardised);
            var residual = strain.Samples.ToArray();
            for (int i = 0; i < n; i++) residual[i] -= predicted[i];
            strain = strain.WithSamples(residual);
        }
        double[] target = new double[n];
        foreach (var (low, high) in bands)
        {
            var passed = strain.Bandpass(low, high).Samples.Span;
            for (int i = 0; i < n; i++) target[i] += passed[i];
        }
        double scale = ChannelScaling.Fit(target).Scale;
        if (!(scale > 0) || scale == 1 && Array.TrueForAll(target, v => v == 0))
            throw new BadInputException($"{channels.Strain}: no signal in the cleaning band over {span}");
        var y = new float[n];
        for (int i = 0; i < n; i++) y[i] = (float)(target[i] / scale);
        return new TrainingSpanData(channels.Ifo, span, sampleRate, channels.Witnesses, scales, witnesses, y, scale, strain.Unit) { SharedScaling = scaling is not null };
    }

    /// <summary>Throws, naming the channel and GPS time, at the first NaN or infinite sample: <paramref name="network"/> cannot train on it.</summary>
    internal static void RefuseNonFinite(TimeSeries series, string network = "DeepClean")
    {
        var s = series.Samples.Span;
        for (int i = 0; i < s.Length; i++)
            if (!double.IsFinite(s[i]))
                throw new BadInputException(string.Create(CultureInfo.InvariantCulture,
                    $"{series.Channel}: {(double.IsNaN(s[i]) ? "NaN" : "infinite")} sample at GPS {series.TimeAt(i)}; {network} cannot train on it (choose a span without it)"));
    }
}
