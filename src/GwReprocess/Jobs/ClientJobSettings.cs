using GwReprocess.Data;
using GwReprocess.Frames;
using GwReprocess.Inference;
using GwReprocess.Storage;
using GwReprocess.Time;

namespace GwReprocess.Jobs;

/// <summary>One detector's input: channels (witnesses in model order) and where its frames are.</summary>
/// <param name="Ifo">Detector prefix (H1, L1, ...).</param>
/// <param name="Strain">The strain channel.</param>
/// <param name="Witnesses">Witness channels in model order.</param>
/// <param name="Frames">Where its frames are.</param>
/// <param name="Ensemble">The detector's own ensemble (<c>[detectors.XX] ensemble</c>, hermes contract), or null for the job's.</param>
public sealed record DetectorInput(string Ifo, ChannelName Strain, IReadOnlyList<ChannelName> Witnesses, FrameSource Frames, string? Ensemble = null);

/// <summary>How noise windows become cleaned strain: band, edge exclusion or causal latency, margins (seconds).</summary>
public sealed record CleaningSettings(double BandLow, double BandHigh, GpsDuration Edge, GpsDuration? CausalLatency, GpsDuration Margin)
{
    public static CleaningSettings Default => new(15, 500, GpsDuration.FromNanoseconds(125_000_000), null, GpsDuration.FromSeconds(2));
}

/// <summary>Everything one client job needs, resolved: its span, inputs, server, outputs and policies.</summary>
/// <param name="Job">Name, core and padded span, sequence id.</param>
/// <param name="Detectors">Detectors in stream order.</param>
/// <param name="Output">The output bucket.</param>
/// <param name="OutputPrefix">The run's output prefix in <paramref name="Output"/> (CONTRACTS.md layout below it).</param>
/// <param name="FrameType">Frame type of the outputs (<c>[outputs] frame_type</c>).</param>
/// <param name="ChannelSuffix">Appended to the strain channel name for the cleaned channel.</param>
/// <param name="Endpoint">The inference server.</param>
/// <param name="Server">What to log as the server (the --server argument).</param>
/// <param name="Model">The ensemble streamed to.</param>
/// <param name="Cleaning">Aggregation and band-pass settings.</param>
/// <param name="Barrier">The start barrier, or null to start at once.</param>
/// <param name="MaxInFlight">Requests kept unanswered at once.</param>
/// <param name="Retries">Reconnects after transient stream errors before giving up.</param>
public sealed record ClientJobSettings(
    JobSpec Job, IReadOnlyList<DetectorInput> Detectors, IBucket Output, string OutputPrefix, string FrameType, string ChannelSuffix,
    InferenceEndpoint Endpoint, string Server, string Model, CleaningSettings Cleaning, BarrierPolicy? Barrier,
    int MaxInFlight = 8, int Retries = 5)
{
    /// <summary>The ensembles the job streams to (and waits to be ready): each detector's own where it names one, else <see cref="Model"/>.</summary>
    public IReadOnlyList<string> ModelsStreamedTo => Detectors.Select(d => d.Ensemble ?? Model).Distinct().ToList();

    /// <summary>How long to wait for the server to become ready.</summary>
    public TimeSpan ReadyDeadline { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Seconds between metrics rows.</summary>
    public TimeSpan MetricsInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Looks the server's address up again before a retry (a server node name in the rendezvous), or null to keep the address.</summary>
    public Func<CancellationToken, Task<string>>? ResolveAddress { get; init; }

    /// <summary>Scale of the wait before a reconnect: the n-th wait is drawn uniformly from [0, Backoff·2^(n−1)), at most 30 s (full jitter).</summary>
    public TimeSpan Backoff { get; init; } = TimeSpan.FromSeconds(1);
}

/// <summary>What the job tells its user: progress and one line per committed frame.</summary>
public interface IClientJobReporter
{
    /// <summary>A line worth logging (readiness, barrier, retries, notes).</summary>
    void Info(string line);

    /// <summary>Frame <paramref name="index"/> of <paramref name="total"/> is committed.</summary>
    void FrameCommitted(Segment frame, int index, int total, double dataSecondsPerSecond);
}
