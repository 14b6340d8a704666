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
        Assert.False((await s.Client.ModelReadyAsync(new ModelReadyRequest { Name = "deepclean-stream" })).Ready);
        await s.Client.RepositoryModelLoadAsync(new RepositoryModelLoadRequest { ModelName = "deepclean-stream" });
        var ready = (await s.Client.RepositoryIndexAsync(new RepositoryIndexRequest { Ready = true })).Models.Select(m => m.Name).ToList();
        Assert.Equal(["deepclean-h1", "deepclean-stream", "snapshotter-stream"], ready);
        await s.Client.RepositoryModelUnloadAsync(new RepositoryModelUnloadRequest { ModelName = "deepclean-h1" });
        Assert.False((await s.Client.ModelReadyAsync(new ModelReadyRequest { Name = "deepclean-h1" })).Ready);
        var e = await TestServer.Fails(async () => await s.Client.RepositoryModelLoadAsync(new RepositoryModelLoadRequest { ModelName = "../outside" }));
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        e = await TestServer.Fails(async () => await s.Client.RepositoryModelLoadAsync(new RepositoryModelLoadRequest { ModelName = "not-there" }));
        Assert.Equal(StatusCode.NotFound, e.StatusCode);
    }

    [Fact]
    public async Task ABucketPrefixServesLikeADirectory()
    {
        var dir = Directory.CreateTempSubdirectory("gwrepro-bucket-repo-");
        try
        {
            var models = ModelRepositoryBuilder.Build(TestServer.SmallOptions);
            await ModelRepository.WriteAsync(Path.Combine(dir.FullName, "models"), models);
            // The storage module's local bucket stands in for s3:// and gs:// (same interface, same key layout).
            var store = new BucketModelRepositoryStore(new GwReprocess.Storage.LocalBucket("/"), Path.Combine(dir.FullName, "models").TrimStart('/'));
            Assert.Equal(models.Select(m => m.Name).Order(StringComparer.Ordinal), await store.ListModelsAsync(CancellationToken.None));
            Assert.Equal([1L], await store.ListVersionsAsync("gwe2e", CancellationToken.None));
            await Assert.ThrowsAsync<BadInputException>(() => store.ReadFileAsync("deepclean-h1", "../bbhnet/1/model.onnx", CancellationToken.None));
            using var manager = new ModelManager(store, ModelControlMode.None, new GwReprocess.Server.Execution.OnnxSessionSettings(1, 1), _ => { });
            await manager.LoadAllAsync(CancellationToken.None);
            Assert.Equal(models.Count, manager.ReadyModelCount);
            var x = TestServer.Signal(2 * 3 * 1024, 12);
            var result = await manager.InferAsync(new GwReprocess.Server.Execution.InferenceRequest
            {
                ModelName = "deepclean-h1",
                Inputs = new() { ["witness"] = new GwReprocess.Server.Execution.TensorData(DataType.TypeFp32, [2, 3, 1024], System.Runtime.InteropServices.MemoryMarshal.AsBytes(x.AsSpan()).ToArray()) },
            }, CancellationToken.None);
            var noise = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(result.Outputs.Single().Tensor.Bytes.Span).ToArray();
            TestServer.Close(TestServer.RunInProcess(models.Single(m => m.Name == "deepclean-h1"), ("witness", x, [2, 3, 1024]))["noise"], noise, 0);
        }
        finally { dir.Delete(true); }
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
        // Triton: a known model that is not ready answers ready=false; inference on it is UNAVAILABLE.
        Assert.False((await s.Client.ModelReadyAsync(new ModelReadyRequest { Name = "bbhnet" })).Ready);
        var unavailable = await TestServer.Fails(async () => await s.Client.ModelInferAsync(TestServer.RawRequest("bbhnet", "strain", new float[2 * 2 * 1024], [2, 2, 1024])));
        Assert.Equal(StatusCode.Unavailable, unavailable.StatusCode);
        await using var fallback = await TestServer.StartAsync(o => o with { AllowCpuFallback = true },
            edit: models => models.Single(m => m.Name == "bbhnet").Config.InstanceGroup[0].Kind = ModelInstanceGroup.Types.Kind.Gpu);
        Assert.True((await fallback.Client.ModelReadyAsync(new ModelReadyRequest { Name = "bbhnet" })).Ready);
        // The startup log says what the build has, why the GPU instance runs on the CPU, and where each instance is.
        string[] log;
        lock (fallback.Log) log = [.. fallback.Log];
        Assert.Contains(log, l => l.StartsWith("ONNX Runtime ", StringComparison.Ordinal) && l.Contains("execution providers: ") && l.Contains("CPUExecutionProvider"));
        Assert.Contains($"model 'bbhnet' version 1: KIND_GPU instances run on the CPU (--allow-cpu-fallback): {GwReprocess.Server.Execution.GpuEnvironment.NoCudaProvider}", log);
        Assert.Contains("model 'bbhnet' version 1 instance 0 (group 'bbhnet'): CPU", log);
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
        // Triton's own text (core infer_request.cc): the batch size is checked before the shape.
        Assert.Equal("inference request batch-size must be <= 8 for 'doubler'", e.Status.Detail);
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
            using var rv = Rendezvous.Open("file://" + dir);
            await rv.PublishAsync("server0", "node17.example", 8001, CancellationToken.None);
            Assert.Equal("node17.example:8001\n", File.ReadAllText(Path.Combine(dir, "servers", "server0")));
            Assert.Equal("node17.example:8001", (await rv.ServersAsync(CancellationToken.None))["server0"]);
            Assert.Equal(System.Net.Dns.GetHostName(), Rendezvous.AdvertisedHost("0.0.0.0"));
            await Assert.ThrowsAsync<BadInputException>(() => rv.PublishAsync("../x", "h", 1, CancellationToken.None));
            var wait = rv.WaitForStopAsync(TimeSpan.FromMilliseconds(20), CancellationToken.None);
            await Task.Delay(100);
            Assert.False(wait.IsCompleted);
            File.WriteAllText(Path.Combine(dir, Rendezvous.StopMarker), "");
            await wait.WaitAsync(TimeSpan.FromSeconds(5));
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }
}

