using GwReprocess.Server.Execution;

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
        var runs = Enumerable.Range(0, 40).Select(_ => threads.RunAsync(instance =>
        {
            lock (busy) { if (++busy[instance] > 1) overlap++; }
            var name = Thread.CurrentThread.Name!;
            var previous = seen.GetOrAdd(instance, (name, Environment.CurrentManagedThreadId));
            Assert.Equal(previous, (name, Environment.CurrentManagedThreadId)); // an instance never changes thread
            Thread.Sleep(2);
            lock (busy) busy[instance]--;
            return instance;
        }, null, CancellationToken.None)).ToArray();
        var used = await Task.WhenAll(runs).WaitAsync(Limit);
        Assert.Equal(0, overlap);
        Assert.Equal(["a", "b"], used.Distinct().Order());
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
}
