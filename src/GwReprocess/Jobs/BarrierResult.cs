namespace GwReprocess.Jobs;

/// <summary>When and why a client started: the barrier's published start time and how long the client waited for it.</summary>
public sealed record BarrierResult(DateTimeOffset StartTime, int Ready, int Expected, TimeSpan Waited, bool Incomplete, string Reason);
