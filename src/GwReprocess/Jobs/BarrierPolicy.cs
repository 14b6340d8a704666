namespace GwReprocess.Jobs;

/// <summary>How a run's clients synchronise their start.</summary>
/// <param name="Mode">What to do when not everyone is ready in time.</param>
/// <param name="Expected">Clients the run starts together.</param>
/// <param name="Timeout">How long to wait for all of them.</param>
/// <param name="Lead">How far ahead of the moment the barrier opens the common start time is set, so that every client sees it in time.</param>
/// <param name="QuorumFraction">For <see cref="BarrierMode.Quorum"/>: the fraction of <paramref name="Expected"/> that suffices after the timeout.</param>
public sealed record BarrierPolicy(BarrierMode Mode, int Expected, TimeSpan Timeout, TimeSpan Lead, double QuorumFraction = 0.9)
{
    public int Quorum => Mode switch
    {
        BarrierMode.All => Expected,
        BarrierMode.Quorum => (int)Math.Ceiling(QuorumFraction * Expected),
        _ => 1,
    };
}
