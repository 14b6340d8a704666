using Grpc.Core;
using GwReprocess.Inference;
using GwReprocess.Models;
using GwReprocess.Models.Onnx;
using Inference;

namespace GwReprocess.Server.Tests;

/// <summary>A server whose extra models batch y = 2x under different queue policies. Each waits up to 1.5 s to fill a preferred
/// batch of 8, so a few batch-1 requests sit in its queue for that long: long enough, and without racing a clock, for a full queue
/// or a 100 ms timeout to show.</summary>
public sealed class QueuePolicyServer : IAsyncLifetime
{
    public const ulong QueueDelayUs = 1_500_000;

    public TestServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await TestServer.StartAsync(edit: models =>
    {
        models.Add(Doubler("qfull", p => p.MaxQueueSize = 2));
        models.Add(Doubler("qreject", p => p.DefaultTimeoutMicroseconds = 100_000));
        models.Add(Doubler("qdelay", p =>
        {
            p.DefaultTimeoutMicroseconds = 100_000;
            p.TimeoutAction = ModelQueuePolicy.Types.TimeoutAction.Delay;
        }));
        models.Add(Doubler("qoverride", p =>
        {
            p.DefaultTimeoutMicroseconds = 10_000_000;
            p.AllowTimeoutOverride = true;
        }));
        models.Add(Doubler("qnooverride", p => p.DefaultTimeoutMicroseconds = 10_000_000));
        // Holds batch-1 requests until 8 rows are queued (a minute's delay never runs out in a test): pending for as long as the test wants.
        models.Add(Doubler("qhold", _ => { }, HoldDelayUs));
    });

    public const ulong HoldDelayUs = 60_000_000;

    public async Task DisposeAsync() => await Server.DisposeAsync();

    private static RepositoryModel Doubler(string name, Action<ModelQueuePolicy> policy, ulong queueDelayUs = QueueDelayUs)
    {
        var g = new OnnxGraphBuilder(name);
        var x = g.Input("x", NetworkBuilder.Float, OnnxDim.Symbolic("batch"), 4);
        var two = g.Initializer("two", [2f], 1);
        g.Node("Mul", [x, two], "y");
        g.Output("y", NetworkBuilder.Float, OnnxDim.Symbolic("batch"), 4);
        var config = ModelConfigs.Onnx(name, 1, ModelInstanceGroup.Types.Kind.Cpu, "2x", [ModelConfigs.Input("x", 4)], [ModelConfigs.Output("y", 4)]);
        config.MaxBatchSize = 8;
        config.DynamicBatching = new ModelDynamicBatching { MaxQueueDelayMicroseconds = queueDelayUs, DefaultQueuePolicy = new ModelQueuePolicy() };
        config.DynamicBatching.PreferredBatchSize.Add(8);
        policy(config.DynamicBatching.DefaultQueuePolicy);
        return new RepositoryModel(name, config, g.Build(name));
    }
}

/// <summary>Triton's queue policy through gRPC: a full queue refuses with UNAVAILABLE at once, timeouts reject or delay, overrides only when
/// allowed; refusals are failures (reason REJECTED) and a stream reports them in-band and goes on.</summary>
public sealed class QueuePolicyTests(QueuePolicyServer fixture) : IClassFixture<QueuePolicyServer>
{
    private TestServer S => fixture.Server;

    private static ModelInferRequest Request(string model, string id, float first, long? timeoutUs = null)
    {
        var r = TestServer.RawRequest(model, "x", [first, first + 1, first + 2, first + 3], [1, 4], id);
        if (timeoutUs is { } t) r.Parameters["timeout"] = new InferParameter { Int64Param = t };
        return r;
    }

    private static void Doubled(ModelInferRequest request, ModelInferResponse response)
    {
        float first = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(request.RawInputContents[0].Span)[0];
        Assert.Equal(new[] { 2 * first, 2 * first + 2, 2 * first + 4, 2 * first + 6 }, TestServer.Output(response, "y"));
    }

    private async Task<(ModelInferRequest Request, ModelInferResponse? Response, RpcException? Error)> TryInfer(ModelInferRequest request)
    {
        // The request's pooled buffers are the server's; keep a copy to check the answer against.
        var kept = request.Clone();
        try { return (kept, await S.Client.ModelInferAsync(request), null); }
        catch (RpcException e) { return (kept, null, e); }
    }

    /// <summary>A batch of 8 fills the preferred size and runs at once.</summary>
    private async Task FullBatchRunsAsync(string model)
    {
        var r = await S.Client.ModelInferAsync(TestServer.RawRequest(model, "x", new float[32], [8, 4]));
        Assert.Equal(new long[] { 8, 4 }, r.Outputs[0].Shape);
    }

