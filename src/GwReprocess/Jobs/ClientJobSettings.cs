using GwReprocess.Inference;
using GwReprocess.Storage;

namespace GwReprocess.Jobs;

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

    /// <summary>The workflow's <c>[run] name</c>, written into every cleaned frame's provenance (empty outside a workflow).</summary>
    public string Workflow { get; init; } = "";

    /// <summary>How long to wait for the server to become ready.</summary>
    public TimeSpan ReadyDeadline { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Seconds between metrics rows.</summary>
    public TimeSpan MetricsInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Looks the server's address up again before a retry (a server node name in the rendezvous), or null to keep the address.</summary>
    public Func<CancellationToken, Task<string>>? ResolveAddress { get; init; }

    /// <summary>Scale of the wait before a reconnect: the n-th wait is drawn uniformly from [0, Backoff·2^(n−1)), at most 30 s (full jitter).</summary>
    public TimeSpan Backoff { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Called as each request is sent, or null; with <see cref="OnAnswered"/>, for harnesses that want every request's time rather than the metrics rows' percentiles (a soak).</summary>
    public Action? OnSent { get; init; }

    /// <summary>Called with each answered request's round trip (the first of a sequence includes its wait for a snapshotter slot), or null.</summary>
    public Action<TimeSpan>? OnAnswered { get; init; }
}
