using System.Diagnostics;
using GwReprocess.Server.Execution;
using GwReprocess.Server.Scheduling;
using Inference;

namespace GwReprocess.Benchmarks;

/// <summary>The dynamic batcher's own cost: requests/s through it in process, with an executor that does no work, without and with Triton queue policies.</summary>
public sealed class BatcherBenchmark : IBenchmark
{
    public string Name => "batcher";
    public string Description => "dynamic batcher scheduling rate (no-op model, 64 concurrent callers): no policy vs max_queue_size + timeouts vs 3 priority levels";

    /// <summary>Returns its inputs at once, so only scheduling, batching copies and splitting are measured.</summary>
    private sealed class NoOpExecutor : IBatchExecutor
    {
        public string Name => "noop";
        public int Instances => 2;
        public long BatchSize(InferenceRequest request) => request.Inputs["x"].Shape[0];
        public IReadOnlyList<string> OutputsFor(InferenceRequest request) => ["y"];

        public Task<ExecutionOutputs> RunAsync(IReadOnlyDictionary<string, TensorData> inputs, IReadOnlyList<string> outputNames, CancellationToken cancellationToken) =>
            Task.FromResult(new ExecutionOutputs(new Dictionary<string, TensorData> { ["y"] = inputs["x"] }, Stopwatch.GetTimestamp()));
    }

    public async Task RunAsync(BenchmarkReport report, CancellationToken cancellationToken)
    {
        const int callers = 64, perCaller = 3000;
        var plain = Config();
        var policed = Config();
        policed.DefaultQueuePolicy = new ModelQueuePolicy { MaxQueueSize = 1000, DefaultTimeoutMicroseconds = 10_000_000, AllowTimeoutOverride = true };
        var levels = Config();
        levels.PriorityLevels = 3;
        levels.DefaultPriorityLevel = 2;
        levels.DefaultQueuePolicy = policed.DefaultQueuePolicy;

        var cases = new[] { ("no policy", plain), ("max_queue_size + timeouts", policed), ("3 priority levels", levels) };
        // Warm every case up first (tiered JIT), then interleave the rounds so load on the machine hits all cases alike.
        foreach (var (_, config) in cases) await RateAsync(config, callers, 1000);
        var best = new double[cases.Length];
        for (int round = 0; round < 3; round++)
            for (int i = 0; i < cases.Length; i++) best[i] = Math.Max(best[i], await RateAsync(cases[i].Item2, callers, perCaller));
        for (int i = 0; i < cases.Length; i++)
        {
            report.Figure($"{cases[i].Item1}: requests through the batcher", best[i], "requests/s");
            report.Figure($"{cases[i].Item1}: rate vs no policy", best[i] / best[0], "x");
        }
        report.Note($"{callers} callers x {perCaller} batch-1 requests of 4 FP32, max_batch_size 8, no queue delay, 2 instances; priorities cycle 0..3 in the last case");
    }

    private static ModelDynamicBatching Config() => new() { MaxQueueDelayMicroseconds = 0 };

    private static async Task<double> RateAsync(ModelDynamicBatching config, int callers, int perCaller)
    {
        using var batcher = new DynamicBatcher(new NoOpExecutor(), config, 8);
        var sw = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, callers).Select(c => Task.Run(async () =>
        {
            for (int i = 0; i < perCaller; i++)
            {
                var request = new InferenceRequest
                {
                    ModelName = "noop",
                    Inputs = new Dictionary<string, TensorData>(StringComparer.Ordinal) { ["x"] = new TensorData(DataType.TypeFp32, [1, 4], new byte[16]) },
                    Priority = (ulong)(i % 4),
                };
                await batcher.EnqueueAsync(request, CancellationToken.None).ConfigureAwait(false);
            }
        })));
        return callers * perCaller / sw.Elapsed.TotalSeconds;
    }
}
