using Grpc.Core;
using GwReprocess.Inference;
using GwReprocess.Models;
using GwReprocess.Models.Onnx;
using GwReprocess.Server.Hosting;
using GwReprocess.Server.Repository;
using Inference;

namespace GwReprocess.Server.Tests;

/// <summary>Model control, version policies, instance kinds, the dynamic batcher, and the rendezvous files.</summary>
public sealed class RepositoryTests
{
    [Fact]
    public async Task ExplicitModeLoadsOnRequestWithDependenciesAndUnloads()
    {
        await using var s = await TestServer.StartAsync(o => o with { ModelControl = ModelControlMode.Explicit });
        var index = await s.Client.RepositoryIndexAsync(new RepositoryIndexRequest());
        Assert.All(index.Models, m => Assert.Equal("UNAVAILABLE", m.State));
        Assert.Equal(StatusCode.NotFound, (await TestServer.Fails(async () => await s.Client.ModelReadyAsync(new ModelReadyRequest { Name = "deepclean-stream" }))).StatusCode);
        await s.Client.RepositoryModelLoadAsync(new RepositoryModelLoadRequest { ModelName = "deepclean-stream" });
        var ready = (await s.Client.RepositoryIndexAsync(new RepositoryIndexRequest { Ready = true })).Models.Select(m => m.Name).ToList();
        Assert.Equal(["deepclean-h1", "deepclean-stream", "snapshotter-stream"], ready);
        await s.Client.RepositoryModelUnloadAsync(new RepositoryModelUnloadRequest { ModelName = "deepclean-h1" });
        Assert.Equal(StatusCode.NotFound, (await TestServer.Fails(async () => await s.Client.ModelReadyAsync(new ModelReadyRequest { Name = "deepclean-h1" }))).StatusCode);
        var e = await TestServer.Fails(async () => await s.Client.RepositoryModelLoadAsync(new RepositoryModelLoadRequest { ModelName = "../outside" }));
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        e = await TestServer.Fails(async () => await s.Client.RepositoryModelLoadAsync(new RepositoryModelLoadRequest { ModelName = "not-there" }));
        Assert.Equal(StatusCode.NotFound, e.StatusCode);
    }

    [Fact]
    public void VersionPolicyPicksLatestAllOrSpecific()
    {
        long[] available = [1, 2, 5, 7];
        Assert.Equal([7], ModelManager.Policy(null, available));
        Assert.Equal([5, 7], ModelManager.Policy(new ModelVersionPolicy { Latest = new() { NumVersions = 2 } }, available));
        Assert.Equal(available, ModelManager.Policy(new ModelVersionPolicy { All = new() }, available));
        var specific = new ModelVersionPolicy { Specific = new() };
        specific.Specific.Versions.AddRange([2, 3]);
        Assert.Equal([2], ModelManager.Policy(specific, available));
    }

    [Fact]
    public async Task SeveralVersionsServedUnderPolicyAllAndGpuKindNeedsCudaOrFallback()
    {
        await using var s = await TestServer.StartAsync(edit: models =>
        {
            models.Single(m => m.Name == "deepclean-h1").Config.VersionPolicy = new ModelVersionPolicy { All = new() };
            models.Single(m => m.Name == "bbhnet").Config.InstanceGroup[0].Kind = ModelInstanceGroup.Types.Kind.Gpu;
        });
        Directory.CreateDirectory(Path.Combine(s.Repository, "deepclean-h1", "3"));
        File.Copy(Path.Combine(s.Repository, "deepclean-h1", "1", "model.onnx"), Path.Combine(s.Repository, "deepclean-h1", "3", "model.onnx"));
        await s.Server.Core.Models.LoadAsync("deepclean-h1", CancellationToken.None);
        var meta = await s.Client.ModelMetadataAsync(new ModelMetadataRequest { Name = "deepclean-h1" });
        Assert.Equal(["1", "3"], meta.Versions);
        var x = new float[2 * 3 * 1024];
        var r1 = TestServer.RawRequest("deepclean-h1", "witness", x, [2, 3, 1024]);
        r1.ModelVersion = "1";
        Assert.Equal("1", (await s.Client.ModelInferAsync(r1)).ModelVersion);
        Assert.Equal("3", (await s.Client.ModelInferAsync(TestServer.RawRequest("deepclean-h1", "witness", x, [2, 3, 1024]))).ModelVersion);

        // This build has no CUDA: the KIND_GPU model fails to load with a clear reason; the others serve.
        var index = (await s.Client.RepositoryIndexAsync(new RepositoryIndexRequest())).Models.Single(m => m.Name == "bbhnet");
        Assert.Equal("UNAVAILABLE", index.State);
        Assert.Contains("KIND_GPU", index.Reason);
        Assert.Contains("--allow-cpu-fallback", index.Reason);
        Assert.Equal(StatusCode.Unavailable, (await TestServer.Fails(async () => await s.Client.ModelReadyAsync(new ModelReadyRequest { Name = "bbhnet" }))).StatusCode);
        await using var fallback = await TestServer.StartAsync(o => o with { AllowCpuFallback = true },
            edit: models => models.Single(m => m.Name == "bbhnet").Config.InstanceGroup[0].Kind = ModelInstanceGroup.Types.Kind.Gpu);
        Assert.True((await fallback.Client.ModelReadyAsync(new ModelReadyRequest { Name = "bbhnet" })).Ready);
    }