    private async Task<ModelStatistics> StatsAsync(string model) =>
        (await S.Client.ModelStatisticsAsync(new ModelStatisticsRequest { Name = model })).ModelStats.Single();

    private async Task<string> MetricsAsync() => await S.Metrics.GetStringAsync("/metrics");

    private static string Failures(string model, string reason, long count) =>
        $"nv_inference_request_failure{{model=\"{model}\",reason=\"{reason}\",version=\"1\"}} {count}";

    [Fact]
    public async Task FullQueueAnswersUnavailableAtOnceAndTheServerKeepsServing()
    {
        await FullBatchRunsAsync("qfull");
        // Three batch-1 requests wait for a batch of 8; max_queue_size 2 holds two of them.
        var results = await Task.WhenAll(Enumerable.Range(0, 3).Select(i => TryInfer(Request("qfull", $"u{i}", 10 * i))));
        var refused = Assert.Single(results, r => r.Error is not null);
        Assert.Equal(StatusCode.Unavailable, refused.Error!.StatusCode);
        Assert.Equal($"[request id: {refused.Request.Id}] Exceeds maximum queue size", refused.Error.Status.Detail);
        foreach (var ok in results.Where(r => r.Error is null)) Doubled(ok.Request, ok.Response!);
        await FullBatchRunsAsync("qfull");

        var stats = await StatsAsync("qfull");
        Assert.Equal(1ul, stats.InferenceStats.Fail.Count);
        Assert.Equal(4ul, stats.InferenceStats.Success.Count);
        var metrics = await MetricsAsync();
        Assert.Contains(Failures("qfull", "REJECTED", 1), metrics);
        Assert.Contains(Failures("qfull", "BACKEND", 0), metrics);

        // The same through a stream: the refusal is in-band, in request order, and the stream goes on.
        using var call = S.Client.ModelStreamInfer();
        var sent = Enumerable.Range(0, 3).Select(i => Request("qfull", $"s{i}", 100 + i)).ToList();
        var copies = sent.Select(r => r.Clone()).ToList();
        foreach (var r in sent) await call.RequestStream.WriteAsync(r);
        var responses = new List<ModelStreamInferResponse>();
        for (int i = 0; i < 3; i++)
        {
            Assert.True(await call.ResponseStream.MoveNext());
            responses.Add(call.ResponseStream.Current);
        }
        Assert.Equal(["s0", "s1", "s2"], responses.Select(r => r.InferResponse.Id));
        var inBand = Assert.Single(responses, r => r.ErrorMessage.Length > 0);
        Assert.Equal($"[request id: {inBand.InferResponse.Id}] Exceeds maximum queue size", inBand.ErrorMessage);
        for (int i = 0; i < 3; i++)
            if (responses[i].ErrorMessage.Length == 0) Doubled(copies[i], responses[i].InferResponse);
        // The queue has drained: the same stream serves the next request.
        await call.RequestStream.WriteAsync(TestServer.RawRequest("qfull", "x", new float[32], [8, 4], "after"));
        await call.RequestStream.CompleteAsync();
        Assert.True(await call.ResponseStream.MoveNext());
        Assert.Equal("after", call.ResponseStream.Current.InferResponse.Id);
        Assert.Equal("", call.ResponseStream.Current.ErrorMessage);
        Assert.Equal(new long[] { 8, 4 }, call.ResponseStream.Current.InferResponse.Outputs[0].Shape);
        Assert.False(await call.ResponseStream.MoveNext());

        Assert.Equal(2ul, (await StatsAsync("qfull")).InferenceStats.Fail.Count);
        Assert.Contains(Failures("qfull", "REJECTED", 2), await MetricsAsync());
    }

