using System.Diagnostics;

namespace GwReprocess.Server.Execution;

/// <summary>A sequence correlation id: Triton accepts an int64 or a string; 0 and "" mean "not in a sequence".</summary>
public readonly record struct SequenceId(long Number, string? Text)
{
    public static SequenceId None => default;

    public bool IsNone => Text is null ? Number == 0 : Text.Length == 0;

    public override string ToString() => Text ?? Number.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>One decoded, validated inference request as the schedulers see it.</summary>
public sealed class InferenceRequest
{
    public required string ModelName { get; init; }

    /// <summary>Requested version; empty = chosen by the version policy.</summary>
    public string ModelVersion { get; init; } = "";

    public string Id { get; init; } = "";

    public required Dictionary<string, TensorData> Inputs { get; init; }

    /// <summary>Output names to return, in order; null = every output of the config.</summary>
    public IReadOnlyList<string>? RequestedOutputs { get; init; }

    public SequenceId Sequence { get; init; }

    public bool SequenceStart { get; init; }

    public bool SequenceEnd { get; init; }

    /// <summary>The "priority" parameter: 0 = the model's default level, 1 = highest.</summary>
    public ulong Priority { get; init; }

    /// <summary>The "timeout" parameter in microseconds (0 = none); the queue policy decides whether it applies.</summary>
    public ulong TimeoutMicroseconds { get; init; }

    /// <summary>Stopwatch timestamp of arrival (request and queue durations are measured from it).</summary>
    public long ArrivalTimestamp { get; init; } = Stopwatch.GetTimestamp();

    private Metrics.ModelVersionStatistics? _pendingIn;

    /// <summary>The request now waits for an execution of the model these statistics belong to.</summary>
    internal void EnterPending(Metrics.ModelVersionStatistics statistics)
    {
        statistics.EnterPending();
        Interlocked.Exchange(ref _pendingIn, statistics)?.LeavePending();
    }

    /// <summary>Its execution starts, or it ends without one: no longer pending (only the first call counts).</summary>
    internal void LeavePending() => Interlocked.Exchange(ref _pendingIn, null)?.LeavePending();
}

/// <summary>Outputs of one request, in the order they are to be returned.</summary>
public sealed record InferenceResult(string ModelName, long ModelVersion, IReadOnlyList<(string Name, TensorData Tensor)> Outputs);
