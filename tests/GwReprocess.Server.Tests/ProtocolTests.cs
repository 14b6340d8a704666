using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Google.Protobuf;
using Grpc.Core;
using Inference;

namespace GwReprocess.Server.Tests;

/// <summary>Every RPC of inference.GRPCInferenceService and the HTTP/metrics ports, with Triton's codes for the error cases.</summary>
public sealed class ProtocolTests(SharedServer shared) : IClassFixture<SharedServer>
{
    private TestServer S => shared.Server;

    private static readonly long[] WitnessShape = [2, 3, 1024];

    [Fact]
    public async Task HealthAndServerMetadata()
    {
        Assert.True((await S.Client.ServerLiveAsync(new ServerLiveRequest())).Live);
        Assert.True((await S.Client.ServerReadyAsync(new ServerReadyRequest())).Ready);
        var meta = await S.Client.ServerMetadataAsync(new ServerMetadataRequest());
        Assert.Equal("gwrepro", meta.Name);
        Assert.Contains("sequence", meta.Extensions);
        Assert.Contains("model_repository", meta.Extensions);
        using var channel = Grpc.Net.Client.GrpcChannel.ForAddress($"http://127.0.0.1:{S.Server.GrpcPort}");
        var health = new Grpc.Health.V1.Health.HealthClient(channel);
        Assert.Equal(Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus.Serving, (await health.CheckAsync(new Grpc.Health.V1.HealthCheckRequest())).Status);
    }

    [Fact]
    public async Task ModelReadyMetadataAndConfigFollowTriton()
    {
        Assert.True((await S.Client.ModelReadyAsync(new ModelReadyRequest { Name = "deepclean-h1" })).Ready);
        Assert.True((await S.Client.ModelReadyAsync(new ModelReadyRequest { Name = "deepclean-h1", Version = "1" })).Ready);
        var meta = await S.Client.ModelMetadataAsync(new ModelMetadataRequest { Name = "snapshotter" });
        Assert.Equal("onnxruntime_onnx", meta.Platform);
        Assert.Equal(["1"], meta.Versions);
        Assert.Equal("snapshot_update", meta.Inputs.Single().Name);
        Assert.Equal("FP32", meta.Inputs[0].Datatype);
        Assert.Equal(new long[] { 1, 8, 64 }, meta.Inputs[0].Shape);
        Assert.Equal(["witness_h1", "witness_l1", "strain"], meta.Outputs.Select(o => o.Name));
        var ens = await S.Client.ModelMetadataAsync(new ModelMetadataRequest { Name = "gwe2e" });
        Assert.Equal("ensemble", ens.Platform);
        // The normalized config: Triton's defaults filled in, state and idle time as written.
        var config = (await S.Client.ModelConfigAsync(new ModelConfigRequest { Name = "snapshotter" })).Config;
        Assert.Equal("snapshotter", config.Name);
        Assert.Equal("onnxruntime", config.Backend);
        Assert.Equal(1u, config.VersionPolicy.Latest.NumVersions);
        Assert.Equal(ModelInstanceGroup.Types.Kind.Cpu, config.InstanceGroup[0].Kind);
        Assert.Equal("input_snapshot", config.SequenceBatching.State.Single().InputName);
        Assert.True(config.SequenceBatching.State[0].InitialState[0].ZeroData);
    }

    [Theory]
    [InlineData("no-such-model", "")]
    [InlineData("deepclean-h1", "7")]
    [InlineData("../deepclean-h1", "")]
    public async Task UnknownModelOrVersionIsNotFoundOnEveryRpc(string name, string version)
    {
        // Except ModelReady: Triton's core answers a failed lookup with ready false.
        Assert.False((await S.Client.ModelReadyAsync(new ModelReadyRequest { Name = name, Version = version })).Ready);
        Assert.Equal(StatusCode.NotFound, (await TestServer.Fails(async () => await S.Client.ModelMetadataAsync(new ModelMetadataRequest { Name = name, Version = version }))).StatusCode);
        Assert.Equal(StatusCode.NotFound, (await TestServer.Fails(async () => await S.Client.ModelConfigAsync(new ModelConfigRequest { Name = name, Version = version }))).StatusCode);
        Assert.Equal(StatusCode.NotFound, (await TestServer.Fails(async () => await S.Client.ModelStatisticsAsync(new ModelStatisticsRequest { Name = name, Version = version }))).StatusCode);
        var request = TestServer.RawRequest(name, "witness", new float[2 * 3 * 1024], WitnessShape);
        request.ModelVersion = version;
        var e = await TestServer.Fails(async () => await S.Client.ModelInferAsync(request));
        Assert.Equal(StatusCode.NotFound, e.StatusCode);
        Assert.Contains($"'{name}'", e.Status.Detail);
    }

