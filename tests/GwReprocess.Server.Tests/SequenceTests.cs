using System.Diagnostics;
using Grpc.Core;
using GwReprocess.Models;
using Inference;
using static GwReprocess.Server.Tests.SnapshotStream;

namespace GwReprocess.Server.Tests;

/// <summary>Implicit state through the snapshotter: one state per sequence, zeros on START, freed by END or the idle timer.</summary>
public sealed class SequenceTests(SharedServer shared) : IClassFixture<SharedServer>
{
    private static ModelInferRequest Request(float[] update, InferParameter id, bool start, bool end, string tag)
    {
        var r = TestServer.RawRequest(ModelRepositoryBuilder.StreamSnapshotter, "snapshot_update", update, [1, C, B * S], tag);
        r.Parameters["sequence_id"] = id;
        r.Parameters["sequence_start"] = new InferParameter { BoolParam = start };
        r.Parameters["sequence_end"] = new InferParameter { BoolParam = end };
        return r;
    }

    [Fact]
    public async Task InterleavedSequencesEachGetTheirOwnWindowsAndStartResets()
    {
        const int n = 6;
        var a = Signal(n, 1);
        var b = Signal(n, 2);
        var idA = new InferParameter { Int64Param = 4242 };
        var idB = new InferParameter { StringParam = "job-17" };
        using var call = shared.Server.Client.ModelStreamInfer();
        for (int i = 0; i < n; i++)
        {
            await call.RequestStream.WriteAsync(Request(Update(a, i), idA, i == 0, i == n - 1, $"a{i}"));
            await call.RequestStream.WriteAsync(Request(Update(b, i), idB, i == 0, i == n - 1, $"b{i}"));
        }
        // A restarts: START discards the old state, so its windows are those of a fresh stream.
        var c = Signal(2, 3);
        for (int i = 0; i < 2; i++) await call.RequestStream.WriteAsync(Request(Update(c, i), idA, i == 0, false, $"c{i}"));
        await call.RequestStream.CompleteAsync();
        var responses = new List<ModelStreamInferResponse>();
        await foreach (var r in call.ResponseStream.ReadAllAsync()) responses.Add(r);
        Assert.Equal(2 * n + 2, responses.Count);
        Assert.All(responses, r => Assert.Equal("", r.ErrorMessage));
        for (int i = 0; i < n; i++)
        {
            TestServer.Close(ExpectedWindows(a, i), TestServer.Output(responses[2 * i].InferResponse, "witness"), 0);
            TestServer.Close(ExpectedWindows(b, i), TestServer.Output(responses[2 * i + 1].InferResponse, "witness"), 0);
        }
        for (int i = 0; i < 2; i++) TestServer.Close(ExpectedWindows(c, i), TestServer.Output(responses[2 * n + i].InferResponse, "witness"), 0);
        // The string-id sequence ended: its next non-START request is refused.
        var e = await TestServer.Fails(async () => await shared.Server.Client.ModelInferAsync(Request(Update(b, 0), idB, false, false, "late")));
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        await shared.Server.Client.ModelInferAsync(Request(Update(c, 0), idA, false, true, "end-a"));
    }

    [Fact]
    public async Task BackloggedSequencesArePendingAndACancelledOneFailsAsCanceled()
    {
        // One slot that never idles out during the test: a second and third sequence wait in the backlog for as long as the test wants.
        await using var server = await TestServer.StartAsync(
            edit: models => models.Single(m => m.Name == ModelRepositoryBuilder.StreamSnapshotter).Config.SequenceBatching.MaxSequenceIdleMicroseconds = 60_000_000,
            options: TestServer.SmallOptions with { SnapshotterInstances = 1 });
        string model = ModelRepositoryBuilder.StreamSnapshotter;
        string pending = $"nv_inference_pending_request_count{{model=\"{model}\",version=\"1\"}} ";
        string canceled = $"nv_inference_request_failure{{model=\"{model}\",reason=\"CANCELED\",version=\"1\"}} ";
        async Task<string> When(Func<string, bool> condition, string what)
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (true)
            {
                var text = await server.Metrics.GetStringAsync("/metrics");
                if (condition(text)) return text;
                Assert.True(DateTime.UtcNow < deadline, $"metrics never showed {what}:\n{text}");
                await Task.Delay(20);
            }
        }

        var x = Signal(2, 5);
        var first = new InferParameter { Int64Param = 1 };
        await server.Client.ModelInferAsync(Request(Update(x, 0), first, true, false, "1"));
        Assert.Contains(pending + "0\n", await server.Metrics.GetStringAsync("/metrics"));
        var waiting = server.Client.ModelInferAsync(Request(Update(x, 0), new InferParameter { Int64Param = 2 }, true, false, "2")).ResponseAsync;
        using var cancel = new CancellationTokenSource();
        var cancelled = server.Client.ModelInferAsync(Request(Update(x, 0), new InferParameter { Int64Param = 3 }, true, false, "3"), cancellationToken: cancel.Token).ResponseAsync;
        var both = await When(t => t.Contains(pending + "2\n"), "2 pending");
        Assert.Contains(canceled + "0\n", both);

        cancel.Cancel();
        Assert.Equal(StatusCode.Cancelled, (await Assert.ThrowsAsync<RpcException>(() => cancelled)).StatusCode);
        var one = await When(t => t.Contains(canceled + "1\n"), "CANCELED 1");
        Assert.Contains(pending + "1\n", one);

