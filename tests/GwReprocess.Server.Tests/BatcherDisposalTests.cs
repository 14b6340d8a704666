using System.Buffers;
using System.Runtime.InteropServices;
using Grpc.Core;
using GwReprocess.Server.Execution;
using GwReprocess.Server.Scheduling;
using Inference;

namespace GwReprocess.Server.Tests;

/// <summary>The dynamic batcher's shutdown (DisposeAsync) and its pooled batch buffers, against executors the test holds.</summary>
public sealed class BatcherDisposalTests
{
    /// <summary>One instance, y = x handed back as it came (so outputs lie in the batch's buffer); executions wait for the test when gated, and fail when told to.</summary>
    private sealed class EchoExecutor(bool gated) : IBatchExecutor
    {
        private readonly SemaphoreSlim _release = new(0);
        private readonly SemaphoreSlim _started = new(0);

        public string Name => "echo";

        public int Instances => 1;

        public bool Fail { get; set; }

        /// <summary>The rows each execution saw, in order.</summary>
        public List<float[]> Executions { get; } = [];

        public long BatchSize(InferenceRequest request) => request.Inputs["x"].Shape[0];

        public IReadOnlyList<string> OutputsFor(InferenceRequest request) => ["y"];

        public async Task<ExecutionOutputs> RunAsync(IReadOnlyDictionary<string, TensorData> inputs, IReadOnlyList<string> outputNames, CancellationToken cancellationToken)
        {
            var x = inputs["x"];
            lock (Executions) Executions.Add(MemoryMarshal.Cast<byte, float>(x.Bytes.Span).ToArray());
            _started.Release();
            if (gated) await _release.WaitAsync(cancellationToken);
            if (Fail) throw InferenceException.Backend("echo failed");
            return new ExecutionOutputs(new Dictionary<string, TensorData> { ["y"] = x }, System.Diagnostics.Stopwatch.GetTimestamp());
        }

        public async Task WaitStartedAsync() => Assert.True(await _started.WaitAsync(TimeSpan.FromSeconds(30)), "no execution started");

        public void ReleaseOne() => _release.Release();
    }

    /// <summary>Hands out buffers larger than asked and overwrites each with 0xFF when it comes back, so a response still reading one shows it.</summary>
    private sealed class PoisoningPool : MemoryPool<byte>
    {
        private int _rented;
        private int _returned;

        public int Rented => Volatile.Read(ref _rented);

        public int Returned => Volatile.Read(ref _returned);

        public override int MaxBufferSize => int.MaxValue;

        public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
        {
            Interlocked.Increment(ref _rented);
            return new Owner(this, new byte[Math.Max(0, minBufferSize) + 16]);
        }

        protected override void Dispose(bool disposing) { }

        private sealed class Owner(PoisoningPool pool, byte[] array) : IMemoryOwner<byte>
        {
            private int _back;

            public Memory<byte> Memory => array;

            public void Dispose()
            {
                if (Interlocked.Exchange(ref _back, 1) != 0) throw new InvalidOperationException("a buffer was handed back twice");
                array.AsSpan().Fill(0xFF);
                Interlocked.Increment(ref pool._returned);
            }
        }
    }

    [Fact]
    public async Task DisposeAsyncAnswersQueuedRequestsAtOnceAndEndsWhenTheRunningExecutionDoes()
    {
        var model = new EchoExecutor(gated: true);
        var batcher = new DynamicBatcher(model, OnePerExecution(), 1);
        var running = batcher.EnqueueAsync(Request(1), default);
        await model.WaitStartedAsync();
        var queued = batcher.EnqueueAsync(Request(2), default);
        using var cancel = new CancellationTokenSource();
        var cancelled = batcher.EnqueueAsync(Request(3), cancel.Token);
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.WaitAsync(TimeSpan.FromSeconds(30)));