    [Fact]
    public async Task RawAndTypedContentsGiveTheSameAnswerAsOnnxRuntimeInProcess()
    {
        var x = TestServer.Signal(2 * 3 * 1024, 1);
        var raw = await S.Client.ModelInferAsync(TestServer.RawRequest("deepclean-h1", "witness", x, WitnessShape, id: "raw-1"));
        Assert.Equal("raw-1", raw.Id);
        Assert.Equal("deepclean-h1", raw.ModelName);
        Assert.Equal("1", raw.ModelVersion);
        Assert.Equal(new long[] { 2, 1024 }, raw.Outputs.Single().Shape);
        Assert.Equal("FP32", raw.Outputs[0].Datatype);

        var typed = new ModelInferRequest { ModelName = "deepclean-h1", Id = "typed-1" };
        var t = new ModelInferRequest.Types.InferInputTensor { Name = "witness", Datatype = "FP32", Contents = new InferTensorContents() };
        t.Shape.AddRange(WitnessShape);
        t.Contents.Fp32Contents.AddRange(x);
        typed.Inputs.Add(t);
        typed.Outputs.Add(new ModelInferRequest.Types.InferRequestedOutputTensor { Name = "noise" });
        var viaTyped = await S.Client.ModelInferAsync(typed);
        // Triton answers typed requests with raw output contents too.
        Assert.Single(viaTyped.RawOutputContents);
        Assert.Null(viaTyped.Outputs[0].Contents);

        var reference = TestServer.RunInProcess(S.Model("deepclean-h1"), ("witness", x, [2, 3, 1024]))["noise"];
        TestServer.Close(reference, TestServer.Output(raw, "noise"), 0);
        TestServer.Close(reference, TestServer.Output(viaTyped, "noise"), 0);
    }

    [Fact]
    public async Task ShapeDtypeSizeAndMixingErrorsAreInvalidArgument()
    {
        var x = new float[2 * 3 * 1024];
        async Task<string> Invalid(ModelInferRequest r)
        {
            var e = await TestServer.Fails(async () => await S.Client.ModelInferAsync(r));
            Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
            return e.Status.Detail;
        }
        Assert.Contains("unexpected shape for input 'witness'", await Invalid(TestServer.RawRequest("deepclean-h1", "witness", new float[3 * 1024], [1, 3, 1024])));
        var dtype = TestServer.RawRequest("deepclean-h1", "witness", x, WitnessShape);
        dtype.Inputs[0].Datatype = "FP64";
        Assert.Contains("data-type is 'FP64', but model 'deepclean-h1' expects 'FP32'", await Invalid(dtype));
        var size = TestServer.RawRequest("deepclean-h1", "witness", x, WitnessShape);
        size.RawInputContents[0] = ByteString.CopyFrom(new byte[17]);
        // Triton's current text (core infer_request.cc); the request has no id, so no prefix.
        Assert.Equal($"input byte size mismatch for input 'witness' for model 'deepclean-h1'. Expected {x.Length * 4}, got 17", await Invalid(size));
        var mixed = TestServer.RawRequest("deepclean-h1", "witness", x, WitnessShape);
        mixed.Inputs[0].Contents = new InferTensorContents();
        mixed.Inputs[0].Contents.Fp32Contents.AddRange(x);
        Assert.Contains("contents field must not be specified when using raw_input_contents", await Invalid(mixed));
        var missing = new ModelInferRequest { ModelName = "deepclean-h1" };
        Assert.Contains("missing required input(s) ['witness']", await Invalid(missing));
        var unknownOutput = TestServer.RawRequest("deepclean-h1", "witness", x, WitnessShape);
        unknownOutput.Outputs.Add(new ModelInferRequest.Types.InferRequestedOutputTensor { Name = "score" });
        Assert.Contains("unexpected inference output 'score'", await Invalid(unknownOutput));
        var badParameter = TestServer.RawRequest("deepclean-h1", "witness", x, WitnessShape);
        badParameter.Parameters["sequence_start"] = new InferParameter { Int64Param = 1 };
        Assert.Contains("sequence_start", await Invalid(badParameter));
    }