/// <summary>TLS, HTTP binary tensors and the periodic summary line.</summary>
public sealed class TransportTests
{
    [Fact]
    public async Task TlsOnAllPortsWithTheGivenCertificate()
    {
        var dir = Directory.CreateTempSubdirectory("gwrepro-tls-");
        try
        {
            using var key = System.Security.Cryptography.RSA.Create(2048);
            var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=127.0.0.1", key,
                System.Security.Cryptography.HashAlgorithmName.SHA256, System.Security.Cryptography.RSASignaturePadding.Pkcs1);
            var san = new System.Security.Cryptography.X509Certificates.SubjectAlternativeNameBuilder();
            san.AddIpAddress(System.Net.IPAddress.Loopback);
            request.CertificateExtensions.Add(san.Build());
            using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
            var certPath = Path.Combine(dir.FullName, "server.crt");
            var keyPath = Path.Combine(dir.FullName, "server.key");
            File.WriteAllText(certPath, cert.ExportCertificatePem());
            File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
            await using var s = await TestServer.StartAsync(o => o with { TlsCertificate = certPath, TlsKey = keyPath });
            var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, c, _, _) => c is not null && c.Thumbprint == cert.Thumbprint };
            using var channel = Grpc.Net.Client.GrpcChannel.ForAddress($"https://127.0.0.1:{s.Server.GrpcPort}", new Grpc.Net.Client.GrpcChannelOptions { HttpHandler = handler });
            var client = new GRPCInferenceService.GRPCInferenceServiceClient(channel);
            Assert.True((await client.ServerLiveAsync(new ServerLiveRequest())).Live);
            using var https = new HttpClient(new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, c, _, _) => c?.Thumbprint == cert.Thumbprint });
            Assert.Equal(System.Net.HttpStatusCode.OK, (await https.GetAsync($"https://127.0.0.1:{s.Server.HttpPort}/v2/health/ready")).StatusCode);
            // Plain text on a TLS port gets nowhere.
            await Assert.ThrowsAnyAsync<Exception>(() => new HttpClient().GetAsync($"http://127.0.0.1:{s.Server.HttpPort}/v2/health/ready"));
        }
        finally { dir.Delete(true); }
    }

    [Fact]
    public async Task HttpBinaryTensorExtensionAndSummaryLine()
    {
        await using var s = await TestServer.StartAsync(o => o with { SummaryInterval = TimeSpan.FromMilliseconds(200) });
        var x = TestServer.Signal(2 * 3 * 1024, 8);
        var header = System.Text.Encoding.UTF8.GetBytes(
            "{\"inputs\":[{\"name\":\"witness\",\"datatype\":\"FP32\",\"shape\":[2,3,1024],\"parameters\":{\"binary_data_size\":" + x.Length * 4 + "}}]," +
            "\"outputs\":[{\"name\":\"noise\",\"parameters\":{\"binary_data\":true}}]}");
        var body = header.Concat(System.Runtime.InteropServices.MemoryMarshal.AsBytes(x.AsSpan()).ToArray()).ToArray();
        var content = new ByteArrayContent(body);
        content.Headers.Add("Inference-Header-Content-Length", header.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var response = await s.Http.PostAsync("/v2/models/deepclean-h1/infer", content);
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        int jsonLength = int.Parse(response.Headers.GetValues("Inference-Header-Content-Length").Single(), System.Globalization.CultureInfo.InvariantCulture);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        var json = System.Text.Json.Nodes.JsonNode.Parse(bytes.AsSpan(0, jsonLength))!;
        Assert.Equal(2 * 1024 * 4, json["outputs"]![0]!["parameters"]!["binary_data_size"]!.GetValue<int>());
        var noise = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(bytes.AsSpan(jsonLength)).ToArray();
        TestServer.Close(TestServer.RunInProcess(s.Model("deepclean-h1"), ("witness", x, [2, 3, 1024]))["noise"], noise, 0);
        for (int i = 0; i < 50; i++)
        {
            lock (s.Log) if (s.Log.Any(l => l.StartsWith("summary: ", StringComparison.Ordinal) && l.Contains("1 model requests ok", StringComparison.Ordinal))) return;
            await Task.Delay(100);
        }
        lock (s.Log) Assert.Fail("no summary line counting the request: " + string.Join(" | ", s.Log.Where(l => l.StartsWith("summary", StringComparison.Ordinal))));
    }
}
