using System.Diagnostics;
using Inference;

namespace GwReprocess.Server.Metrics;

/// <summary>Triton's <c>reason</c> label on nv_inference_request_failure (core FailureReason; TIMEOUT exists there but is not exported).</summary>
public enum FailureReason
{
    /// <summary>Refused by the scheduler's queue policy (queue full, queue timeout with REJECT).</summary>
    Rejected,

    /// <summary>Cancelled before it finished (client cancelled the call, stream or connection closed).</summary>
    Canceled,

    /// <summary>The model execution itself failed (ONNX Runtime error, outputs not as configured).</summary>
    Backend,

    /// <summary>Anything else the server core refused or failed on; every ensemble failure (Triton does not look through the steps).</summary>
    Other,
}

/// <summary>Cumulative counters of one model version, Triton's statistics (ModelStatistics RPC) and nv_inference_* metrics.</summary>
public sealed class ModelVersionStatistics(string model, long version)
{
    private long _success, _successNs, _fail, _failNs, _queue, _queueNs, _input, _inputNs, _infer, _inferNs, _output, _outputNs;
    private long _inferenceCount, _executionCount, _lastInferenceMs, _pending;
    private readonly long[] _failures = new long[4];

    public string Model { get; } = model;

    public long Version { get; } = version;

    public long Success => Interlocked.Read(ref _success);

    public long Failure => Interlocked.Read(ref _fail);

    /// <summary>Failures that were queue-policy rejections (queue full, timeout): Triton's failure reason REJECTED.</summary>
    public long Rejected => Failures(FailureReason.Rejected);

    /// <summary>Failures with one of Triton's reasons; they add up to <see cref="Failure"/>.</summary>
    public long Failures(FailureReason reason) => Interlocked.Read(ref _failures[(int)reason]);

    /// <summary>Wall time the version took to load (Triton's nv_model_load_duration_secs).</summary>
    public double LoadSeconds { get; set; }

    /// <summary>Requests received but not yet executing (Triton's nv_inference_pending_request_count).</summary>
    public long Pending => Interlocked.Read(ref _pending);

    /// <summary>A request was handed to the model's scheduler.</summary>
    public void EnterPending() => Interlocked.Increment(ref _pending);

    /// <summary>A request left the pending state: its execution starts, or it ended without one.</summary>
    public void LeavePending() => Interlocked.Decrement(ref _pending);

    public long InferenceCount => Interlocked.Read(ref _inferenceCount);

    public long ExecutionCount => Interlocked.Read(ref _executionCount);

    /// <summary>Cumulative (success + failure) request duration in ns.</summary>
    public long RequestNs => Interlocked.Read(ref _successNs) + Interlocked.Read(ref _failNs);

    public long QueueNs => Interlocked.Read(ref _queueNs);

    public long ComputeInputNs => Interlocked.Read(ref _inputNs);

    public long ComputeInferNs => Interlocked.Read(ref _inferNs);

    public long ComputeOutputNs => Interlocked.Read(ref _outputNs);

    public static long ElapsedNs(long fromTimestamp, long toTimestamp) =>
        (long)((toTimestamp - fromTimestamp) * (1e9 / Stopwatch.Frequency));

    /// <summary>A request finished successfully: it counts once, its batch size in inferences.</summary>
    public void RecordSuccess(long arrivalTimestamp, long queueNs, long batchSize)
    {
        Interlocked.Increment(ref _success);
        Interlocked.Add(ref _successNs, ElapsedNs(arrivalTimestamp, Stopwatch.GetTimestamp()));
        Interlocked.Increment(ref _queue);
        Interlocked.Add(ref _queueNs, queueNs);
        Interlocked.Add(ref _inferenceCount, batchSize);
        Interlocked.Exchange(ref _lastInferenceMs, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
    }

    public void RecordFailure(long arrivalTimestamp, FailureReason reason)
    {
        Interlocked.Increment(ref _failures[(int)reason]);
        Interlocked.Increment(ref _fail);
        Interlocked.Add(ref _failNs, ElapsedNs(arrivalTimestamp, Stopwatch.GetTimestamp()));
    }

    /// <summary>One model execution (a dynamically formed batch counts once).</summary>
    public void RecordExecution(long inputNs, long inferNs, long outputNs)
    {
        Interlocked.Increment(ref _executionCount);
        Interlocked.Increment(ref _input);
        Interlocked.Add(ref _inputNs, inputNs);
        Interlocked.Increment(ref _infer);
        Interlocked.Add(ref _inferNs, inferNs);
        Interlocked.Increment(ref _output);
        Interlocked.Add(ref _outputNs, outputNs);
    }

    public ModelStatistics ToProto()
    {
        static StatisticDuration D(long count, long ns) => new() { Count = (ulong)Math.Max(0, count), Ns = (ulong)Math.Max(0, ns) };
        return new ModelStatistics
        {
            Name = Model,
            Version = Version.ToString(System.Globalization.CultureInfo.InvariantCulture),
            LastInference = (ulong)Interlocked.Read(ref _lastInferenceMs),
            InferenceCount = (ulong)InferenceCount,
            ExecutionCount = (ulong)ExecutionCount,
            InferenceStats = new InferStatistics
            {
                Success = D(Success, Interlocked.Read(ref _successNs)),
                Fail = D(Failure, Interlocked.Read(ref _failNs)),
                Queue = D(Interlocked.Read(ref _queue), QueueNs),
                ComputeInput = D(Interlocked.Read(ref _input), ComputeInputNs),
                ComputeInfer = D(Interlocked.Read(ref _infer), ComputeInferNs),
                ComputeOutput = D(Interlocked.Read(ref _output), ComputeOutputNs),
                CacheHit = D(0, 0),
                CacheMiss = D(0, 0),
            },
        };
    }
}