    [Fact]
    public async Task TimeoutsRejectOrDelayAndRequestOverridesNeedPermission()
    {
        // Each request waits in its queue for the 1.5 s batch delay, far longer than 100 ms.
        var results = await Task.WhenAll(
            TryInfer(Request("qreject", "reject", 1)),
            TryInfer(Request("qdelay", "delay", 2)),
            TryInfer(Request("qoverride", "override", 3, timeoutUs: 100_000)),
            TryInfer(Request("qoverride", "default", 4)),
            TryInfer(Request("qnooverride", "not-allowed", 5, timeoutUs: 100_000)));
        var byId = results.ToDictionary(r => r.Request.Id);
        foreach (var id in new[] { "reject", "override" })
        {
            var e = byId[id].Error;
            Assert.True(e is not null, $"request '{id}' was not rejected");
            Assert.Equal(StatusCode.Unavailable, e.StatusCode);
            Assert.Equal("Request timeout expired", e.Status.Detail);
        }
        foreach (var id in new[] { "delay", "default", "not-allowed" })
        {
            Assert.True(byId[id].Error is null, $"request '{id}' failed: {byId[id].Error?.Status.Detail}");
            Doubled(byId[id].Request, byId[id].Response!);
        }
        var metrics = await MetricsAsync();
        Assert.Contains(Failures("qreject", "REJECTED", 1), metrics);
        Assert.Contains(Failures("qoverride", "REJECTED", 1), metrics);
        Assert.Contains(Failures("qdelay", "REJECTED", 0), metrics);
        Assert.Contains(Failures("qnooverride", "REJECTED", 0), metrics);
        Assert.Equal(1ul, (await StatsAsync("qreject")).InferenceStats.Fail.Count);
        Assert.Equal(0ul, (await StatsAsync("qdelay")).InferenceStats.Fail.Count);
        await FullBatchRunsAsync("qreject");
    }

    /// <summary>The value of one series in a scrape, or null when the scrape lacks it.</summary>
    private static double? Sample(string metrics, string series)
    {
        foreach (var line in metrics.Split('\n'))
            if (line.StartsWith(series + " ", StringComparison.Ordinal))
                return double.Parse(line[(series.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        return null;
    }

    private static string PendingSeries(string model) => $"nv_inference_pending_request_count{{model=\"{model}\",version=\"1\"}}";

    /// <summary>Scrapes until the condition holds (the server reaches the state asynchronously; nothing here depends on how long that takes).</summary>
    private async Task<string> MetricsWhenAsync(Func<string, bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var metrics = await MetricsAsync();
            if (condition(metrics)) return metrics;
            Assert.True(DateTime.UtcNow < deadline, $"metrics never showed {what}:\n{metrics}");
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task PendingGaugeCountsQueuedRequestsAndACancelledOneFailsAsCanceled()
    {
        var idle = await MetricsAsync();
        Assert.Contains("# HELP nv_inference_pending_request_count Instantaneous number of pending requests awaiting execution per-model.\n" +
                        "# TYPE nv_inference_pending_request_count gauge\n", idle);
        Assert.Equal(0, Sample(idle, PendingSeries("qhold")));
        foreach (var reason in new[] { "REJECTED", "CANCELED", "BACKEND", "OTHER" }) Assert.Contains(Failures("qhold", reason, 0), idle);

        // Three batch-1 requests wait for a batch of 8 that the minute-long delay will not force out.
        var waiting = Enumerable.Range(0, 3).Select(i => TryInfer(Request("qhold", $"w{i}", 10 * i))).ToList();
        using var cancel = new CancellationTokenSource();
        var cancelled = S.Client.ModelInferAsync(Request("qhold", "cancelled", 99), cancellationToken: cancel.Token).ResponseAsync;
        await MetricsWhenAsync(m => Sample(m, PendingSeries("qhold")) == 4, "4 pending");

        // The client gives up on one: it leaves the queue, no longer pending, and fails as CANCELED on the server.
        cancel.Cancel();
        Assert.Equal(StatusCode.Cancelled, (await Assert.ThrowsAsync<RpcException>(() => cancelled)).StatusCode);
        var afterCancel = await MetricsWhenAsync(m => m.Contains(Failures("qhold", "CANCELED", 1)), "CANCELED 1");
        Assert.Equal(3, Sample(afterCancel, PendingSeries("qhold")));
        Assert.Contains(Failures("qhold", "BACKEND", 0), afterCancel);
        Assert.Contains(Failures("qhold", "OTHER", 0), afterCancel);
        Assert.Equal(1ul, (await StatsAsync("qhold")).InferenceStats.Fail.Count);

        // Five more rows make the preferred 8: everything runs and nothing is pending.
        var five = await S.Client.ModelInferAsync(TestServer.RawRequest("qhold", "x", new float[20], [5, 4]));
        Assert.Equal(new long[] { 5, 4 }, five.Outputs[0].Shape);
        foreach (var r in await Task.WhenAll(waiting))
        {
            Assert.True(r.Error is null, $"request '{r.Request.Id}' failed: {r.Error?.Status.Detail}");
            Doubled(r.Request, r.Response!);
        }
        var done = await MetricsAsync();
        Assert.Equal(0, Sample(done, PendingSeries("qhold")));
        Assert.Equal(4, Sample(done, "nv_inference_request_success{model=\"qhold\",version=\"1\"}"));
        Assert.Equal(1, Sample(done, "nv_inference_exec_count{model=\"qhold\",version=\"1\"}"));
        Assert.Contains(Failures("qhold", "CANCELED", 1), done);
    }
}
