using System.Runtime.InteropServices;
using Grpc.Core;
using GwReprocess.Server.Execution;
using GwReprocess.Server.Scheduling;
using Inference;

namespace GwReprocess.Server.Tests;

/// <summary>The dynamic batcher's queue policy against an executor the test holds: each execution blocks until the test lets it finish,
/// so "a request waits behind a slow one" is a fact of the test, not a race with the clock.</summary>
public sealed class QueuePolicyBatcherTests
{
    /// <summary>One instance whose executions start in order and finish only when released; y = x, one float per row.</summary>
    private sealed class GatedExecutor : IBatchExecutor
    {
        private readonly SemaphoreSlim _release = new(0);
        private readonly SemaphoreSlim _started = new(0);
        private readonly object _lock = new();

        public string Name => "gated";

        public int Instances => 1;

        /// <summary>The rows (request values) of each execution, in the order executions started.</summary>
        public List<float[]> Executions { get; } = [];

        public long BatchSize(InferenceRequest request) => request.Inputs["x"].Shape[0];

        public IReadOnlyList<string> OutputsFor(InferenceRequest request) => ["y"];

        public async Task<ExecutionOutputs> RunAsync(IReadOnlyDictionary<string, TensorData> inputs, IReadOnlyList<string> outputNames, CancellationToken cancellationToken)
        {
            var x = inputs["x"];
            lock (_lock) Executions.Add(MemoryMarshal.Cast<byte, float>(x.Bytes.Span).ToArray());
            _started.Release();
            await _release.WaitAsync(cancellationToken);
            return new ExecutionOutputs(new Dictionary<string, TensorData> { ["y"] = x }, System.Diagnostics.Stopwatch.GetTimestamp());
        }

        public async Task WaitStartedAsync()
        {
            Assert.True(await _started.WaitAsync(TimeSpan.FromSeconds(30)), "no execution started");
        }

        public void ReleaseOne() => _release.Release();

        public float[] Order()
        {
            lock (_lock) return [.. Executions.SelectMany(e => e)];
        }
    }

    /// <summary>Two instances whose runs block their thread until released, as ONNX Runtime's Run does.</summary>
    private sealed class BlockingExecutor : IBatchExecutor
    {
        private readonly ManualResetEventSlim _release = new(false);
        private int _running;

        public string Name => "blocking";

        public int Instances => 2;

        public int MostAtOnce;

        public long BatchSize(InferenceRequest request) => request.Inputs["x"].Shape[0];

        public IReadOnlyList<string> OutputsFor(InferenceRequest request) => ["y"];

        public Task<ExecutionOutputs> RunAsync(IReadOnlyDictionary<string, TensorData> inputs, IReadOnlyList<string> outputNames, CancellationToken cancellationToken)
        {
            int now = Interlocked.Increment(ref _running);
            int most;
            while (now > (most = Volatile.Read(ref MostAtOnce)) && Interlocked.CompareExchange(ref MostAtOnce, now, most) != most) { }
            _release.Wait(TimeSpan.FromSeconds(30));
            Interlocked.Decrement(ref _running);
            return Task.FromResult(new ExecutionOutputs(new Dictionary<string, TensorData> { ["y"] = inputs["x"] }, System.Diagnostics.Stopwatch.GetTimestamp()));
        }

        public int Running => Volatile.Read(ref _running);

        public void Release() => _release.Set();
    }

    /// <summary>One instance with two outputs, y = x and z = 2x, returning whichever are asked for; records each execution's outputs.</summary>
    private sealed class TwoOutputExecutor : IBatchExecutor
    {
        public string Name => "two-outputs";

        public int Instances => 1;

        public List<(long Rows, string[] Outputs)> Executions { get; } = [];

        public long BatchSize(InferenceRequest request) => request.Inputs["x"].Shape[0];

        public IReadOnlyList<string> OutputsFor(InferenceRequest request) => request.RequestedOutputs ?? ["y", "z"];

