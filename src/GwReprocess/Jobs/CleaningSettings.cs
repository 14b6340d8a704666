using GwReprocess.Time;

namespace GwReprocess.Jobs;

/// <summary>How noise windows become cleaned strain: band, edge exclusion or causal latency, margins (seconds).</summary>
public sealed record CleaningSettings(double BandLow, double BandHigh, GpsDuration Edge, GpsDuration? CausalLatency, GpsDuration Margin)
{
    public static CleaningSettings Default => new(15, 500, GpsDuration.FromNanoseconds(125_000_000), null, GpsDuration.FromSeconds(2));

    /// <summary>The high-pass every witness goes through after resampling and before standardisation, or null for none; it must be the one the ensemble's cleaners were fitted with.</summary>
    public Dsp.WitnessHighpass? WitnessHighpass { get; init; }
}