    /// <summary>y = 2x with a variable batch dim, max_batch_size 8, dynamic batching with preferred size 4.</summary>
    private static RepositoryModel Doubler()
    {
        var g = new OnnxGraphBuilder("doubler");
        var x = g.Input("x", NetworkBuilder.Float, OnnxDim.Symbolic("batch"), 4);
        var two = g.Initializer("two", [2f], 1);
        g.Node("Mul", [x, two], "y");
        g.Output("y", NetworkBuilder.Float, OnnxDim.Symbolic("batch"), 4);
        var config = ModelConfigs.Onnx("doubler", 1, ModelInstanceGroup.Types.Kind.Cpu, "2x", [ModelConfigs.Input("x", 4)], [ModelConfigs.Output("y", 4)]);
        config.MaxBatchSize = 8;
        config.DynamicBatching = new ModelDynamicBatching { MaxQueueDelayMicroseconds = 200_000 };
        config.DynamicBatching.PreferredBatchSize.Add(4);
        return new RepositoryModel("doubler", config, g.Build("doubler"));
    }

    [Fact]
    public async Task DynamicBatcherJoinsConcurrentRequestsAndSplitsTheAnswers()
    {
        await using var s = await TestServer.StartAsync(edit: models => models.Add(Doubler()));
        var meta = await s.Client.ModelMetadataAsync(new ModelMetadataRequest { Name = "doubler" });
        Assert.Equal(new long[] { -1, 4 }, meta.Inputs[0].Shape);
        var calls = Enumerable.Range(0, 8).Select(async i =>
        {
            var x = Enumerable.Range(0, 4).Select(j => (float)(10 * i + j)).ToArray();
            var r = await s.Client.ModelInferAsync(TestServer.RawRequest("doubler", "x", x, [1, 4]));
            Assert.Equal(new long[] { 1, 4 }, r.Outputs[0].Shape);
            Assert.Equal(x.Select(v => 2 * v), TestServer.Output(r, "y"));
        }).ToList();
        await Task.WhenAll(calls);
        var two = await s.Client.ModelInferAsync(TestServer.RawRequest("doubler", "x", new float[8], [2, 4]));
        Assert.Equal(new long[] { 2, 4 }, two.Outputs[0].Shape);
        var e = await TestServer.Fails(async () => await s.Client.ModelInferAsync(TestServer.RawRequest("doubler", "x", new float[36], [9, 4])));
        Assert.Contains("max_batch_size 8", e.Status.Detail);
        var stats = (await s.Client.ModelStatisticsAsync(new ModelStatisticsRequest { Name = "doubler" })).ModelStats.Single();
        Assert.Equal(9ul, stats.InferenceStats.Success.Count);
        Assert.Equal(10ul, stats.InferenceCount);
        Assert.True(stats.ExecutionCount < 9, $"{stats.ExecutionCount} executions for 9 requests: nothing was batched");
    }

    [Fact]
    public async Task RendezvousPublishesTheAddressAtomicallyAndSeesTheStopMarker()
    {
        var dir = Path.Combine(Path.GetTempPath(), "gwrepro-rv-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var rv = Rendezvous.Open("file://" + dir);
            await rv.PublishAsync("server0", "node17.example", 8001, CancellationToken.None);
            Assert.Equal("node17.example:8001\n", File.ReadAllText(Path.Combine(dir, "servers", "server0")));
            Assert.Equal("node17.example:8001", rv.Servers()["server0"]);
            Assert.Equal(System.Net.Dns.GetHostName(), Rendezvous.AdvertisedHost("0.0.0.0"));
            await Assert.ThrowsAsync<BadInputException>(() => rv.PublishAsync("../x", "h", 1, CancellationToken.None));
            var wait = rv.WaitForStopAsync(TimeSpan.FromMilliseconds(20), CancellationToken.None);
            await Task.Delay(100);
            Assert.False(wait.IsCompleted);
            File.WriteAllText(Path.Combine(dir, Rendezvous.StopMarker), "");
            await wait.WaitAsync(TimeSpan.FromSeconds(5));
            Assert.Throws<BadInputException>(() => Rendezvous.Open("s3://bucket/run/rendezvous"));
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }
}
