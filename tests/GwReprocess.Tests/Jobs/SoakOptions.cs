namespace GwReprocess.Tests.Jobs;

/// <summary>The shape of a soak (<see cref="SoakRun"/>): how many streams against how many snapshotter slots, for how long, and which faults.</summary>
/// <param name="Streams">Concurrent client streams; each runs its jobs one after another, each job its own name and sequence id.</param>
/// <param name="Slots">Snapshotter instances on the server (one sequence each); fewer than <paramref name="Streams"/> makes new sequences wait.</param>
/// <param name="Duration">Streams start new jobs until this much time has passed (then finish the one they run); null: <paramref name="Rounds"/> jobs each.</param>
/// <param name="Rounds">Jobs per stream when <paramref name="Duration"/> is null.</param>
/// <param name="Segments">Distinct 32 s segments the jobs cycle through (each checked against the same segment cleaned by a lone job).</param>
/// <param name="ServerKills">Times the server is killed with SIGKILL and started again on the same port during the run.</param>
/// <param name="BucketOutage">Outputs go to an S3 bucket (moto on loopback, behind a proxy) that goes away for a few seconds during the run.</param>
/// <param name="MaxInFlight">Requests each stream keeps unanswered.</param>
/// <param name="ServerThreads">The server's ORT intra-op threads.</param>
public sealed record SoakOptions(int Streams = 32, int Slots = 8, TimeSpan? Duration = null, int Rounds = 1, int Segments = 4,
    int ServerKills = 0, bool BucketOutage = false, int MaxInFlight = 8, int ServerThreads = 1)
{
    /// <summary>Output frame length, s (a job's core segment is two frames).</summary>
    public const int FrameSeconds = 16;

    /// <summary>Seconds of core data per job.</summary>
    public const int JobSeconds = 2 * FrameSeconds;

    /// <summary>How long the bucket stays away, s.</summary>
    public static readonly TimeSpan OutageLength = TimeSpan.FromSeconds(3);

    /// <summary>The run directory: 16 s files, 3 witnesses, r 16 Hz, B 4, the Wiener cleaner; enough data for every segment and its padding.</summary>
    public ClientRunOptions RunOptions => new(Seconds: FrameSeconds * (Segments + 3), FrameLength: FrameSeconds, Witnesses: 3, Stride: 256, Batch: 4,
        Streams: Slots, Padding: 8, Cleaner: "wiener", MaxInFlight: MaxInFlight, Retries: 8);
}