        // END frees the slot: the backlogged sequence runs from zero state, and nothing is pending.
        await server.Client.ModelInferAsync(Request(Update(x, 1), first, false, true, "1-end"));
        TestServer.Close(ExpectedWindows(x, 0), TestServer.Output(await waiting, "witness"), 0);
        Assert.Contains(pending + "0\n", await server.Metrics.GetStringAsync("/metrics"));
    }

    [Fact]
    public async Task IdleTimeoutFreesTheSlotForAWaitingSequence()
    {
        // One instance = one slot; idle after 300 ms.
        await using var server = await TestServer.StartAsync(
            edit: models =>
            {
                var snap = models.Single(m => m.Name == ModelRepositoryBuilder.StreamSnapshotter).Config;
                snap.SequenceBatching.MaxSequenceIdleMicroseconds = 300_000;
            },
            options: TestServer.SmallOptions with { SnapshotterInstances = 1 });
        var x = Signal(2, 4);
        var first = new InferParameter { Int64Param = 1 };
        var second = new InferParameter { Int64Param = 2 };
        await server.Client.ModelInferAsync(Request(Update(x, 0), first, true, false, "1"));
        var sw = Stopwatch.StartNew();
        // The second sequence waits in the backlog until the idle timer frees the first one's slot.
        var r = await server.Client.ModelInferAsync(Request(Update(x, 0), second, true, false, "2"));
        Assert.True(sw.ElapsedMilliseconds >= 200, $"second sequence got a slot after {sw.ElapsedMilliseconds} ms, before the first idled out");
        TestServer.Close(ExpectedWindows(x, 0), TestServer.Output(r, "witness"), 0);
        var e = await TestServer.Fails(async () => await server.Client.ModelInferAsync(Request(Update(x, 1), first, false, false, "1b")));
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Contains("START flag", e.Status.Detail);
    }

    [Fact]
    public async Task SequencesFreedByEndOrIdleTimeoutNoLongerPinAVersion()
    {
        await using var server = await TestServer.StartAsync(edit: models =>
            models.Single(m => m.Name == ModelRepositoryBuilder.StreamSnapshotter).Config.SequenceBatching.MaxSequenceIdleMicroseconds = 200_000);
        var models = server.Server.Core.Models;
        var x = Signal(2, 5);
        var ended = new InferParameter { Int64Param = 11 };
        var idle = new InferParameter { Int64Param = 12 };
        await server.Client.ModelInferAsync(Request(Update(x, 0), ended, true, false, "a"));
        await server.Client.ModelInferAsync(Request(Update(x, 0), idle, true, false, "b"));
        Assert.Equal(2, models.PinnedSequences(ModelRepositoryBuilder.StreamSnapshotter));
        await server.Client.ModelInferAsync(Request(Update(x, 1), ended, false, true, "a2"));
        Assert.Equal(1, models.PinnedSequences(ModelRepositoryBuilder.StreamSnapshotter));
        // The idle timer frees the other slot; its pin must go with it.
        var sw = Stopwatch.StartNew();
        while (models.PinnedSequences(ModelRepositoryBuilder.StreamSnapshotter) > 0 && sw.Elapsed < TimeSpan.FromSeconds(10)) await Task.Delay(20);
        Assert.Equal(0, models.PinnedSequences(ModelRepositoryBuilder.StreamSnapshotter));
        Assert.True(sw.ElapsedMilliseconds >= 100, $"the idle sequence was forgotten after {sw.ElapsedMilliseconds} ms, before its 200 ms idle time");
        var e = await TestServer.Fails(async () => await server.Client.ModelInferAsync(Request(Update(x, 1), idle, false, false, "b2")));
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
    }

    [Fact]
    public async Task WithIoBindingOnTheServerKeepsTheStateInInstanceMemoryAndGivesTheSameWindows()
    {
        string model = ModelRepositoryBuilder.StreamSnapshotter;
        await using var server = await TestServer.StartAsync(edit: models =>
            models.Single(m => m.Name == model).Config.Parameters["io_binding"] = new ModelParameter { StringValue = "on" });
        lock (server.Log)
            Assert.Equal(2, server.Log.Count(l => l.StartsWith($"model '{model}' version 1 instance", StringComparison.Ordinal) &&
                                                  l.EndsWith(": CPU, IO binding (CPU memory), sequence state kept in its memory", StringComparison.Ordinal)));
        const int n = 5;
        var a = Signal(n, 6);
        var b = Signal(n, 7);
        var idA = new InferParameter { Int64Param = 31 };
        var idB = new InferParameter { Int64Param = 32 };
        for (int i = 0; i < n; i++)
        {
            var ra = await server.Client.ModelInferAsync(Request(Update(a, i), idA, i == 0, i == n - 1, $"a{i}"));
            var rb = await server.Client.ModelInferAsync(Request(Update(b, i), idB, i == 0, i == n - 1, $"b{i}"));
            TestServer.Close(ExpectedWindows(a, i), TestServer.Output(ra, "witness"), 0);
            TestServer.Close(ExpectedWindows(b, i), TestServer.Output(rb, "witness"), 0);
        }
        Assert.Equal(0, server.Server.Core.Models.PinnedSequences(model));
    }
}