        // The execution is still held by the test, on this very thread: a DisposeAsync that blocked would never return here.
        var disposing = batcher.DisposeAsync().AsTask();
        var unloading = await Assert.ThrowsAsync<InferenceException>(() => queued.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(StatusCode.Unavailable, unloading.Code);
        Assert.Equal("model 'echo' is unloading", unloading.Message);
        Assert.Equal(StatusCode.Unavailable, Assert.Throws<InferenceException>(() => { _ = batcher.EnqueueAsync(Request(4), default); }).Code);
        Assert.False(running.IsCompleted);
        Assert.False(disposing.IsCompleted);

        model.ReleaseOne();
        Assert.Equal(1f, Value(await running.WaitAsync(TimeSpan.FromSeconds(30))));
        await disposing.WaitAsync(TimeSpan.FromSeconds(30));
        // A second DisposeAsync (and a Dispose) find it done.
        await batcher.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        batcher.Dispose();
        Assert.Equal(new float[][] { [1f] }, model.Executions);
    }

    [Fact]
    public async Task BatchBuffersGoBackToThePoolAndResponsesDoNotReadThemAfterwards()
    {
        var model = new EchoExecutor(gated: false);
        var pool = new PoisoningPool();
        await using var batcher = new DynamicBatcher(model, TwoPerExecution(), 2, pool);
        var first = await Both(batcher, 1, 2);
        var second = await Both(batcher, 3, 4);
        // One input, one buffer per two-request batch, each back in the pool (and poisoned) by now; the answers kept their values.
        Assert.Equal(2, pool.Rented);
        Assert.Equal(2, pool.Returned);
        Assert.Equal(new[] { 1f, 2f, 3f, 4f }, new[] { first.A, first.B, second.A, second.B });
        // The executor saw exactly the batch's rows, not the pool's larger buffer.
        Assert.Equal(new float[][] { [1f, 2f], [3f, 4f] }, model.Executions);
    }

    [Fact]
    public async Task ABatchBufferOutlivesItsExecutionAndComesBackWhenItFails()
    {
        var model = new EchoExecutor(gated: true) { Fail = true };
        var pool = new PoisoningPool();
        var batcher = new DynamicBatcher(model, TwoPerExecution(), 2, pool);
        var a = batcher.EnqueueAsync(Request(1), default);
        var b = batcher.EnqueueAsync(Request(2), default);
        await model.WaitStartedAsync();
        var disposing = batcher.DisposeAsync().AsTask();
        // Held while the execution runs, even with the batcher stopping.
        Assert.Equal(1, pool.Rented);
        Assert.Equal(0, pool.Returned);
        model.ReleaseOne();
        Assert.Equal("echo failed", (await Assert.ThrowsAsync<InferenceException>(() => a.WaitAsync(TimeSpan.FromSeconds(30)))).Message);
        Assert.Equal("echo failed", (await Assert.ThrowsAsync<InferenceException>(() => b.WaitAsync(TimeSpan.FromSeconds(30)))).Message);
        await disposing.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(1, pool.Returned);
    }

    private static async Task<(float A, float B)> Both(DynamicBatcher batcher, float a, float b)
    {
        var ta = batcher.EnqueueAsync(Request(a), default);
        var tb = batcher.EnqueueAsync(Request(b), default);
        var ra = await ta.WaitAsync(TimeSpan.FromSeconds(30));
        var rb = await tb.WaitAsync(TimeSpan.FromSeconds(30));
        return (Value(ra), Value(rb));
    }

    private static InferenceRequest Request(float value) => new()
    {
        ModelName = "echo",
        Inputs = new Dictionary<string, TensorData>(StringComparer.Ordinal)
        {
            ["x"] = new TensorData(DataType.TypeFp32, [1, 1], MemoryMarshal.AsBytes<float>([value]).ToArray()),
        },
    };

    private static float Value(ExecutionOutputs e) => Assert.Single(MemoryMarshal.Cast<byte, float>(e.Outputs["y"].Bytes.Span).ToArray());

    private static ModelDynamicBatching OnePerExecution()
    {
        var c = new ModelDynamicBatching();
        c.PreferredBatchSize.Add(1);
        return c;
    }

    /// <summary>Two requests per execution, waited for as long as a test needs.</summary>
    private static ModelDynamicBatching TwoPerExecution()
    {
        var c = new ModelDynamicBatching { MaxQueueDelayMicroseconds = 30_000_000 };
        c.PreferredBatchSize.Add(2);
        return c;
    }
}