    [Fact]
    public async Task NonStartRequestOnUnknownSequenceIsInvalidArgument()
    {
        var r = TestServer.InSequence(TestServer.RawRequest("snapshotter-stream", "snapshot_update", new float[3 * 64], [1, 3, 64]), 987654, start: false, end: false);
        var e = await TestServer.Fails(async () => await S.Client.ModelInferAsync(r));
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Contains("must specify the START flag on the first request of the sequence", e.Status.Detail);
        var noId = TestServer.RawRequest("snapshotter-stream", "snapshot_update", new float[3 * 64], [1, 3, 64]);
        e = await TestServer.Fails(async () => await S.Client.ModelInferAsync(noId));
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Contains("must specify a non-zero or non-empty correlation ID", e.Status.Detail);
    }

    [Fact]
    public async Task StreamErrorsComeInBandAndTheStreamStaysUsable()
    {
        using var call = S.Client.ModelStreamInfer();
        var x = TestServer.Signal(2 * 3 * 1024, 3);
        await call.RequestStream.WriteAsync(TestServer.RawRequest("deepclean-h1", "witness", x, WitnessShape, id: "ok-1"));
        await call.RequestStream.WriteAsync(TestServer.RawRequest("deepclean-h1", "witness", x[..100], [1, 100], id: "bad-shape"));
        await call.RequestStream.WriteAsync(TestServer.RawRequest("nope", "witness", x, WitnessShape, id: "bad-model"));
        await call.RequestStream.WriteAsync(TestServer.InSequence(TestServer.RawRequest("snapshotter-stream", "snapshot_update", new float[192], [1, 3, 64], id: "bad-seq"), 55, false, false));
        await call.RequestStream.WriteAsync(TestServer.RawRequest("deepclean-h1", "witness", x, WitnessShape, id: "ok-2"));
        await call.RequestStream.CompleteAsync();
        var responses = new List<ModelStreamInferResponse>();
        await foreach (var r in call.ResponseStream.ReadAllAsync()) responses.Add(r);
        // Responses come in request order, each with its request id; errors carry only the id.
        Assert.Equal(["ok-1", "bad-shape", "bad-model", "bad-seq", "ok-2"], responses.Select(r => r.InferResponse.Id));
        Assert.Equal("", responses[0].ErrorMessage);
        Assert.Contains("unexpected shape", responses[1].ErrorMessage);
        Assert.Contains("Request for unknown model: 'nope' is not found", responses[2].ErrorMessage);
        Assert.Contains("START flag", responses[3].ErrorMessage);
        Assert.Empty(responses[1].InferResponse.Outputs);
        Assert.Equal("", responses[4].ErrorMessage);
        Assert.Equal(TestServer.Output(responses[0].InferResponse, "noise"), TestServer.Output(responses[4].InferResponse, "noise"));
    }

    [Fact]
    public async Task StreamWithTritonGrpcErrorHeaderEndsWithTheStatus()
    {
        using var call = S.Client.ModelStreamInfer(new Metadata { { "triton_grpc_error", "true" } });
        await call.RequestStream.WriteAsync(TestServer.RawRequest("nope", "witness", new float[4], [4]));
        var e = await Assert.ThrowsAsync<RpcException>(async () => { await foreach (var _ in call.ResponseStream.ReadAllAsync()) { } });
        Assert.Equal(StatusCode.NotFound, e.StatusCode);
    }

