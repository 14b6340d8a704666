using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Grpc.Core;
using Grpc.Net.Client;
using GwReprocess.Models;
using GwReprocess.Server.Execution;
using GwReprocess.Server.Protocol;
using GwReprocess.Server.Repository;
using Inference;

namespace GwReprocess.Server.Tests;

/// <summary>Where tritonclient and hermes met answers other than Triton's (issue #23): ModelReady, validation error texts, dropped streams.</summary>
public sealed class TritonConformanceTests
{
    private const string ShapeId = "999_1002";

    /// <summary>Both protocols' answer: gRPC <c>ready</c> (an error fails the test) and the HTTP status.</summary>
    private static async Task<(bool Grpc, HttpStatusCode Http)> ReadyAsync(TestServer s, string name, string version = "")
    {
        bool grpc = (await s.Client.ModelReadyAsync(new ModelReadyRequest { Name = name, Version = version })).Ready;
        var path = version.Length > 0 ? $"/v2/models/{name}/versions/{version}/ready" : $"/v2/models/{name}/ready";
        return (grpc, (await s.Http.GetAsync(path)).StatusCode);
    }

    [Fact]
    public async Task ModelReadyAnswersLikeTritonForUnknownUnloadedLoadingAndReadyModels()
    {
        await using var s = await TestServer.StartAsync(o => o with { ModelControl = ModelControlMode.Explicit });
        var notReady = (false, HttpStatusCode.BadRequest);

        Assert.Equal(notReady, await ReadyAsync(s, "no-such-model"));
        // In the repository but never loaded (explicit control).
        Assert.Equal(notReady, await ReadyAsync(s, "deepclean-h1"));

        await s.Client.RepositoryModelLoadAsync(new RepositoryModelLoadRequest { ModelName = "deepclean-h1" });
        Assert.Equal((true, HttpStatusCode.OK), await ReadyAsync(s, "deepclean-h1"));
        Assert.Equal((true, HttpStatusCode.OK), await ReadyAsync(s, "deepclean-h1", "1"));
        Assert.Equal(notReady, await ReadyAsync(s, "deepclean-h1", "7"));

        await s.Client.RepositoryModelUnloadAsync(new RepositoryModelUnloadRequest { ModelName = "deepclean-h1" });
        Assert.Equal(notReady, await ReadyAsync(s, "deepclean-h1"));
        Assert.Equal(notReady, await ReadyAsync(s, "deepclean-h1", "1"));

        // Loading: the model's config is a FIFO, so its load blocks reading it until the test writes the text. The writer's open
        // returns only once the server has opened the FIFO, that is, while the load is under way.
        string config = Path.Combine(s.Repository, ModelRepositoryBuilder.Postproc, "config.pbtxt");
        byte[] text = await File.ReadAllBytesAsync(config);
        File.Delete(config);
        using (var mkfifo = Process.Start("mkfifo", config)) await mkfifo.WaitForExitAsync();
        var load = s.Client.RepositoryModelLoadAsync(new RepositoryModelLoadRequest { ModelName = ModelRepositoryBuilder.Postproc }).ResponseAsync;
        var writer = await Task.Run(() => new FileStream(config, FileMode.Open, FileAccess.Write)).WaitAsync(TimeSpan.FromSeconds(30));
        await using (writer)
        {
            Assert.Equal(notReady, await ReadyAsync(s, ModelRepositoryBuilder.Postproc));
            Assert.Equal(notReady, await ReadyAsync(s, ModelRepositoryBuilder.Postproc, "1"));
            Assert.False(load.IsCompleted);
            await writer.WriteAsync(text);
        }
        await load.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal((true, HttpStatusCode.OK), await ReadyAsync(s, ModelRepositoryBuilder.Postproc));
    }

    [Fact]
    public async Task ValidationErrorsCarryTheRequestIdAndTritonsEndingOnEveryPath()
    {
        await using var s = await TestServer.StartAsync();
        var wrong = new float[2 * 64];
        string Shape(string id) =>
            RequestDecoder.RequestTag(id) + $"unexpected shape for input 'snapshot_update' for model '{ModelRepositoryBuilder.StreamSnapshotter}'. Expected [1,3,64], got [1,2,64]. ";
        ModelInferRequest Request(string id) => TestServer.RawRequest(ModelRepositoryBuilder.StreamSnapshotter, "snapshot_update", wrong, [1, 2, 64], id);

        foreach (var id in new[] { ShapeId, "" })
        {
            var e = await TestServer.Fails(async () => await s.Client.ModelInferAsync(Request(id)));
            Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
            Assert.Equal(Shape(id), e.Status.Detail);
        }
        Assert.Equal("[request id: 999_1002] ", RequestDecoder.RequestTag(ShapeId));

        // A name the model does not have is found by Triton's model lookup, not the request's checks: no prefix even with an id.
        var unknown = TestServer.RawRequest("deepclean-h1", "strain", new float[2 * 3 * 1024], [2, 3, 1024], "u-1");
        Assert.Equal("unexpected inference input 'strain' for model 'deepclean-h1'", (await TestServer.Fails(async () => await s.Client.ModelInferAsync(unknown))).Status.Detail);

        using (var call = s.Client.ModelStreamInfer())
        {
            await call.RequestStream.WriteAsync(Request(ShapeId));
            await call.RequestStream.WriteAsync(Request(""));
            await call.RequestStream.CompleteAsync();
            var responses = new List<ModelStreamInferResponse>();
            await foreach (var r in call.ResponseStream.ReadAllAsync()) responses.Add(r);
            Assert.Equal([Shape(ShapeId), Shape("")], responses.Select(r => r.ErrorMessage));
            Assert.Equal([ShapeId, ""], responses.Select(r => r.InferResponse.Id));
        }

        foreach (var id in new[] { ShapeId, "" })
        {
            var body = new JsonObject
            {
                ["inputs"] = new JsonArray(new JsonObject
                {
                    ["name"] = "snapshot_update", ["datatype"] = "FP32", ["shape"] = new JsonArray(1, 2, 64),
                    ["data"] = new JsonArray(wrong.Select(v => (JsonNode)v).ToArray()),
                }),
            };
            if (id.Length > 0) body["id"] = id;
            var response = await s.Http.PostAsJsonAsync($"/v2/models/{ModelRepositoryBuilder.StreamSnapshotter}/infer", body);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal(Shape(id), (await response.Content.ReadFromJsonAsync<JsonObject>())!["error"]!.GetValue<string>());
        }
    }

