namespace GwReprocess.Jobs;

/// <summary>What a barrier does when not every client shows up in time.</summary>
public enum BarrierMode
{
    /// <summary>Every expected client must be ready; a timeout fails the job.</summary>
    All,
    /// <summary>Wait for everyone until the timeout, then go if at least the quorum fraction is ready, else fail.</summary>
    Quorum,
    /// <summary>Wait for everyone until the timeout, then go with whoever is ready.</summary>
    TimeoutThenGo,
}