        public Task<ExecutionOutputs> RunAsync(IReadOnlyDictionary<string, TensorData> inputs, IReadOnlyList<string> outputNames, CancellationToken cancellationToken)
        {
            var x = inputs["x"];
            lock (Executions) Executions.Add((x.Shape[0], [.. outputNames]));
            var doubled = MemoryMarshal.Cast<byte, float>(x.Bytes.Span).ToArray().Select(v => 2 * v).ToArray();
            var all = new Dictionary<string, TensorData>(StringComparer.Ordinal)
            {
                ["y"] = x,
                ["z"] = new TensorData(DataType.TypeFp32, x.Shape, MemoryMarshal.AsBytes<float>(doubled).ToArray()),
            };
            return Task.FromResult(new ExecutionOutputs(outputNames.ToDictionary(n => n, n => all[n], StringComparer.Ordinal), System.Diagnostics.Stopwatch.GetTimestamp()));
        }
    }

    [Fact]
    public async Task RequestsAskingForDifferentOutputsBatchTogetherAndEachGetsItsOwn()
    {
        var model = new TwoOutputExecutor();
        var config = new ModelDynamicBatching { MaxQueueDelayMicroseconds = 10_000_000 };
        config.PreferredBatchSize.Add(2);
        using var batcher = new DynamicBatcher(model, config, 2);
        var a = batcher.EnqueueAsync(Request(1, outputs: ["y"]), default);
        var b = batcher.EnqueueAsync(Request(3, outputs: ["z"]), default);
        var ra = await a.WaitAsync(TimeSpan.FromSeconds(30));
        var rb = await b.WaitAsync(TimeSpan.FromSeconds(30));
        // One execution of both rows, running the union of the outputs (Triton does not split batches on them).
        var only = Assert.Single(model.Executions);
        Assert.Equal(2, only.Rows);
        Assert.Equal(new[] { "y", "z" }, only.Outputs);
        Assert.Equal(["y"], ra.Outputs.Keys);
        Assert.Equal(1f, MemoryMarshal.Cast<byte, float>(ra.Outputs["y"].Bytes.Span)[0]);
        Assert.Equal(["z"], rb.Outputs.Keys);
        Assert.Equal(6f, MemoryMarshal.Cast<byte, float>(rb.Outputs["z"].Bytes.Span)[0]);
        Assert.Equal(new long[] { 1, 1 }, rb.Outputs["z"].Shape);
    }

    [Fact]
    public async Task SynchronousRunsOnTwoInstancesOverlapAndTimeoutsFireWhileTheyRun()
    {
        var model = new BlockingExecutor();
        using var batcher = new DynamicBatcher(model, Config(new ModelQueuePolicy { DefaultTimeoutMicroseconds = 50_000 }), 1);
        var a = batcher.EnqueueAsync(Request(1), default);
        var b = batcher.EnqueueAsync(Request(2), default);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (model.Running < 2 && DateTime.UtcNow < deadline) await Task.Delay(10);
        Assert.Equal(2, model.Running);
        // Both instances are blocked; a third request times out in the queue while they run, not after.
        await Rejected(batcher.EnqueueAsync(Request(3), default));
        Assert.False(a.IsCompleted);
        model.Release();
        Assert.Equal(new[] { 1f, 2f }, new[] { Value(await a), Value(await b) });
        Assert.Equal(2, model.MostAtOnce);
    }

    private static InferenceRequest Request(float value, string id = "", ulong priority = 0, ulong timeoutUs = 0, IReadOnlyList<string>? outputs = null) => new()
    {
        RequestedOutputs = outputs,
        ModelName = "gated",
        Id = id,
        Inputs = new Dictionary<string, TensorData>(StringComparer.Ordinal)
        {
            ["x"] = new TensorData(DataType.TypeFp32, [1, 1], MemoryMarshal.AsBytes<float>([value]).ToArray()),
        },
        Priority = priority,
        TimeoutMicroseconds = timeoutUs,
    };

    private static float Value(ExecutionOutputs e) => MemoryMarshal.Cast<byte, float>(e.Outputs["y"].Bytes.Span)[0];