    [Fact]
    public async Task StatisticsAndMetricsCountRequests()
    {
        var before = (await S.Client.ModelStatisticsAsync(new ModelStatisticsRequest { Name = "deepclean-l1" })).ModelStats.Single();
        var x = TestServer.Signal(2 * 3 * 1024, 4);
        for (int i = 0; i < 3; i++) await S.Client.ModelInferAsync(TestServer.RawRequest("deepclean-l1", "witness", x, WitnessShape));
        await TestServer.Fails(async () => await S.Client.ModelInferAsync(TestServer.RawRequest("deepclean-l1", "witness", x, [2, 3, 1023])));
        var after = (await S.Client.ModelStatisticsAsync(new ModelStatisticsRequest { Name = "deepclean-l1", Version = "1" })).ModelStats.Single();
        Assert.Equal(before.InferenceStats.Success.Count + 3, after.InferenceStats.Success.Count);
        Assert.Equal(before.InferenceStats.Fail.Count + 1, after.InferenceStats.Fail.Count);
        Assert.Equal(before.ExecutionCount + 3, after.ExecutionCount);
        Assert.True(after.InferenceStats.ComputeInfer.Ns > before.InferenceStats.ComputeInfer.Ns);
        var all = await S.Client.ModelStatisticsAsync(new ModelStatisticsRequest());
        Assert.Equal(S.Models.Count, all.ModelStats.Count);

        var text = await S.Metrics.GetStringAsync("/metrics");
        Assert.Contains($"nv_inference_request_success{{model=\"deepclean-l1\",version=\"1\"}} {after.InferenceStats.Success.Count}", text);
        Assert.Contains($"nv_inference_exec_count{{model=\"deepclean-l1\",version=\"1\"}} {after.ExecutionCount}", text);
        foreach (var name in new[] { "nv_inference_request_failure", "nv_inference_count", "nv_inference_request_duration_us", "nv_inference_queue_duration_us",
                     "nv_inference_compute_input_duration_us", "nv_inference_compute_infer_duration_us", "nv_inference_compute_output_duration_us",
                     "nv_cpu_utilization", "nv_cpu_memory_used_bytes", "process_resident_memory_bytes" })
            Assert.Contains($"# TYPE {name} ", text);

        // The text parses as Prometheus exposition, every family with Triton's HELP and TYPE lines.
        var samples = GwReprocess.Analysis.PrometheusText.Parse(text);
        foreach (var name in samples.Select(s => s.Name).Distinct())
        {
            Assert.Contains($"# HELP {name} ", text);
            Assert.Contains($"# TYPE {name} ", text);
        }
        foreach (var (name, type, help) in new[]
                 {
                     ("nv_inference_request_failure", "counter", "Number of failed inference requests, all batch sizes"),
                     ("nv_inference_pending_request_count", "gauge", "Instantaneous number of pending requests awaiting execution per-model."),
                     ("nv_model_load_duration_secs", "gauge", "Model load time in seconds"),
                     ("nv_cpu_utilization", "gauge", "CPU utilization rate [0.0 - 1.0]"),
                     ("nv_cpu_memory_total_bytes", "gauge", "CPU total memory (RAM), in bytes"),
                     ("nv_cpu_memory_used_bytes", "gauge", "CPU used memory (RAM), in bytes"),
                 })
            Assert.Contains($"# HELP {name} {help}\n# TYPE {name} {type}\n", text);
        var mine = samples.Where(s => s.Label("model") == "deepclean-l1" && s.Label("version") == "1").ToList();
        // A request the server refuses before scheduling (wrong shape) is Triton's OTHER; all four reasons are there from the start.
        var failures = mine.Where(s => s.Name == "nv_inference_request_failure").ToDictionary(s => s.Label("reason"), s => s.Value);
        Assert.Equal(["BACKEND", "CANCELED", "OTHER", "REJECTED"], failures.Keys.Order(StringComparer.Ordinal));
        Assert.True(failures["OTHER"] >= 1);
        Assert.Equal(after.InferenceStats.Fail.Count, (ulong)failures.Values.Sum());
        Assert.Equal(0, Assert.Single(mine, s => s.Name == "nv_inference_pending_request_count").Value);
        Assert.True(Assert.Single(mine, s => s.Name == "nv_model_load_duration_secs").Value > 0);
        double cpu = Assert.Single(samples, s => s.Name == "nv_cpu_utilization").Value;
        Assert.InRange(cpu, 0, 1);
    }

