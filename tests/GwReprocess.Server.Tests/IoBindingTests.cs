using GwReprocess.Models;
using GwReprocess.Models.Onnx;
using GwReprocess.Server.Execution;
using Inference;
using OnnxType = GwReprocess.Models.Onnx.Protos.TensorProto.Types.DataType;

namespace GwReprocess.Server.Tests;

/// <summary>
/// The IO-binding path on the CPU provider, the same code that GPU instances run (CPU allocator in place of the pinned
/// one): the project's models give the plain path's bytes through it at every batch size, buffers are reused, and each
/// request makes one copy in per input and one copy out per output.
/// </summary>
public sealed class IoBindingTests
{
    private const int K = 1024, B = 2, Witnesses = 3;
    private const ModelInstanceGroup.Types.Kind Cpu = ModelInstanceGroup.Types.Kind.Cpu;

    public static TheoryData<string> Networks => ["deepclean", "bbhnet", "wiener", "postproc"];

    private static RepositoryModel Build(string which) => which switch
    {
        "deepclean" => DeepCleanNetwork.Build("deepclean-h1", Witnesses, K, B, seed: 11, kind: Cpu),
        "bbhnet" => BbhNetNetwork.Build("bbhnet", K, B, seed: 12, kind: Cpu),
        "wiener" => WienerFilterNetwork.Build("wiener-h1",
            new MultiChannelFir([.. Enumerable.Range(0, Witnesses).Select(c => TestServer.Signal(64, 40 + c))], 10, "seeded random taps"), K, B, kind: Cpu),
        "postproc" => Postprocessor.Build("postproc", ["H1", "L1"], K, B, [TestServer.Signal(33, 50), TestServer.Signal(33, 51)], "seeded random taps", kind: Cpu),
        _ => throw new ArgumentOutOfRangeException(nameof(which)),
    };

    [Theory]
    [MemberData(nameof(Networks))]
    public async Task BoundRunsGiveThePlainPathsBytesAtEveryBatchSizeAndReuseTheirBuffers(string which)
    {
        var model = Build(which);
        await using var plain = BoundModels.Load(model, "off", c => BoundModels.Batched(c, 8));
        await using var bound = BoundModels.Load(model, "on", c => BoundModels.Batched(c, 8));
        Assert.Null(plain.Bindings[0]);
        var binding = Assert.IsType<InstanceIoBinding>(bound.Bindings[0]);
        Assert.False(binding.OnGpu);
        int[] batches = [1, 3, 8, 2, 8, 8, 5, 1];
        for (int r = 0; r < batches.Length; r++)
        {
            var request = BoundModels.Random(plain, batches[r], r);
            var expected = await plain.InferAsync(request, CancellationToken.None);
            var actual = await bound.InferAsync(request, CancellationToken.None);
            BoundModels.SameBytes(expected, actual, $"{which} request {r} (batch {batches[r]})");
            Assert.Equal(batches[r], actual.Outputs[0].Tensor.Shape[0]);
            Assert.Contains(BoundModels.Floats(actual.Outputs[0].Tensor), v => v != 0);
        }
        // Staging buffers grow and are then reused: batches 1, 3 and 8 allocated one per input, the smaller ones after 8 none.
        Assert.Equal(3 * plain.Config.Input.Count, binding.StagingAllocations);
    }

    [Fact]
    public async Task EachRequestCopiesEveryInputInOnceAndEveryOutputOutOnce()
    {
        var model = Build("postproc");
        await using var bound = BoundModels.Load(model, "on", c => BoundModels.Batched(c, 8));
        var binding = bound.Bindings[0]!;
        Assert.Equal(3, bound.Config.Input.Count);
        for (int r = 0; r < 4; r++)
        {
            long copiesIn = binding.CopiesIn, copiesOut = binding.CopiesOut;
            await bound.InferAsync(BoundModels.Random(bound, 1 + r, r), CancellationToken.None);
            Assert.Equal(3, binding.CopiesIn - copiesIn);
            Assert.Equal(1, binding.CopiesOut - copiesOut);
        }
        Assert.Equal(0, binding.DeviceTensorsLive);
    }

    [Fact]
    public async Task AutoBindsOnlyGpuInstancesAndABadValueFailsTheLoadNamingModelAndKey()
    {
        var model = Build("wiener");
        await using (var auto = BoundModels.Load(model, "auto"))
            Assert.Null(auto.Bindings[0]); // a CPU instance: the request's buffers go in as they are
        var e = Assert.Throws<InferenceException>(() => BoundModels.Load(model, "sometimes"));
        Assert.Equal("model 'wiener-h1': parameter 'io_binding' is 'sometimes', expected auto, on or off", e.Message);
        e = Assert.Throws<InferenceException>(() => BoundModels.Load(model, "on", sequenceState: "gpu"));
        Assert.Equal("model 'wiener-h1': parameter 'sequence_state' is 'gpu', expected auto or host", e.Message);
    }

    [Fact]
    public async Task ARequestWithStringsTakesThePlainPathOnABoundInstance()
    {
        var g = new OnnxGraphBuilder("mixed");
        g.Input("x", NetworkBuilder.Float, 4);
        g.Input("text", OnnxType.String, 2);
        g.Node("Neg", ["x"], "y");
        g.Node("Identity", ["text"], "echo");
        g.Output("y", NetworkBuilder.Float, 4);
        g.Output("echo", OnnxType.String, 2);
        var text = new ModelInput { Name = "text", DataType = DataType.TypeString };
        text.Dims.Add(2);
        var echo = new ModelOutput { Name = "echo", DataType = DataType.TypeString };
        echo.Dims.Add(2);
        var config = ModelConfigs.Onnx("mixed", 1, Cpu, "strings beside floats", [ModelConfigs.Input("x", 4), text], [ModelConfigs.Output("y", 4), echo]);
        await using var bound = BoundModels.Load(new RepositoryModel("mixed", config, g.Build("mixed")), "on");
        byte[] strings = [2, 0, 0, 0, (byte)'h', (byte)'i', 0, 0, 0, 0];
        var request = new InferenceRequest
        {
            ModelName = "mixed",
            Inputs = new(StringComparer.Ordinal)
            {
                ["x"] = BoundModels.Fp32([1, -2, 3, -4], 4),
                ["text"] = new TensorData(DataType.TypeString, [2], strings),
            },
        };
        var result = await bound.InferAsync(request, CancellationToken.None);
        Assert.Equal([-1f, 2, -3, 4], BoundModels.Floats(result.Outputs[0].Tensor));
        Assert.Equal(strings, result.Outputs[1].Tensor.Bytes.ToArray());
        Assert.Equal(0, bound.Bindings[0]!.CopiesIn);
    }
}
