namespace GwReprocess.Jobs;

/// <summary>How a cleaner's overlapping noise windows are combined into one noise estimate per sample.</summary>
/// <param name="WindowLength">K, samples per window.</param>
/// <param name="Stride">Samples between consecutive windows (fs / r).</param>
/// <param name="Edge">Samples ignored at both ends of every window, where the network sees only one side of its context.</param>
/// <param name="CausalLatency">When set, causal mode: a sample takes only windows in whose trailing <c>CausalLatency</c> samples it lies (what an online cleaner could have used), and <see cref="Edge"/> is ignored.</param>
public sealed record AggregationOptions(int WindowLength, int Stride, int Edge = 0, int? CausalLatency = null)
{
    /// <summary>First offset inside a window that contributes.</summary>
    internal int From => CausalLatency is int l ? WindowLength - l : Edge;

    /// <summary>Offset just past the last contributing sample inside a window.</summary>
    internal int To => CausalLatency is not null ? WindowLength : WindowLength - Edge;

    internal void Validate()
    {
        if (WindowLength <= 0 || Stride <= 0) throw new ArgumentOutOfRangeException(nameof(WindowLength), "window length and stride must be positive");
        if (CausalLatency is int l && (l < Stride || l > WindowLength))
            throw new ArgumentOutOfRangeException(nameof(CausalLatency), $"causal latency {l} must lie in [stride {Stride}, window {WindowLength}] so every sample is covered");
        if (CausalLatency is null && (Edge < 0 || WindowLength - 2 * Edge < Stride))
            throw new ArgumentOutOfRangeException(nameof(Edge), $"edge {Edge} leaves fewer than stride {Stride} samples per window: samples would be uncovered");
    }
}
