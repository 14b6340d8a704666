using System.Diagnostics;
using Inference;

namespace GwReprocess.Server.Metrics;

/// <summary>Cumulative counters of one model version, Triton's statistics (ModelStatistics RPC) and nv_inference_* metrics.</summary>
public sealed class ModelVersionStatistics(string model, long version)
{
    private long _success, _successNs, _fail, _failNs, _queue, _queueNs, _input, _inputNs, _infer, _inferNs, _output, _outputNs;
    private long _inferenceCount, _executionCount, _lastInferenceMs, _rejected;

    public string Model { get; } = model;

    public long Version { get; } = version;

    public long Success => Interlocked.Read(ref _success);

    public long Failure => Interlocked.Read(ref _fail);

    /// <summary>Failures that were queue-policy rejections (queue full, timeout): Triton's failure reason REJECTED.</summary>
    public long Rejected => Interlocked.Read(ref _rejected);

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

    public void RecordFailure(long arrivalTimestamp, bool rejected = false)
    {
        if (rejected) Interlocked.Increment(ref _rejected);
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
