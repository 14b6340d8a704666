namespace GwReprocess.Tests.Jobs;

/// <summary>The figures of a soak.</summary>
public sealed record SoakResult(
    SoakOptions Options, double WallSeconds, IReadOnlyList<SoakJob> Jobs, IReadOnlyList<double> RoundTrips, IReadOnlyList<string> Failures,
    double ServerRequestFailures, double ServerRequestSuccesses, IReadOnlyList<(double Seconds, long RssBytes)> Rss, int ServerKills, int BucketOutages, int BucketConnectionsBroken)
{
    /// <summary>Requests sent by all streams.</summary>
    public long Requests => Jobs.Sum(j => j.Sent);

    /// <summary>Requests answered.</summary>
    public long Answered => Jobs.Sum(j => j.Answered);

    /// <summary>Seconds of cleaned data per second of wall, all streams together.</summary>
    public double Throughput => Jobs.Count * (double)SoakOptions.JobSeconds / WallSeconds;

    /// <summary>Seconds of cleaned data per second of wall of each stream.</summary>
    public IReadOnlyList<double> ThroughputPerStream =>
        Enumerable.Range(0, Options.Streams).Select(s => Jobs.Count(j => j.Stream == s) * (double)SoakOptions.JobSeconds / WallSeconds).ToList();

    /// <summary>The jobs each stream started with, at once.</summary>
    public IReadOnlyList<SoakJob> FirstJobs => Jobs.Where(j => j.Name.EndsWith("-0000", StringComparison.Ordinal)).ToList();

    /// <summary>Every first job's START went out before any first job's END did: at that moment all streams' sequences were open at once, so with fewer slots than streams some had to wait.</summary>
    public bool AllStartedBeforeAnyEnded => FirstJobs.Max(j => j.FirstSent) < FirstJobs.Min(j => j.LastSent);

    /// <summary>First jobs whose first answer came after another job had sent its END: sequences that ran only once a slot was freed.</summary>
    public int WaitedForFreedSlot => FirstJobs.Count(j => FirstJobs.Any(o => !ReferenceEquals(o, j) && o.LastSent < j.FirstAnswer));

    /// <summary>The <paramref name="q"/> quantile (0..1, nearest rank) of <paramref name="values"/>.</summary>
    public static double Quantile(IReadOnlyList<double> values, double q)
    {
        if (values.Count == 0) return double.NaN;
        var sorted = values.Order().ToArray();
        return sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Length) - 1, 0, sorted.Length - 1)];
    }
}
