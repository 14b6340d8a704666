namespace GwReprocess.Tests.Jobs;

/// <summary>What one job of a soak did, as its stream saw it.</summary>
/// <param name="FirstSent">Run-clock seconds when its first request (START) went out.</param>
/// <param name="LastSent">Run-clock seconds when its last request (END) went out.</param>
/// <param name="FirstAnswer">Run-clock seconds when its first answer came back.</param>
/// <param name="FirstRoundTrip">Round trip of its first request, s: the wait for a snapshotter slot plus one execution.</param>
/// <param name="Reconnects">Stream reconnects inside the job (transient errors, resumed from the last committed frame).</param>
/// <param name="Reruns">Times the harness ran the job again after it failed (as a DAG RETRY would).</param>
/// <param name="Mismatch">Null when its cleaned frames and scores equal the lone run's byte for byte, else what differs.</param>
public sealed record SoakJob(int Stream, string Name, int Segment, ulong SequenceId, double FirstSent, double LastSent, double FirstAnswer,
    double FirstRoundTrip, long Sent, long Answered, int Reconnects, int ResumedFromLaterFrame, int Reruns, string? Mismatch);

/// <summary>The figures of a soak.</summary>
public sealed record SoakResult(
    SoakOptions Options, double WallSeconds, IReadOnlyList<SoakJob> Jobs, IReadOnlyList<double> RoundTrips, IReadOnlyList<string> Failures,
    double ServerRequestFailures, double ServerRequestSuccesses, IReadOnlyList<(double Seconds, long RssBytes)> Rss, int ServerKills, int BucketOutages, int BucketConnectionsReset)
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
