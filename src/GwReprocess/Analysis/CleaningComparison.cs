using System.Text.Json.Serialization;
using GwReprocess.Data;
using GwReprocess.Dsp;
using GwReprocess.Time;
using GwReprocess.Workflow;

namespace GwReprocess.Analysis;

/// <summary>ASD of the cleaned strain over the ASD of the raw strain for one detector over one frame.</summary>
/// <param name="Ifo">Detector prefix.</param>
/// <param name="RawChannel">The input strain channel.</param>
/// <param name="CleanedChannel">The cleaned channel (strain channel + suffix).</param>
/// <param name="Frequencies">Frequencies of <paramref name="Ratio"/>, 10–1000 Hz.</param>
/// <param name="Ratio">ASD(cleaned) / ASD(raw) per frequency.</param>
/// <param name="RatioAt60Hz">The ratio at the frequency bin nearest 60 Hz (the mains line the demo couples in).</param>
/// <param name="MedianRatio20To500Hz">Median of the ratio over 20–500 Hz: ≈1 when cleaning leaves the broadband noise alone.</param>
/// <param name="MaxRatio20To500Hz">Largest ratio over 20–500 Hz: how much noise the cleaning added at worst.</param>
/// <param name="FractionAbove110Percent20To500Hz">Share of the 20–500 Hz bins where the cleaned ASD exceeds the raw by more than 10 %.</param>
public sealed record AsdRatio(string Ifo, string RawChannel, string CleanedChannel,
    [property: JsonIgnore] double[] Frequencies, [property: JsonIgnore] double[] Ratio, double RatioAt60Hz, double MedianRatio20To500Hz,
    double MaxRatio20To500Hz, double FractionAbove110Percent20To500Hz)
{
    /// <summary>The ratio at each known line and sideband (from the simulation's coupling truth; empty for real data).</summary>
    public IReadOnlyList<SpectralFeatureRatio> Features { get; init; } = [];

    /// <summary>1 Hz bands in 20–50 and 80–500 Hz more than 2 Hz from every known feature.</summary>
    public int BroadbandBands { get; init; }

    /// <summary>How many of them have a cleaned/raw ASD ratio (their power summed) outside 0.9–1.1.</summary>
    public int BroadbandOutside10Percent { get; init; }

    /// <summary>That ratio in the band furthest from 1.</summary>
    public double BroadbandWorst { get; init; } = double.NaN;
}

