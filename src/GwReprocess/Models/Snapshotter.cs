using GwReprocess.Models.Onnx;
using Inference;

namespace GwReprocess.Models;

/// <summary>One downstream block of snapshotter channels: the output tensor name and its channel count.</summary>
public sealed record SnapshotterOutput(string Name, int Channels);

/// <summary>The streaming snapshotter: Triton implicit state holding the last K samples of every channel, unfolding B windows per update.</summary>
/// <remarks>
/// Per request (hermes semantics, triton-protocol.md §4.3): with state P [1, C, K] and update X [1, C, B·s],
/// Y = concat(P[:, :, s:], X) has K + (B−1)·s samples; window k (k = 0…B−1) is Y[:, :, k·s : k·s + K]; the new
/// state is the last window. So over a stream x with a zero state at sequence start, the j-th window overall is
/// z[(j+1)·s : (j+1)·s + K] of z = K zeros followed by x: the window ending with sample (j+1)·s of the stream.
/// The windows [B, C, K] are split along channels into one output per downstream input, in the given order.
/// The state tensors are graph input/output but not config input/output: Triton feeds them (zeros on START).
/// </remarks>
public static class Snapshotter
{
    /// <summary>Idle time after which Triton frees a sequence's state: 60 s, as the DeepClean deployments use.</summary>
    public const ulong IdleMicroseconds = 60_000_000;

    public static RepositoryModel Build(string name, int kernel, int stride, int batch, IReadOnlyList<SnapshotterOutput> outputs, int instances = 1,
        ModelInstanceGroup.Types.Kind kind = ModelInstanceGroup.Types.Kind.Auto)
    {
        if (stride < 1 || stride > kernel) throw new BadInputException($"{name}: stride {stride} samples must be between 1 and the kernel length {kernel}");
        if (batch < 1) throw new BadInputException($"{name}: batch {batch} must be at least 1");
        if (outputs.Count == 0 || outputs.Any(o => o.Channels < 1)) throw new BadInputException($"{name}: every snapshotter output needs at least one channel");
        int channels = outputs.Sum(o => o.Channels);
        int update = batch * stride;

        var g = new OnnxGraphBuilder(name);
        var x = g.Input(ModelContract.SnapshotUpdate, NetworkBuilder.Float, 1, channels, update);
        var state = g.Input(ModelContract.SnapshotStateInput, NetworkBuilder.Float, 1, channels, kernel);
        var axis2 = g.Int64Vector("axis_time", 2);

        string y = stride == kernel
            ? x
            : g.Node("Concat", [g.Node("Slice", [state, g.Int64Vector("tail_start", stride), g.Int64Vector("tail_end", kernel), axis2], "state_tail"), x],
                "extended", OnnxAttribute.Int("axis", 2));

        var windows = new string[batch];
        for (int k = 0; k < batch; k++)
            windows[k] = g.Node("Slice", [y, g.Int64Vector("window_start", (long)k * stride), g.Int64Vector("window_end", (long)k * stride + kernel), axis2], $"window_{k}");
        string stacked = batch == 1 ? windows[0] : g.Node("Concat", windows, "windows", OnnxAttribute.Int("axis", 0));

        g.Node("Identity", [windows[^1]], ModelContract.SnapshotStateOutput);
        var axis1 = g.Int64Vector("axis_channel", 1);
        int c0 = 0;
        foreach (var o in outputs)
        {
            if (outputs.Count == 1) g.Node("Identity", [stacked], o.Name);
            else g.Node("Slice", [stacked, g.Int64Vector("channel_start", c0), g.Int64Vector("channel_end", c0 + o.Channels), axis1], o.Name);
            c0 += o.Channels;
        }
        foreach (var o in outputs) g.Output(o.Name, NetworkBuilder.Float, batch, o.Channels, kernel);
        g.Output(ModelContract.SnapshotStateOutput, NetworkBuilder.Float, 1, channels, kernel);

        string description = $"snapshotter: state [1, {channels}, {kernel}], update [1, {channels}, {batch}x{stride}], {batch} windows per request, outputs " +
                             string.Join(", ", outputs.Select(o => $"{o.Name} ({o.Channels} ch)"));
        var model = g.Build(description, new Dictionary<string, string>
        {
            ["architecture"] = "snapshotter",
            ["kernel"] = kernel.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["stride"] = stride.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["batch"] = batch.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["channels"] = string.Join(",", outputs.Select(o => $"{o.Name}:{o.Channels}")),
        });

        var config = ModelConfigs.Onnx(name, instances, kind, description,
            [ModelConfigs.Input(ModelContract.SnapshotUpdate, 1, channels, update)],
            outputs.Select(o => ModelConfigs.Output(o.Name, batch, o.Channels, kernel)));
        var initial = new ModelSequenceBatching.Types.InitialState { Name = "snapshot", DataType = DataType.TypeFp32, ZeroData = true };
        initial.Dims.AddRange([1, channels, kernel]);
        var st = new ModelSequenceBatching.Types.State
        {
            InputName = ModelContract.SnapshotStateInput,
            OutputName = ModelContract.SnapshotStateOutput,
            DataType = DataType.TypeFp32,
        };
        st.Dims.AddRange([1, channels, kernel]);
        st.InitialState.Add(initial);
        config.SequenceBatching = new ModelSequenceBatching
        {
            MaxSequenceIdleMicroseconds = IdleMicroseconds,
            Direct = new ModelSequenceBatching.Types.StrategyDirect(),
        };
        config.SequenceBatching.State.Add(st);
        return new RepositoryModel(name, config, model);
    }
}
