namespace GwReprocess.Analysis;

/// <summary>
/// What a search's threshold means: the false-alarm rate it corresponds to (background events per hour), the detection
/// efficiency per network-SNR bin at that threshold, and the ROC (efficiency against false-alarm rate as the threshold sweeps the
/// background scores).
/// </summary>
/// <param name="Threshold">The search's threshold: the <see cref="InjectionRecovery.ThresholdPercentile"/>th percentile of its background scores.</param>
/// <param name="BackgroundWindows">Injection-free windows.</param>
/// <param name="LivetimeHours">Background livetime: background windows × stride (1/r), in hours.</param>
/// <param name="WindowsAboveThreshold">Background windows scoring above the threshold.</param>
/// <param name="BackgroundEvents">Clusters of consecutive above-threshold background windows (one cluster = one trigger).</param>
/// <param name="FarPerHour">Background events per hour of livetime.</param>
/// <param name="NaiveFap">Per-window false-alarm probability: windows above / background windows.</param>
/// <param name="WindowsPerHour">Background windows per hour of livetime (3600 r).</param>
/// <param name="NaiveFarPerHour"><paramref name="NaiveFap"/> × <paramref name="WindowsPerHour"/>: every above-threshold window counted as a trigger.</param>
/// <param name="Efficiency">Per network-SNR bin (edges <see cref="SnrEdges"/>): found / total at the threshold.</param>
/// <param name="InjectionsScored">Injections with a score that the bins and the ROC draw from.</param>
/// <param name="InjectionsBelowBins">Of those, how many have network SNR below the first bin's edge (in no bin).</param>
/// <param name="RocMinSnr">The ROC's efficiency is of injections with network SNR at or above this.</param>
/// <param name="RocInjections">Scored injections with network SNR ≥ <paramref name="RocMinSnr"/>.</param>
/// <param name="Roc">Thresholds from the highest background score down to the background's 90th percentile, FAR ascending.</param>
public sealed record SearchSensitivity(double Threshold, int BackgroundWindows, double LivetimeHours, int WindowsAboveThreshold, int BackgroundEvents,
    double FarPerHour, double NaiveFap, double WindowsPerHour, double NaiveFarPerHour, IReadOnlyList<EfficiencyBin> Efficiency,
    int InjectionsScored, int InjectionsBelowBins, double RocMinSnr, int RocInjections, IReadOnlyList<RocPoint> Roc)
{
    /// <summary>Lower edges of the network-SNR bins; the last bin is open (≥ 20). Two units wide where efficiency curves turn over, wider above.</summary>
    public static readonly IReadOnlyList<double> SnrEdges = [4, 6, 8, 10, 12, 14, 16, 20];

    /// <summary>Default network-SNR floor of the ROC's injections.</summary>
    public const double DefaultRocMinSnr = 8;

    /// <summary>Share of the background (from the top) the ROC sweeps: below it clusters merge and the rate stops meaning a false-alarm rate.</summary>
    public const double RocBackgroundFraction = 0.1;

    /// <summary>Most thresholds a ROC sweep samples (log-spaced in rank, so every decade of FAR gets points).</summary>
    public const int RocPoints = 120;

    /// <summary>
    /// The sensitivity of <paramref name="search"/> at its own threshold over <paramref name="injections"/> (default: all its scored
    /// injections; a comparison passes the injections every compared search scored).
    /// </summary>
    public static SearchSensitivity Compute(InjectionRecovery search, IReadOnlyList<ScoredInjection>? injections = null, double rocMinSnr = DefaultRocMinSnr)
    {
        var triggers = search.Triggers;
        double hours = triggers.LivetimeSeconds / 3600;
        double threshold = search.Threshold;
        int above = triggers.WindowsAbove(threshold), events = triggers.ClustersAbove(threshold);
        double fap = triggers.Windows > 0 ? (double)above / triggers.Windows : double.NaN;
        double perHour = hours > 0 ? triggers.Windows / hours : double.NaN;

        var scored = new List<(double Snr, double Score)>();
        foreach (var j in injections ?? search.Injections)
            if (j.MaxScore is double m) scored.Add((j.NetworkSnr, m));
        var bins = new List<EfficiencyBin>(SnrEdges.Count);
        for (int b = 0; b < SnrEdges.Count; b++)
        {
            double lo = SnrEdges[b];
            double? hi = b + 1 < SnrEdges.Count ? SnrEdges[b + 1] : null;
            int total = 0, found = 0;
            double sum = 0;
            foreach (var (snr, score) in scored)
            {
                if (snr < lo || (hi is double h && snr >= h)) continue;
                total++;
                sum += snr;
                if (score > threshold) found++;
            }
            bins.Add(new EfficiencyBin(lo, hi, total, found, total > 0 ? sum / total : double.NaN));
        }
        int below = scored.Count(s => s.Snr < SnrEdges[0]);
        var rocScores = scored.Where(s => s.Snr >= rocMinSnr).Select(s => s.Score).ToArray();
        return new SearchSensitivity(threshold, triggers.Windows, hours, above, events, hours > 0 ? events / hours : double.NaN, fap, perHour,
            hours > 0 ? above / hours : double.NaN, bins, scored.Count, below, rocMinSnr, rocScores.Length, Sweep(triggers, threshold, rocScores));
    }

    private static List<RocPoint> Sweep(BackgroundTriggers triggers, double operating, double[] injectionScores)
    {
        var sorted = triggers.SortedScores;
        int n = sorted.Length;
        var points = new List<RocPoint>();
        if (n == 0 || !(triggers.LivetimeSeconds > 0)) return points;
        double hours = triggers.LivetimeSeconds / 3600;
        int deepest = Math.Max(1, (int)Math.Ceiling(RocBackgroundFraction * n));
        var thresholds = new List<double>(RocPoints + 1);
        for (int j = 0; j < RocPoints; j++)
        {
            // The k-th highest background score, k log-spaced over 1 … deepest.
            int k = (int)Math.Round(Math.Pow(deepest, j / (double)(RocPoints - 1)));
            thresholds.Add(sorted[n - Math.Clamp(k, 1, deepest)]);
        }
        if (double.IsFinite(operating)) thresholds.Add(operating);
        thresholds.Sort((a, b) => b.CompareTo(a));
        Array.Sort(injectionScores);
        double previous = double.NaN;
        foreach (double t in thresholds)
        {
            if (t == previous) continue;
            previous = t;
            double efficiency = injectionScores.Length > 0 ? (double)CountAbove(injectionScores, t) / injectionScores.Length : double.NaN;
            points.Add(new RocPoint(t, triggers.ClustersAbove(t) / hours, efficiency));
        }
        return points;
    }

    private static int CountAbove(double[] ascending, double threshold)
    {
        int lo = 0, hi = ascending.Length;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (ascending[mid] <= threshold) lo = mid + 1; else hi = mid;
        }
        return ascending.Length - lo;
    }
}
