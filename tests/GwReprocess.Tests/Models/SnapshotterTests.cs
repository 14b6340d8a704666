using GwReprocess.Models;

namespace GwReprocess.Tests.Models;

/// <summary>The snapshotter, run in ONNX Runtime with its state carried by hand (as Triton does), emits exactly the windows of the zero-prefixed stream.</summary>
public sealed class SnapshotterTests
{
    private const int Kernel = 48;

    /// <summary>Streams <paramref name="stream"/> ([C][N]) through the model in updates of B·stride, starting from a zero state (a sequence start).</summary>
    private static List<float[][]> StreamWindows(GwReprocess.Models.Onnx.Protos.ModelProto model, float[][] stream, int batch, int stride, IReadOnlyList<SnapshotterOutput> split,
        ref float[] state)
    {
        int channels = stream.Length, update = batch * stride, n = stream[0].Length;
        var windows = new List<float[][]>(); // per window: [C][K], channels re-joined from the split outputs
        for (int u = 0; u + update <= n; u += update)
        {
            var x = new float[channels * update];
            for (int c = 0; c < channels; c++) Array.Copy(stream[c], u, x, c * update, update);
            var result = ModelTestSupport.Run(model, ("snapshot_update", x, [1, channels, update]), ("input_snapshot", state, [1, channels, Kernel]));
            state = result["output_snapshot"].Data;
            Assert.Equal(new[] { 1, channels, Kernel }, result["output_snapshot"].Shape);
            for (int b = 0; b < batch; b++)
            {
                var window = new float[channels][];
                int c0 = 0;
                foreach (var o in split)
                {
                    var (shape, data) = result[o.Name];
                    Assert.Equal(new[] { batch, o.Channels, Kernel }, shape);
                    for (int c = 0; c < o.Channels; c++) window[c0 + c] = data.AsSpan((b * o.Channels + c) * Kernel, Kernel).ToArray();
                    c0 += o.Channels;
                }
                windows.Add(window);
            }
        }
        return windows;
    }

    /// <summary>Window j of a stream started from zeros: z[(j+1)·s : (j+1)·s + K] with z = K zeros followed by the stream.</summary>
    private static float[] Expected(float[] channel, int j, int stride)
    {
        var w = new float[Kernel];
        for (int i = 0; i < Kernel; i++)
        {
            int zi = (j + 1) * stride + i - Kernel; // index into the stream; negative = zero prefix
            w[i] = zi < 0 ? 0f : channel[zi];
        }
        return w;
    }

    [Theory]
    [InlineData(1, 8)]
    [InlineData(4, 8)]
    [InlineData(3, 5)]
    [InlineData(2, 48)]   // stride = kernel: no overlap
    [InlineData(16, 4)]   // B·stride > K/2
    [InlineData(5, 16)]   // B·stride > K
    public void UpdatesYieldTheWindowsOfTheZeroPrefixedStream(int batch, int stride)
    {
        SnapshotterOutput[] split = [new("witness_a", 2), new("witness_b", 3), new("strain", 1)];
        int channels = split.Sum(o => o.Channels);
        var model = Snapshotter.Build("snapshotter", Kernel, stride, batch, split).Onnx!;
        int updates = (2 * Kernel) / (batch * stride) + 3;
        int n = updates * batch * stride;

        // Two sequences on the same instance: the second starts (Triton resets the state to zeros on START).
        for (int sequence = 0; sequence < 2; sequence++)
        {
            var stream = Enumerable.Range(0, channels).Select(c => ModelTestSupport.RandomSignal(n, seed: 100 * sequence + c)).ToArray();
            var state = new float[channels * Kernel];
            var windows = StreamWindows(model, stream, batch, stride, split, ref state);
            Assert.Equal(n / stride, windows.Count);
            for (int j = 0; j < windows.Count; j++)
                for (int c = 0; c < channels; c++)
                    Assert.Equal(Expected(stream[c], j, stride), windows[j][c]);
            // The carried state is the last window.
            for (int c = 0; c < channels; c++)
                Assert.Equal(windows[^1][c], state.AsSpan(c * Kernel, Kernel).ToArray());
        }
    }

    [Fact]
    public void ConfigDeclaresImplicitStateWithZeroInitialStateAndDirectStrategy()
    {
        var config = Snapshotter.Build("snapshotter", 4096, 8, 64, [new("witness", 21)], instances: 3).Config;
        var sb = config.SequenceBatching;
        Assert.NotNull(sb.Direct);
        Assert.Equal(60_000_000UL, sb.MaxSequenceIdleMicroseconds);
        var state = Assert.Single(sb.State);
        Assert.Equal(("input_snapshot", "output_snapshot"), (state.InputName, state.OutputName));
        Assert.Equal(new long[] { 1, 21, 4096 }, state.Dims);
        Assert.True(Assert.Single(state.InitialState).ZeroData);
        Assert.Equal(new long[] { 1, 21, 512 }, Assert.Single(config.Input).Dims);
        Assert.Equal(new long[] { 64, 21, 4096 }, Assert.Single(config.Output).Dims);
        Assert.Equal(0, config.MaxBatchSize);
        Assert.Equal(3, Assert.Single(config.InstanceGroup).Count);
    }

    [Fact]
    public void RejectsStrideLongerThanKernel() =>
        Assert.Throws<BadInputException>(() => Snapshotter.Build("s", 64, 65, 1, [new("w", 1)]));
}
