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
