using System.Text.Json.Serialization;
using GwReprocess.Data;
using GwReprocess.Dsp;
using GwReprocess.Frames.Hdf5;
using GwReprocess.Simulation;
using GwReprocess.Time;
using GwReprocess.Workflow;
using PureHDF;

namespace GwReprocess.Analysis;

/// <summary>One injection as the search saw it.</summary>
/// <param name="GeocentGps">Geocentric coalescence time.</param>
/// <param name="NetworkSnr">Optimal network SNR from the injection table.</param>
/// <param name="MaxScore">Highest score of the windows that contain the coalescence time; null where no window does (not scored).</param>
public sealed record ScoredInjection(double GeocentGps, double NetworkSnr, double? MaxScore);

/// <summary>
/// The search's scores over the run with the simulated injections marked: the background threshold (99.9th percentile of
/// the scores of windows away from every injection) and how many loud injections score above it.
/// </summary>
/// <param name="Channel">Score channel (e.g. <c>H1L1:BBH_SCORE</c>).</param>
/// <param name="Files">Score files read.</param>
/// <param name="WindowSeconds">Length of each scored window (the files' <c>window_seconds</c>).</param>
/// <param name="Scores">Scores read.</param>
/// <param name="BackgroundScores">Scores of windows that overlap no injection's exclusion interval.</param>
/// <param name="Threshold">99.9th percentile of the background scores (NaN without background).</param>
/// <param name="Injections">Injections in the scored span (empty without an injection table).</param>
/// <param name="LoudSnr">Network SNR from which an injection counts as loud.</param>
/// <param name="Loud">Loud injections with at least one window containing their coalescence time.</param>
/// <param name="LoudAboveThreshold">Of those, how many score above <paramref name="Threshold"/>.</param>
/// <param name="InjectionTable">Where the injections came from, or null.</param>
public sealed record InjectionRecovery(string Channel, int Files, double WindowSeconds, int Scores, int BackgroundScores, double Threshold,
    IReadOnlyList<ScoredInjection> Injections, double LoudSnr, int Loud, int LoudAboveThreshold, string? InjectionTable)
{
    /// <summary>Percentile of the background scores used as the threshold.</summary>
    public const double ThresholdPercentile = 99.9;

    /// <summary>Seconds after coalescence a window still counts as touching an injection (ringdown, timing slop between detectors).</summary>
    public const double AfterSeconds = 1;

    /// <summary>Low frequency (Hz) the in-band duration before coalescence is computed from.</summary>
    public const double LowHz = 20;

    /// <summary>Window end times (GPS s) of every score, in time order, for the plot.</summary>
    [JsonIgnore] public double[] Times { get; init; } = [];

    /// <summary>The scores, aligned with <see cref="Times"/>.</summary>
    [JsonIgnore] public double[] Values { get; init; } = [];

    /// <summary>The background windows in time order, for false-alarm rates.</summary>
    [JsonIgnore] public BackgroundTriggers Triggers { get; init; } = new([], [], 0);

    /// <summary>Start of the scored span: the first window's start (GPS s).</summary>
    public double SpanStart => Times.Length > 0 ? Times[0] - WindowSeconds : double.NaN;

    /// <summary>End of the scored span: the last window's end (GPS s).</summary>
    public double SpanEnd => Times.Length > 0 ? Times[^1] : double.NaN;

    /// <summary>
    /// Reads <c>scores/*.h5</c> of the outputs and the injection table (<paramref name="injectionTable"/>, else the simulated
    /// frames directory's <c>injections.csv</c>); null with a note when the run has no scores.
    /// </summary>
    public static async Task<(InjectionRecovery? Result, string? Note)> ComputeAsync(RunOutputs outputs, WorkflowConfig? workflow, string runDirectory,
        string? injectionTable, double loudSnr, CancellationToken cancellationToken)
    {
        var keys = await outputs.ListAsync("scores/", ".h5", cancellationToken).ConfigureAwait(false);
        if (keys.Count == 0) return (null, $"no score files under {outputs.UriOf("scores/")}");
        var series = new List<TimeSeries>();
        double window = double.NaN;
        foreach (var key in keys)
        {
            var (s, w) = await outputs.WithLocalFileAsync(key, ReadScores, cancellationToken).ConfigureAwait(false);
            series.Add(s);
            if (w is double x) window = x;
        }
        series.Sort((a, b) => a.T0.CompareTo(b.T0));
        if (double.IsNaN(window)) window = 1 / series[0].SampleRate.Hertz;

        string? tablePath = null;
        if (injectionTable is not null)
        {
            if (!File.Exists(injectionTable)) throw new BadInputException($"{injectionTable}: no such injection table");
            tablePath = injectionTable;
        }
        else if (workflow?.Data.Simulation is { } sim)
        {
            string dir = Path.IsPathRooted(sim.Directory) ? sim.Directory : Path.Combine(Path.GetFullPath(runDirectory), sim.Directory);
            string candidate = Path.Combine(dir, Simulation.InjectionTable.FileName);
            if (File.Exists(candidate)) tablePath = candidate;
        }
        IReadOnlyList<BbhInjection> injections = tablePath is null ? [] : Simulation.InjectionTable.Read(tablePath);
        var result = Evaluate(series, window, injections, loudSnr) with { InjectionTable = tablePath };
        return (result, null);
    }

    /// <summary>The score series of one file and its <c>window_seconds</c> root attribute (null when absent).</summary>
    public static (TimeSeries Series, double? WindowSeconds) ReadScores(string path)
    {
        var file = Hdf5TimeSeriesReader.Read(path);
        var s = file.Series.FirstOrDefault(x => x.Channel.Value.EndsWith(":BBH_SCORE", StringComparison.Ordinal)) ?? file.Series[0];
        using var h5 = H5File.OpenRead(path);
        double? window = null;
        if (h5.AttributeExists("window_seconds"))
        {
            var a = h5.Attribute("window_seconds");
            window = a.Type.Class == H5DataTypeClass.FloatingPoint && a.Type.Size == 4 ? a.Read<float>() : a.Read<double>();
        }
        return (s, window);
    }

    /// <summary>
    /// Scores the injections: window i of a series covers [t0 + i/r − w, t0 + i/r). A window is background when it overlaps no
    /// injection's [t_c − τ(20 Hz) − 1 s, t_c + 1 s] (τ: Newtonian time to coalescence from 20 Hz); an injection's score is the
    /// highest of the windows that contain t_c.
    /// </summary>
    public static InjectionRecovery Evaluate(IReadOnlyList<TimeSeries> scores, double windowSeconds, IReadOnlyList<BbhInjection> injections, double loudSnr)
    {
        if (scores.Count == 0) throw new ArgumentException("no score series", nameof(scores));
        int total = 0;
        foreach (var s in scores) total += s.Length;
        var times = new double[total];
        var values = new double[total];
        var strides = new double[total];
        int n = 0;
        foreach (var s in scores)
        {
            var v = s.Samples.Span;
            double t0 = s.T0.TotalSeconds, dt = 1 / s.SampleRate.Hertz;
            for (int i = 0; i < v.Length; i++, n++)
            {
                times[n] = t0 + i * dt;
                values[n] = v[i];
                strides[n] = dt;
            }
        }
        double first = times[0] - windowSeconds, last = times[^1];
        var inSpan = injections.Where(j => j.GeocentTime.TotalSeconds >= first && j.GeocentTime.TotalSeconds < last)
            .OrderBy(j => j.GeocentTime).ToList();

        // Exclusion intervals, sorted by start, swept along the (time-ordered) windows.
        var exclusions = inSpan.Select(j => (Start: j.GeocentTime.TotalSeconds - TaylorF2.TimeToCoalescence(j.ChirpMass, LowHz) - 1,
            End: j.GeocentTime.TotalSeconds + AfterSeconds)).OrderBy(e => e.Start).ToArray();
        var background = new List<double>(total);
        var follows = new List<bool>(total);
        double livetime = 0;
        int previous = -2;
        var maxScore = new double?[inSpan.Count];
        for (int i = 0; i < total; i++)
        {
            double a = times[i] - windowSeconds, b = times[i];
            bool clean = true;
            foreach (var e in exclusions)
            {
                if (e.Start >= b) break;
                if (e.End > a) { clean = false; break; }
            }
            if (!clean) continue;
            background.Add(values[i]);
            // Consecutive: the window right after the previous background one, one stride on (half a stride of slack for
            // rounding); a gap between files or an injection's excluded windows ends a cluster.
            follows.Add(previous == i - 1 && times[i] - times[i - 1] <= 1.5 * strides[i]);
            livetime += strides[i];
            previous = i;
        }
        for (int k = 0; k < inSpan.Count; k++)
        {
            double tc = inSpan[k].GeocentTime.TotalSeconds;
            // Windows containing tc end in (tc, tc + w]: a binary search for the first, then a short walk.
            int i = LowerBound(times, tc);
            if (i < total && times[i] == tc) i++;
            for (; i < total && times[i] - windowSeconds <= tc; i++)
                maxScore[k] = maxScore[k] is double m ? Math.Max(m, values[i]) : values[i];
        }
        double threshold = background.Count > 0 ? Percentiles.Of(background, ThresholdPercentile) : double.NaN;
        var scored = inSpan.Select((j, k) => new ScoredInjection(j.GeocentTime.TotalSeconds, j.NetworkSnr, maxScore[k])).ToList();
        int loud = scored.Count(s => s.NetworkSnr >= loudSnr && s.MaxScore is not null);
        int above = scored.Count(s => s.NetworkSnr >= loudSnr && s.MaxScore is double m && m > threshold);
        return new InjectionRecovery(scores[0].Channel.Value, scores.Count, windowSeconds, total, background.Count, threshold, scored, loudSnr, loud, above, null)
        {
            Times = times,
            Values = values,
            Triggers = new BackgroundTriggers(background, follows, livetime),
        };
    }

    private static int LowerBound(double[] sorted, double value)
    {
        int lo = 0, hi = sorted.Length;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (sorted[mid] < value) lo = mid + 1; else hi = mid;
        }
        return lo;
    }
}