    [Fact]
    public async Task RepositoryIndexAndLoadUnloadNeedExplicitMode()
    {
        var index = await S.Client.RepositoryIndexAsync(new RepositoryIndexRequest { Ready = true });
        Assert.Equal(S.Models.Select(m => m.Name).Order(StringComparer.Ordinal), index.Models.Select(m => m.Name));
        Assert.All(index.Models, m => Assert.Equal("READY", m.State));
        var e = await TestServer.Fails(async () => await S.Client.RepositoryModelLoadAsync(new RepositoryModelLoadRequest { ModelName = "postproc" }));
        Assert.Equal(StatusCode.Unavailable, e.StatusCode);
        e = await TestServer.Fails(async () => await S.Client.RepositoryModelUnloadAsync(new RepositoryModelUnloadRequest { ModelName = "postproc" }));
        Assert.Equal(StatusCode.Unavailable, e.StatusCode);
        Assert.Empty((await S.Client.SystemSharedMemoryStatusAsync(new SystemSharedMemoryStatusRequest())).Regions);
        // System shared memory is implemented (SharedMemoryTests): a registration without a key fails in shm_open, Triton's INTERNAL.
        Assert.Equal(StatusCode.Internal, (await TestServer.Fails(async () => await S.Client.SystemSharedMemoryRegisterAsync(new SystemSharedMemoryRegisterRequest { Name = "x" }))).StatusCode);
        // CUDA shared memory answers as Triton built without GPU support.
        var cuda = await TestServer.Fails(async () => await S.Client.CudaSharedMemoryRegisterAsync(new CudaSharedMemoryRegisterRequest { Name = "x" }));
        Assert.Equal((StatusCode.InvalidArgument, "failed to register CUDA shared memory region: 'x', GPUs not supported"), (cuda.StatusCode, cuda.Status.Detail));
        Assert.Empty((await S.Client.CudaSharedMemoryStatusAsync(new CudaSharedMemoryStatusRequest())).Regions);
        var cudaStatus = await TestServer.Fails(async () => await S.Client.CudaSharedMemoryStatusAsync(new CudaSharedMemoryStatusRequest { Name = "x" }));
        Assert.Equal((StatusCode.NotFound, "Unable to find cuda shared memory region: 'x'"), (cudaStatus.StatusCode, cudaStatus.Status.Detail));
        await S.Client.CudaSharedMemoryUnregisterAsync(new CudaSharedMemoryUnregisterRequest { Name = "x" });
    }

    [Fact]
    public async Task HttpRestServesHealthMetadataAndJsonInference()
    {
        Assert.Equal(HttpStatusCode.OK, (await S.Http.GetAsync("/v2/health/live")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await S.Http.GetAsync("/v2/health/ready")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await S.Http.GetAsync("/v2/models/postproc/versions/1/ready")).StatusCode);
        var missing = await S.Http.GetAsync("/v2/models/none");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Contains("\"error\"", await missing.Content.ReadAsStringAsync());
        var meta = JsonNode.Parse(await S.Http.GetStringAsync("/v2/models/deepclean-h1"))!;
        Assert.Equal("onnxruntime_onnx", meta["platform"]!.GetValue<string>());
        var config = JsonNode.Parse(await S.Http.GetStringAsync("/v2/models/snapshotter/config"))!;
        Assert.Equal(1024, config["sequence_batching"]!["state"]![0]!["dims"]![2]!.GetValue<long>());

        var x = TestServer.Signal(2 * 3 * 1024, 5);
        var body = new JsonObject
        {
            ["id"] = "h1",
            ["inputs"] = new JsonArray(new JsonObject { ["name"] = "witness", ["datatype"] = "FP32", ["shape"] = new JsonArray(2, 3, 1024), ["data"] = new JsonArray([.. x.Select(v => (JsonNode?)v)]) }),
        };
        var response = await S.Http.PostAsync("/v2/models/deepclean-h1/infer", new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("h1", json["id"]!.GetValue<string>());
        var data = json["outputs"]![0]!["data"]!.AsArray().Select(v => v!.GetValue<float>()).ToArray();
        TestServer.Close(TestServer.RunInProcess(S.Model("deepclean-h1"), ("witness", x, [2, 3, 1024]))["noise"], data, 0);

        var bad = await S.Http.PostAsync("/v2/models/deepclean-h1/infer", new StringContent("{\"inputs\":[{\"name\":\"witness\",\"datatype\":\"FP32\",\"shape\":[1],\"data\":[1]}]}"));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
    }
}
