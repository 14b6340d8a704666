using Google.Protobuf;
using GwReprocess.Models;
using GwReprocess.Models.Onnx;
using GwReprocess.Server.Execution;
using Inference;

namespace GwReprocess.Server.Tests;

/// <summary>Model instance threads: each instance runs on its own named thread, one execution at a time; a cancelled queued execution never runs; disposal drains the queue.</summary>
public sealed class InstanceThreadsTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task EachInstanceRunsOnItsOwnNamedThreadOneExecutionAtATime()
    {
        string[] instances = ["a", "b"];
        using var threads = new InstanceThreads<string>("m", 3, instances);
        var busy = new Dictionary<string, int> { ["a"] = 0, ["b"] = 0 };
        var seen = new System.Collections.Concurrent.ConcurrentDictionary<string, (string Thread, int Id)>();
        int overlap = 0;
        void Record(string instance)
        {
            var here = (Thread.CurrentThread.Name!, Environment.CurrentManagedThreadId);
            Assert.Equal(seen.GetOrAdd(instance, here), here); // an instance never changes thread
        }
        // Both instances must take one of the first two executions (each waits for the other), whatever the machine's load.
        using var both = new Barrier(2);
        var first = Enumerable.Range(0, 2).Select(_ => threads.RunAsync(instance =>
        {
            Record(instance);
            return both.SignalAndWait(Limit) ? instance : throw new TimeoutException("one instance never ran");
        }, null, CancellationToken.None)).ToArray();
        Assert.Equal(["a", "b"], (await Task.WhenAll(first).WaitAsync(Limit)).Order());
        var runs = Enumerable.Range(0, 40).Select(_ => threads.RunAsync(instance =>
        {
            lock (busy) { if (++busy[instance] > 1) overlap++; }
            Record(instance);
            Thread.Sleep(2);
            lock (busy) busy[instance]--;
            return instance;
        }, null, CancellationToken.None)).ToArray();
        var used = await Task.WhenAll(runs).WaitAsync(Limit);
        Assert.Equal(0, overlap);
        Assert.Equal(40, used.Length);
        Assert.Equal(["ORT:m v3 #0", "ORT:m v3 #1"], seen.Values.Select(v => v.Thread).Order());
        Assert.NotEqual(seen["a"].Id, seen["b"].Id);
        Assert.All(seen.Values, v => Assert.StartsWith(InstanceThreadNames.Prefix, v.Thread, StringComparison.Ordinal));
    }

    [Fact]
    public async Task CancelledWhileQueuedNeverRunsAndTheInstanceGoesOn()
    {
        using var threads = new InstanceThreads<int>("m", 1, [0]);
        using var gate = new ManualResetEventSlim();
        var first = threads.RunAsync(_ => { gate.Wait(Limit); return 1; }, null, CancellationToken.None);
        using var cts = new CancellationTokenSource();
        bool ran = false, started = false;
        var queued = threads.RunAsync(_ => ran = true, () => started = true, cts.Token);
        cts.Cancel();
        var e = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queued.WaitAsync(Limit));
        Assert.Equal(cts.Token, e.CancellationToken);
        gate.Set();
        Assert.Equal(1, await first.WaitAsync(Limit));
        Assert.Equal(7, await threads.RunAsync(_ => 7, null, CancellationToken.None).WaitAsync(Limit));
        Assert.False(ran);
        Assert.False(started);
    }

    [Fact]
    public async Task AnExceptionReachesItsCallerOnly()
    {
        using var threads = new InstanceThreads<int>("m", 1, [0]);
        var failing = threads.RunAsync<int>(_ => throw new InvalidOperationException("boom"), null, CancellationToken.None);
        var fine = threads.RunAsync(_ => 2, null, CancellationToken.None);
        Assert.Equal("boom", (await Assert.ThrowsAsync<InvalidOperationException>(() => failing.WaitAsync(Limit))).Message);
        Assert.Equal(2, await fine.WaitAsync(Limit));
    }

    [Fact]
    public void AConfigTheBatcherRefusesLeavesNoInstanceThreadBehind()
    {
        var g = new OnnxGraphBuilder("badprio");
        var x = g.Input("x", NetworkBuilder.Float, OnnxDim.Symbolic("batch"), 4);
        g.Node("Identity", [x], "y");
        g.Output("y", NetworkBuilder.Float, OnnxDim.Symbolic("batch"), 4);
        var config = ModelConfigs.Onnx("badprio", 2, ModelInstanceGroup.Types.Kind.Cpu, "identity", [ModelConfigs.Input("x", 4)], [ModelConfigs.Output("y", 4)]);
        config.MaxBatchSize = 8;
        // Two priority levels and no default level: Triton refuses this config, and so does the dynamic batcher.
        config.DynamicBatching = new ModelDynamicBatching { PriorityLevels = 2, DefaultPriorityLevel = 0 };
        Assert.Throws<InferenceException>(() => OnnxModelVersion.Load("badprio", 1, config, g.Build("badprio").ToByteArray(), new OnnxSessionSettings(1, 1)));
        Assert.DoesNotContain(ThreadNames(), n => n.StartsWith("ORT:badprio", StringComparison.Ordinal));
    }

    private static List<string> ThreadNames()
    {
        var names = new List<string>();
        foreach (var task in Directory.EnumerateDirectories("/proc/self/task"))
        {
            try { names.Add(File.ReadAllText(Path.Combine(task, "comm")).TrimEnd('\n')); }
            catch (IOException) { } // ended meanwhile
        }
        return names;
    }

    [Fact]
    public async Task DisposeRunsWhatIsQueuedThenRefusesMore()
    {
        var threads = new InstanceThreads<int>("m", 1, [0]);
        int done = 0;
        var runs = Enumerable.Range(0, 5).Select(_ => threads.RunAsync(_ => { Thread.Sleep(5); return Interlocked.Increment(ref done); }, null, CancellationToken.None)).ToArray();
        threads.Dispose();
        Assert.Equal(5, done);
        Assert.Equal([1, 2, 3, 4, 5], (await Task.WhenAll(runs)).Order());
        Assert.Throws<ObjectDisposedException>(() => { _ = threads.RunAsync(_ => 0, null, CancellationToken.None); }); // synchronously: nothing is queued
    }

    [Fact]
    public async Task RunOnAsyncRunsOnlyOnTheNamedInstanceInOrderAndDisposeFinishesIt()
    {
        var threads = new InstanceThreads<int>("m", 4, [0, 1, 2]);
        var order = new List<int>();
        var pinned = Enumerable.Range(0, 30).Select(k => threads.RunOnAsync(2, instance =>
        {
            lock (order) order.Add(k);
            return instance;
        }, null, CancellationToken.None)).ToArray();
        // Work for any instance meanwhile: it may run anywhere, pinned work only on instance 2.
        var free = Enumerable.Range(0, 30).Select(_ => threads.RunAsync(instance => instance, null, CancellationToken.None)).ToArray();
        threads.Dispose();
        Assert.All(await Task.WhenAll(pinned), i => Assert.Equal(2, i));
        Assert.Equal(Enumerable.Range(0, 30), order);
        Assert.All(await Task.WhenAll(free), i => Assert.InRange(i, 0, 2));
        Assert.Throws<ObjectDisposedException>(() => { _ = threads.RunOnAsync(0, _ => 0, null, CancellationToken.None); });
    }
}