    [Fact]
    public void ABatchingModelsShapeErrorEndsWithTritonsNoteAndItsBatchSizeRuleComesFirst()
    {
        var config = new ModelConfig { Name = "batched", MaxBatchSize = 4 };
        config.Input.Add(ModelConfigs.Input("x", 3, 8));
        config.Input.Add(ModelConfigs.Input("y", 2));
        string Fails(string id, params (string Name, long[] Shape)[] inputs)
        {
            var r = new ModelInferRequest { ModelName = "batched", Id = id };
            foreach (var (name, shape) in inputs)
            {
                var t = new ModelInferRequest.Types.InferInputTensor { Name = name, Datatype = "FP32" };
                t.Shape.AddRange(shape);
                r.Inputs.Add(t);
                r.RawInputContents.Add(Google.Protobuf.ByteString.CopyFrom(new byte[4 * shape.Aggregate(1L, (a, d) => a * d)]));
            }
            return Assert.Throws<InferenceException>(() => RequestDecoder.Decode(r, config, SequenceId.None, false, false, 0)).Message;
        }

        Assert.Equal("[request id: b-1] unexpected shape for input 'x' for model 'batched'. Expected [-1,3,8], got [1,3,7]. NOTE: Setting a non-zero " +
                     "max_batch_size in the model config requires a batch dimension to be prepended to each input shape. If you want to specify " +
                     "the full shape including the batch dim in your input dims config, try setting max_batch_size to zero. See the model " +
                     "configuration docs for more info on max_batch_size.", Fails("b-1", ("x", [1, 3, 7]), ("y", [1, 2])));
        Assert.Equal("inference request batch-size must be <= 4 for 'batched'", Fails("", ("x", [5, 3, 8]), ("y", [5, 2])));
        Assert.Equal("[request id: b-2] expected 2 inputs but got 0 inputs for model 'batched'. Got input(s) [], but missing required input(s) ['x','y']. " +
                     "Please provide all required input(s).", Fails("b-2"));
        Assert.Equal("expected 2 inputs but got 1 inputs for model 'batched'. Got input(s) ['y'], but missing required input(s) ['x']. " +
                     "Please provide all required input(s).", Fails("", ("y", [1, 2])));
    }

    [Fact]
    public async Task ClientsDroppingStreamsLeaveNothingInTheServersLog()
    {
        // No summary line either, however slowly the test runs: then any line after the start is about the dropped streams.
        await using var s = await TestServer.StartAsync(o => o with { SummaryInterval = TimeSpan.FromHours(1) });
        int before;
        lock (s.Log) before = s.Log.Count;
        // A model without sequences: a dropped sequence would hold its slot until the idle timeout, and later STARTs would queue.
        var witness = new float[2 * 3 * 1024];
        ModelInferRequest Request() => TestServer.RawRequest("deepclean-h1", "witness", witness, [2, 3, 1024]);

        // Half the clients cancel their call (an HTTP/2 stream reset), half close their connection.
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        for (int i = 0; i < 16; i++)
        {
            using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{s.Server.GrpcPort}");
            var client = new GRPCInferenceService.GRPCInferenceServiceClient(channel);
            using var cancel = CancellationTokenSource.CreateLinkedTokenSource(limit.Token);
            var call = client.ModelStreamInfer(cancellationToken: cancel.Token);
            await call.RequestStream.WriteAsync(Request(), limit.Token);
            Assert.True(await call.ResponseStream.MoveNext(limit.Token));
            Assert.Equal("", call.ResponseStream.Current.ErrorMessage);
            // One more in flight as the client goes.
            await call.RequestStream.WriteAsync(Request(), limit.Token);
            if (i % 2 == 0) await cancel.CancelAsync();
            else channel.Dispose();
            call.Dispose();
        }

        // The server still serves; by the time it has answered, it has long seen the resets.
        await Task.Delay(500);
        Assert.True((await s.Client.ModelReadyAsync(new ModelReadyRequest { Name = ModelRepositoryBuilder.StreamSnapshotter })).Ready);
        lock (s.Log) Assert.Empty(s.Log.Skip(before));
    }
}
