using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;
using Google.Protobuf;
using Grpc.Core;
using GwReprocess.Models;
using GwReprocess.Models.Onnx;
using GwReprocess.Server.Execution;
using Inference;
using OnnxType = GwReprocess.Models.Onnx.Protos.TensorProto.Types.DataType;

namespace GwReprocess.Server.Tests;

/// <summary>BYTES tensors in Triton's encoding (4-byte little-endian length per element) through an ONNX string model, raw and typed, gRPC and HTTP, dynamically batched.</summary>
public sealed class BytesTensorTests
{
    /// <summary>Elements a text API would mangle: empty, ASCII, UTF-8, NUL and 0xFF bytes.</summary>
    private static readonly byte[][] Elements = [[], "a"u8.ToArray(), Encoding.UTF8.GetBytes("héllo wörld"), [0x00, 0xFF, 0x41, 0x00]];

    /// <summary>Triton's serialized form, written out by hand (independent of the server's encoder).</summary>
    private static byte[] Serialized(IEnumerable<byte[]> elements)
    {
        var bytes = new List<byte>();
        foreach (var e in elements)
        {
            var length = new byte[4];
            BinaryPrimitives.WriteUInt32LittleEndian(length, (uint)e.Length);
            bytes.AddRange(length);
            bytes.AddRange(e);
        }
        return [.. bytes];
    }

    /// <summary>echo-bytes: STRING [4] → Identity → STRING [4]; echo-batched: max_batch_size 4, dims [2], dynamic batching with a queue delay.</summary>
    private static void AddModels(List<RepositoryModel> models)
    {
        foreach (var (name, batched) in new[] { ("echo-bytes", false), ("echo-batched", true) })
        {
            var g = new OnnxGraphBuilder(name);
            OnnxDim[] shape = batched ? [OnnxDim.Symbolic("batch"), 2] : [4];
            g.Input("text", OnnxType.String, shape);
            g.Node("Identity", ["text"], "echo");
            g.Output("echo", OnnxType.String, shape);
            long[] dims = batched ? [2] : [4];
            var input = new ModelInput { Name = "text", DataType = DataType.TypeString };
            input.Dims.AddRange(dims);
            var output = new ModelOutput { Name = "echo", DataType = DataType.TypeString };
            output.Dims.AddRange(dims);
            var config = ModelConfigs.Onnx(name, 1, ModelInstanceGroup.Types.Kind.Cpu, "BYTES echo", [input], [output]);
            if (batched)
            {
                config.MaxBatchSize = 4;
                config.DynamicBatching = new ModelDynamicBatching { MaxQueueDelayMicroseconds = 500_000 };
                config.DynamicBatching.PreferredBatchSize.Add(4);
            }
            models.Add(new RepositoryModel(name, config, g.Build("BYTES echo")));
        }
    }

    private static ModelInferRequest Request(string model, long[] shape, ByteString? raw = null, IEnumerable<byte[]>? typed = null)
    {
        var r = new ModelInferRequest { ModelName = model };
        var t = new ModelInferRequest.Types.InferInputTensor { Name = "text", Datatype = "BYTES" };
        t.Shape.AddRange(shape);
        if (typed is not null)
        {
            t.Contents = new InferTensorContents();
            t.Contents.BytesContents.AddRange(typed.Select(ByteString.CopyFrom));
        }
        r.Inputs.Add(t);
        if (raw is not null) r.RawInputContents.Add(raw);
        return r;
    }

    [Fact]
    public void CheckFindsCountAndFramingErrors()
    {
        var good = Serialized(Elements);
        Assert.Null(BytesTensor.Check(good, 4, "text", "m"));
        Assert.Contains("expected 3 string elements", BytesTensor.Check(good, 3, "text", "m"));
        Assert.Contains("incomplete string length indicator", BytesTensor.Check(good.Append((byte)1).ToArray(), 5, "text", "m"));
        Assert.Contains("incomplete string for inference input 'text'", BytesTensor.Check(good[..^1], 4, "text", "m"));
        Assert.Equal(good, BytesTensor.Serialize(Elements.Select(ByteString.CopyFrom).ToList()));
        Assert.Equal(Serialized(Elements.Take(2)).Length, BytesTensor.Offset(good, 2));
    }