    /// <summary>max_batch_size 1 (one request per execution), no queue delay.</summary>
    private static ModelDynamicBatching Config(ModelQueuePolicy? policy = null)
    {
        var c = new ModelDynamicBatching { DefaultQueuePolicy = policy };
        c.PreferredBatchSize.Add(1);
        return c;
    }

    private static async Task<InferenceException> Rejected(Task task)
    {
        var e = await Assert.ThrowsAsync<InferenceException>(() => task);
        Assert.Equal(StatusCode.Unavailable, e.Code);
        Assert.True(e.IsRejection);
        return e;
    }

    /// <summary>The enqueue itself refuses: no waiting in the queue.</summary>
    private static InferenceException RefusedAtOnce(Func<Task> enqueue)
    {
        try { enqueue(); }
        catch (InferenceException e) { return e; }
        Assert.Fail("the request was queued");
        return null!;
    }

    [Fact]
    public async Task FullQueueRejectsAtOnceWithTritonsStatusAndKeepsServing()
    {
        var model = new GatedExecutor();
        using var batcher = new DynamicBatcher(model, Config(new ModelQueuePolicy { MaxQueueSize = 2 }), 1);
        var a = batcher.EnqueueAsync(Request(1), default);
        await model.WaitStartedAsync();
        var b = batcher.EnqueueAsync(Request(2), default);
        var c = batcher.EnqueueAsync(Request(3), default);
        // A executes (not queued); B and C fill the queue of 2.
        var full = RefusedAtOnce(() => batcher.EnqueueAsync(Request(4, "req-4"), default));
        Assert.Equal(StatusCode.Unavailable, full.Code);
        Assert.True(full.IsRejection);
        Assert.Equal("[request id: req-4] Exceeds maximum queue size", full.Message);
        Assert.Equal("[request id: <id_unknown>] Exceeds maximum queue size",
            RefusedAtOnce(() => batcher.EnqueueAsync(Request(5), default)).Message);
        Assert.Equal(2, batcher.QueuedCount);
        for (int i = 0; i < 3; i++) model.ReleaseOne();
        Assert.Equal(new[] { 1f, 2f, 3f }, new[] { Value(await a), Value(await b), Value(await c) });
        // Room again: the next request runs.
        var d = batcher.EnqueueAsync(Request(6), default);
        model.ReleaseOne();
        Assert.Equal(6f, Value(await d));
        Assert.Equal([1f, 2f, 3f, 6f], model.Order());
    }