/// <summary>Cleaned/raw ASD ratios of every detector over one cleaned frame, and what could not be compared.</summary>
/// <param name="FrameGps">GPS start of the compared span (a cleaned file's span).</param>
/// <param name="FrameSeconds">Its length.</param>
/// <param name="FftSeconds">Welch segment length (Hann, 50 % overlap, median average).</param>
/// <param name="SampleRate">Rate both series are compared at (the cleaned rate; raw strain is resampled to it).</param>
/// <param name="Detectors">One ratio per detector with both series.</param>
/// <param name="Notes">Detectors left out, and why.</param>
public sealed record CleaningComparison(double FrameGps, double FrameSeconds, double FftSeconds, double SampleRate,
    IReadOnlyList<AsdRatio> Detectors, IReadOnlyList<string> Notes)
{
    /// <summary>Lowest and highest frequency kept in the ratio (the plot's axis).</summary>
    public const double LowHz = 10, HighHz = 1000;

    /// <summary>
    /// Compares the cleaned frame at <paramref name="frame"/> (default: the earliest cleaned file) with the raw strain of the
    /// same span from the workflow's data source; null with a note when there is nothing to compare.
    /// </summary>
    public static async Task<(CleaningComparison? Result, string? Note)> ComputeAsync(RunOutputs outputs, WorkflowConfig workflow, string runDirectory,
        GpsTime? frame, CancellationToken cancellationToken)
    {
        var files = new List<(string Ifo, string Key, Segment Span)>();
        foreach (var key in await outputs.ListAsync("cleaned/", ".gwf", cancellationToken).ConfigureAwait(false))
        {
            var parts = key.Split('/');
            if (parts.Length != 3 || FrameFileName.TryParse(parts[2]) is not { } name) continue;
            files.Add((parts[1], key, name.Span));
        }
        if (files.Count == 0) return (null, $"no cleaned frames under {outputs.UriOf("cleaned/")}");

        Segment span;
        if (frame is GpsTime t)
        {
            var hit = files.Where(f => f.Span.Contains(t)).OrderBy(f => f.Ifo, StringComparer.Ordinal).ToList();
            if (hit.Count == 0) return (null, $"no cleaned frame under {outputs.UriOf("cleaned/")} contains GPS {t}");
            span = hit[0].Span;
        }
        else
        {
            // The earliest full-length file: the shorter ones sit at segment edges, and the first full one lies past a training span at the segment's start.
            var longest = files.Max(f => f.Span.Duration);
            span = files.Where(f => f.Span.Duration == longest).MinBy(f => (f.Span.Start, f.Ifo)).Span;
        }

        string scratch = Path.Combine(Path.GetTempPath(), $"gwrepro-asd-{Guid.NewGuid():N}");
        var ratios = new List<AsdRatio>();
        var notes = new List<string>();
        double fft = 0, rate = 0;
        try
        {
            foreach (var detector in workflow.Detectors)
            {
                var file = files.FirstOrDefault(f => f.Ifo == detector.Ifo && f.Span.Intersects(span));
                if (file.Key is null) { notes.Add($"{detector.Ifo}: no cleaned frame overlaps {span}"); continue; }
                var common = file.Span.Intersect(span)!.Value;
                string cleanedChannel = detector.Strain.Value + workflow.Outputs.ChannelSuffix;
                TimeSeries cleaned;
                await using (var gwf = await outputs.OpenGwfAsync(file.Key, cancellationToken).ConfigureAwait(false))
                    cleaned = await gwf.ReadAsync(cleanedChannel, common, cancellationToken).ConfigureAwait(false);

                var (source, why) = await RawFrames.OpenAsync(workflow, runDirectory, detector.Ifo, common, scratch, cancellationToken).ConfigureAwait(false);
                if (source is null) { notes.Add($"{detector.Ifo}: no raw strain to compare with ({why})"); continue; }
                TimeSeries raw;
                try
                {
                    raw = (await source.ReadAsync([detector.Strain.Value], common, cancellationToken).ConfigureAwait(false)).Channels[0];
                }
                catch (BadInputException e)
                {
                    notes.Add($"{detector.Ifo}: raw strain over {common} cannot be read ({e.Message})");
                    continue;
                }
                raw = raw.Resample(cleaned.SampleRate);
                fft = WelchSeconds(common.Duration.TotalSeconds);
                if (fft == 0) { notes.Add($"{detector.Ifo}: {common.Duration.TotalSeconds} s is too short for a Welch ASD"); continue; }
                rate = cleaned.SampleRate.Hertz;
                ratios.Add(Ratio(detector.Ifo, raw, cleaned, fft, FeaturesOf(workflow, detector.Ifo)));
            }
        }
        finally
        {
            if (Directory.Exists(scratch)) Directory.Delete(scratch, recursive: true);
        }
        if (ratios.Count == 0) return (null, $"no detector could be compared over {span}: {string.Join("; ", notes)}");
        return (new CleaningComparison(span.Start.TotalSeconds, span.Duration.TotalSeconds, fft, rate, ratios, notes), null);
    }

    /// <summary>Welch segment length for a span: 4 s (0.25 Hz bins) when the span holds at least 8 segments, else shorter powers of two down to 0.25 s; 0 when too short.</summary>
    public static double WelchSeconds(double spanSeconds)
    {
        for (double f = 4; f >= 0.25; f /= 2)
            if (spanSeconds >= 8 * f) return f;
        return 0;
    }

    /// <summary>The mains lines and bilinear sidebands a simulated workflow's detector carries; none for real data.</summary>
    public static IReadOnlyList<(string Kind, double Hz)> FeaturesOf(WorkflowConfig workflow, string ifo)
    {
        if (workflow.Data.Kind != DataSourceKind.Simulated) return [];
        var truth = new Simulation.DetectorSimulator(WorkflowSimulation.Options(workflow), ifo).Truth;
        return [.. truth.Lines.Select(f => ("line", f)), .. truth.Sidebands.Select(f => ("sideband", f))];
    }

    /// <summary>The cleaned/raw ASD ratio of two series of equal rate and span over <see cref="LowHz"/>–<see cref="HighHz"/>, with the ratio at each of <paramref name="features"/>.</summary>
    public static AsdRatio Ratio(string ifo, TimeSeries raw, TimeSeries cleaned, double fftSeconds, IReadOnlyList<(string Kind, double Hz)>? features = null)
    {
        var rawAsd = raw.Asd(fftSeconds, fftSeconds / 2, SpectralAverage.Median);
        var cleanAsd = cleaned.Asd(fftSeconds, fftSeconds / 2, SpectralAverage.Median);
        var r = rawAsd.Values.Span;
        var c = cleanAsd.Values.Span;
        var f = new List<double>();
        var ratio = new List<double>();
        var band = new List<double>();
        double best = double.MaxValue, at60 = double.NaN;
        for (int i = 0; i < Math.Min(r.Length, c.Length); i++)
        {
            double hz = rawAsd.FrequencyAt(i);
            if (hz < LowHz || hz > HighHz || !(r[i] > 0)) continue;
            double q = c[i] / r[i];
            f.Add(hz);
            ratio.Add(q);
            if (hz is >= 20 and <= 500) band.Add(q);
            if (Math.Abs(hz - 60) < best) { best = Math.Abs(hz - 60); at60 = q; }
        }
        double median = double.NaN, max = double.NaN, above = double.NaN;
        if (band.Count > 0)
        {
            median = Percentiles.Of(band, 50);
            max = band.Max();
            above = band.Count(q => q > 1.1) / (double)band.Count;
        }
        features ??= [];
        var at = new List<SpectralFeatureRatio>();
        foreach (var (kind, hz) in features)
        {
            int i = (int)Math.Round(hz / rawAsd.Df);
            if (i < Math.Min(r.Length, c.Length) && r[i] > 0) at.Add(new SpectralFeatureRatio(kind, hz, c[i] / r[i]));
        }
        // 1 Hz bands away from every feature: power summed over the band's bins, so one noisy bin does not decide it.
        int bands = 0, outside = 0;
        double worst = double.NaN;
        for (int lo = 20; lo < 500; lo++)
        {
            if (lo is >= 50 and < 80 || features.Any(x => Math.Max(lo - x.Hz, x.Hz - (lo + 1)) <= 2)) continue;
            double rawPower = 0, cleanPower = 0;
            for (int i = (int)Math.Ceiling(lo / rawAsd.Df); i < Math.Min(r.Length, c.Length) && rawAsd.FrequencyAt(i) < lo + 1; i++)
            {
                rawPower += r[i] * r[i];
                cleanPower += c[i] * c[i];
            }
            if (!(rawPower > 0)) continue;
            double q = Math.Sqrt(cleanPower / rawPower);
            bands++;
            if (q is < 0.9 or > 1.1) outside++;
            if (double.IsNaN(worst) || Math.Abs(q - 1) > Math.Abs(worst - 1)) worst = q;
        }
        return new AsdRatio(ifo, raw.Channel.Value, cleaned.Channel.Value, [.. f], [.. ratio], at60, median, max, above)
        {
            Features = at, BroadbandBands = bands, BroadbandOutside10Percent = outside, BroadbandWorst = worst,
        };
    }
}