    [Fact]
    public async Task RawAndTypedBytesComeBackAsTritonEncodesThem()
    {
        await using var server = await TestServer.StartAsync(edit: AddModels);
        var expected = Serialized(Elements);
        var raw = await server.Client.ModelInferAsync(Request("echo-bytes", [4], raw: ByteString.CopyFrom(expected)));
        var typed = await server.Client.ModelInferAsync(Request("echo-bytes", [4], typed: Elements));
        foreach (var r in new[] { raw, typed })
        {
            Assert.Equal("BYTES", r.Outputs.Single().Datatype);
            Assert.Equal(new long[] { 4 }, r.Outputs[0].Shape);
            Assert.Equal(expected, r.RawOutputContents.Single().ToByteArray());
        }

        var meta = await server.Client.ModelMetadataAsync(new ModelMetadataRequest { Name = "echo-bytes" });
        Assert.Equal("BYTES", meta.Inputs.Single().Datatype);

        // Framing errors are INVALID_ARGUMENT before anything runs; the model keeps serving.
        foreach (var (bad, message) in new[]
                 {
                     (Serialized(Elements.Take(3)), "expected 4 string elements"),
                     (expected[..^2], "incomplete string for inference input 'text'"),
                     (expected.Concat(new byte[] { 9, 0 }).ToArray(), "incomplete string length indicator"),
                 })
        {
            var e = await TestServer.Fails(async () => await server.Client.ModelInferAsync(Request("echo-bytes", [4], raw: ByteString.CopyFrom(bad))));
            Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
            Assert.Contains(message, e.Status.Detail);
        }
        var wrongCount = await TestServer.Fails(async () => await server.Client.ModelInferAsync(Request("echo-bytes", [4], typed: Elements.Take(2))));
        Assert.Equal(StatusCode.InvalidArgument, wrongCount.StatusCode);
        Assert.Equal(expected, (await server.Client.ModelInferAsync(Request("echo-bytes", [4], raw: ByteString.CopyFrom(expected)))).RawOutputContents[0].ToByteArray());

        // HTTP/REST: BYTES travel as JSON strings.
        var body = new JsonObject
        {
            ["inputs"] = new JsonArray(new JsonObject
            {
                ["name"] = "text", ["datatype"] = "BYTES", ["shape"] = new JsonArray(4),
                ["data"] = new JsonArray("", "a", "héllo wörld", "tschüss"),
            }),
        };
        var response = await server.Http.PostAsync("/v2/models/echo-bytes/infer", new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"));
        var json = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("BYTES", json["outputs"]![0]!["datatype"]!.GetValue<string>());
        Assert.Equal(["", "a", "héllo wörld", "tschüss"], json["outputs"]![0]!["data"]!.AsArray().Select(x => x!.GetValue<string>()));
    }

    [Fact]
    public async Task DynamicallyBatchedBytesRequestsEachGetTheirOwnElements()
    {
        await using var server = await TestServer.StartAsync(edit: AddModels);
        var first = new[] { "x"u8.ToArray(), [], "longer element"u8.ToArray(), [0xFF] };
        var second = new[] { "é"u8.ToArray(), "b"u8.ToArray(), [0, 0, 0], "end"u8.ToArray() };
        // Two requests of batch 2 inside one queue delay form one execution of batch 4 (the preferred size).
        var calls = new[] { first, second }.Select(e => server.Client.ModelInferAsync(Request("echo-batched", [2, 2], raw: ByteString.CopyFrom(Serialized(e)))).ResponseAsync).ToList();
        var responses = await Task.WhenAll(calls);
        Assert.Equal(Serialized(first), responses[0].RawOutputContents[0].ToByteArray());
        Assert.Equal(Serialized(second), responses[1].RawOutputContents[0].ToByteArray());
        Assert.Equal(new long[] { 2, 2 }, responses[1].Outputs[0].Shape);
        var stats = (await server.Client.ModelStatisticsAsync(new ModelStatisticsRequest { Name = "echo-batched" })).ModelStats.Single();
        Assert.Equal(4UL, stats.InferenceCount);
        Assert.Equal(1UL, stats.ExecutionCount);
    }
}