    [Fact]
    public async Task ACancelledRequestLeavesTheQueueWithoutWaitingForTheInstance()
    {
        var model = new GatedExecutor();
        using var batcher = new DynamicBatcher(model, Config(new ModelQueuePolicy { MaxQueueSize = 1 }), 1);
        var a = batcher.EnqueueAsync(Request(1), default);
        await model.WaitStartedAsync();
        using var cancel = new CancellationTokenSource();
        var b = batcher.EnqueueAsync(Request(2), cancel.Token);
        Assert.Equal("[request id: c] Exceeds maximum queue size", RefusedAtOnce(() => batcher.EnqueueAsync(Request(3, "c"), default)).Message);
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => b);
        Assert.False(a.IsCompleted);
        var c = batcher.EnqueueAsync(Request(3, "c"), default);
        model.ReleaseOne();
        model.ReleaseOne();
        Assert.Equal(1f, Value(await a));
        Assert.Equal(3f, Value(await c));
        Assert.Equal([1f, 3f], model.Order());
    }

    [Fact]
    public async Task RejectTimeoutFiresWhileTheRequestWaitsBehindASlowOne()
    {
        var model = new GatedExecutor();
        // Default 60 s (never reached here); B asks for 50 ms, which the policy allows because it is shorter.
        using var batcher = new DynamicBatcher(model, Config(new ModelQueuePolicy { DefaultTimeoutMicroseconds = 60_000_000, AllowTimeoutOverride = true }), 1);
        var a = batcher.EnqueueAsync(Request(1), default);
        await model.WaitStartedAsync();
        var b = batcher.EnqueueAsync(Request(2, timeoutUs: 50_000), default);
        var c = batcher.EnqueueAsync(Request(3), default);
        // A is still executing (the test has not released it): B's rejection comes from its timeout alone.
        var e = await Rejected(b);
        Assert.Equal("Request timeout expired", e.Message);
        Assert.False(a.IsCompleted);
        model.ReleaseOne();
        model.ReleaseOne();
        Assert.Equal(1f, Value(await a));
        Assert.Equal(3f, Value(await c));
        Assert.Equal([1f, 3f], model.Order());
    }

    [Fact]
    public async Task TimeoutOverrideIsIgnoredUnlessAllowedAndCannotLengthen()
    {
        var model = new GatedExecutor();
        using var batcher = new DynamicBatcher(model, Config(new ModelQueuePolicy { DefaultTimeoutMicroseconds = 60_000_000, AllowTimeoutOverride = false }), 1);
        var a = batcher.EnqueueAsync(Request(1), default);
        await model.WaitStartedAsync();
        var b = batcher.EnqueueAsync(Request(2, timeoutUs: 50_000), default);
        // Well past B's own 50 ms: without allow_timeout_override it keeps the 60 s default and is still queued.
        await Task.Delay(300);
        Assert.False(b.IsCompleted);
        model.ReleaseOne();
        model.ReleaseOne();
        Assert.Equal(2f, Value(await b));
        Assert.Equal(1f, Value(await a));

        var model2 = new GatedExecutor();
        // Level 2 allows overrides of its 50 ms default, but a request cannot lengthen it: 60 s asked, 50 ms applied.
        // (The request that occupies the instance waits at level 1, which has no timeout.)
        var config = Config();
        config.PriorityLevels = 2;
        config.DefaultPriorityLevel = 1;
        config.PriorityQueuePolicy.Add(2, new ModelQueuePolicy { DefaultTimeoutMicroseconds = 50_000, AllowTimeoutOverride = true });
        using var batcher2 = new DynamicBatcher(model2, config, 1);
        var first = batcher2.EnqueueAsync(Request(1), default);
        await model2.WaitStartedAsync();
        var longer = batcher2.EnqueueAsync(Request(2, priority: 2, timeoutUs: 60_000_000), default);
        Assert.Equal("Request timeout expired", (await Rejected(longer)).Message);
        Assert.False(first.IsCompleted);
        model2.ReleaseOne();
        Assert.Equal(1f, Value(await first));
    }

    [Fact]
    public async Task DelayActionKeepsTimedOutRequestsButMovesThemBehindTheOnesInTime()
    {
        var model = new GatedExecutor();
        var policy = new ModelQueuePolicy
        {
            TimeoutAction = ModelQueuePolicy.Types.TimeoutAction.Delay,
            DefaultTimeoutMicroseconds = 60_000_000,
            AllowTimeoutOverride = true,
        };
        using var batcher = new DynamicBatcher(model, Config(policy), 1);
        var a = batcher.EnqueueAsync(Request(1), default);
        await model.WaitStartedAsync();
        var b = batcher.EnqueueAsync(Request(2, timeoutUs: 50_000), default);
        await Task.Delay(300); // B's 50 ms are over
        var c = batcher.EnqueueAsync(Request(3), default);
        Assert.False(b.IsCompleted);
        for (int i = 0; i < 3; i++) model.ReleaseOne();
        Assert.Equal(new[] { 1f, 2f, 3f }, new[] { Value(await a), Value(await b), Value(await c) });
        // C arrived after B but was in time, so it ran first.
        Assert.Equal([1f, 3f, 2f], model.Order());
    }

    [Fact]
    public async Task PriorityLevelsRunHighestFirstWithTheirOwnQueuePolicies()
    {
        var model = new GatedExecutor();
        var config = Config();
        config.PriorityLevels = 3;
        config.DefaultPriorityLevel = 2;
        config.PriorityQueuePolicy.Add(3, new ModelQueuePolicy { MaxQueueSize = 1 });
        using var batcher = new DynamicBatcher(model, config, 1);
        var a = batcher.EnqueueAsync(Request(1), default);
        await model.WaitStartedAsync();
        var low = batcher.EnqueueAsync(Request(30, priority: 3), default);
        var byDefault = batcher.EnqueueAsync(Request(20), default);
        var high = batcher.EnqueueAsync(Request(10, priority: 1), default);
        var outOfRange = batcher.EnqueueAsync(Request(21, priority: 99), default);
        // Level 3 holds one request; levels 1 and 2 have no limit.
        Assert.Equal("[request id: over] Exceeds maximum queue size",
            RefusedAtOnce(() => batcher.EnqueueAsync(Request(31, "over", priority: 3), default)).Message);
        for (int i = 0; i < 5; i++) model.ReleaseOne();
        await Task.WhenAll(a, low, byDefault, high, outOfRange);
        // Priority 0 and out-of-range priorities go to default_priority_level 2, in arrival order.
        Assert.Equal([1f, 10f, 20f, 21f, 30f], model.Order());
    }

    [Fact]
    public async Task RequestsOfOneLevelBatchTogetherInPriorityOrder()
    {
        var model = new GatedExecutor();
        var config = new ModelDynamicBatching { PriorityLevels = 2, DefaultPriorityLevel = 2 };
        config.PreferredBatchSize.Add(2);
        using var batcher = new DynamicBatcher(model, config, 4);
        var a = batcher.EnqueueAsync(Request(1), default);
        await model.WaitStartedAsync();
        var rest = new[] { Request(5), Request(6), Request(7, priority: 1), Request(8, priority: 1) }.Select(r => batcher.EnqueueAsync(r, default)).ToList();
        for (int i = 0; i < 3; i++) model.ReleaseOne();
        await a;
        await Task.WhenAll(rest);
        Assert.Equal(new float[][] { [1f], [7f, 8f], [5f, 6f] }, model.Executions);
    }

    [Theory]
    [InlineData(0UL, "default priority level must be in range [1, 2] for gated")]
    [InlineData(3UL, "default priority level must be in range [1, 2] for gated")]
    public void PriorityConfigIsCheckedAsTritonDoes(ulong defaultLevel, string message)
    {
        var config = new ModelDynamicBatching { PriorityLevels = 2, DefaultPriorityLevel = defaultLevel };
        Assert.Equal(message, Assert.Throws<InferenceException>(() => new DynamicBatcher(new GatedExecutor(), config, 1)).Message);
        var badKey = new ModelDynamicBatching { PriorityLevels = 2, DefaultPriorityLevel = 1 };
        badKey.PriorityQueuePolicy.Add(5, new ModelQueuePolicy());
        Assert.Equal("priority queue policy must have priority level in range [1, 2] for gated",
            Assert.Throws<InferenceException>(() => new DynamicBatcher(new GatedExecutor(), badKey, 1)).Message);
    }

    [Fact]
    public async Task RequestsArePendingUntilTheirBatchStartsExecuting()
    {
        var model = new GatedExecutor();
        var stats = new GwReprocess.Server.Metrics.ModelVersionStatistics("gated", 1);
        using var batcher = new DynamicBatcher(model, Config(), 1);
        Task<ExecutionOutputs> Enqueue(float value)
        {
            var r = Request(value);
            r.EnterPending(stats);
            return batcher.EnqueueAsync(r, default);
        }
        var a = Enqueue(1);
        await model.WaitStartedAsync();
        Assert.Equal(0, stats.Pending);
        var b = Enqueue(2);
        var c = Enqueue(3);
        // A holds the only instance: B and C wait in the queue.
        Assert.Equal(2, stats.Pending);
        model.ReleaseOne();
        await model.WaitStartedAsync();
        Assert.Equal(1, stats.Pending);
        model.ReleaseOne();
        await model.WaitStartedAsync();
        Assert.Equal(0, stats.Pending);
        model.ReleaseOne();
        Assert.Equal(new[] { 1f, 2f, 3f }, new[] { Value(await a), Value(await b), Value(await c) });
        Assert.Equal(0, stats.Pending);
    }
}
