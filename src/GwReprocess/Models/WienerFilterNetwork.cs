using GwReprocess.Models.Onnx;
using Inference;

namespace GwReprocess.Models;

/// <summary>Multi-input FIR filter coefficients: one tap set per witness channel, and the look-ahead used when they were fitted.</summary>
/// <param name="Taps">Taps[c][j] multiplies witness c delayed by j − Advance samples; all channels have the same length T.</param>
/// <param name="Advance">Samples of look-ahead a (0 = causal, (T−1)/2 = centred).</param>
/// <param name="Description">Where the coefficients came from (fit span, channels), written into the model.</param>
public sealed record MultiChannelFir(IReadOnlyList<float[]> Taps, int Advance, string Description)
{
    public int Channels => Taps.Count;
    public int Length => Taps.Count == 0 ? 0 : Taps[0].Length;
}

/// <summary>A multi-input FIR (Wiener) noise estimator exported with DeepClean's signature: <c>witness [B, C_w, K]</c> → <c>noise [B, K]</c>.</summary>
/// <remarks>
/// noise[t] = Σ_c Σ_j h_c[j] · witness_c[t − j + a], with zeros outside the window, as one Conv (C_w → 1) whose
/// weights are the reversed taps and whose padding is (T−1−a, a), so the window length is kept. The coefficients
/// are an input: the least-squares fit on frames is a separate step (issue 7, fitting part) that produces a
/// <see cref="MultiChannelFir"/>.
/// </remarks>
public static class WienerFilterNetwork
{
    public static RepositoryModel Build(string name, MultiChannelFir fir, int kernel, int batch,
        int instances = 1, ModelInstanceGroup.Types.Kind kind = ModelInstanceGroup.Types.Kind.Auto)
    {
        int cw = fir.Channels, taps = fir.Length;
        if (cw < 1 || taps < 1 || fir.Taps.Any(t => t.Length != taps)) throw new BadInputException($"{name}: every witness channel needs the same, non-zero number of taps");
        if (taps > kernel) throw new BadInputException($"{name}: FIR of {taps} taps is longer than the {kernel}-sample window");
        if (fir.Advance < 0 || fir.Advance >= taps) throw new BadInputException($"{name}: advance {fir.Advance} must be in [0, {taps - 1}]");

        var net = new NetworkBuilder(name, seed: 0);
        var g = net.Graph;
        var batchDim = OnnxDim.Symbolic("batch");
        var x = new Activation(g.Input(ModelContract.WitnessInput, NetworkBuilder.Float, batchDim, cw, kernel), cw, kernel);
        var weights = new float[cw * taps];
        for (int c = 0; c < cw; c++)
            for (int j = 0; j < taps; j++) weights[c * taps + j] = fir.Taps[c][taps - 1 - j];
        var w = g.Initializer("wiener_taps", weights, 1, cw, taps);
        var y = net.Conv1dWith(x, w, null, 1, taps, 1, taps - 1 - fir.Advance, fir.Advance, 1, "wiener");
        var noise = g.Node("Squeeze", [y.Name, g.Int64Vector("squeeze_axes", 1)], ModelContract.NoiseOutput);
        g.Output(noise, NetworkBuilder.Float, batchDim, kernel);

        string description = $"multi-input FIR (Wiener) cleaner: {cw} witnesses x {taps} taps, advance {fir.Advance}; {fir.Description}";
        var model = g.Build(description, new Dictionary<string, string> { ["architecture"] = "wiener", ["taps"] = taps.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        var config = ModelConfigs.Onnx(name, instances, kind, description,
            [ModelConfigs.Input(ModelContract.WitnessInput, batch, cw, kernel)],
            [ModelConfigs.Output(ModelContract.NoiseOutput, batch, kernel)]);
        return new RepositoryModel(name, config, model, net.Flops);
    }

    /// <summary>The taps and advance of a model <see cref="Build"/> wrote (its <c>wiener_taps</c> initializer and its conv's padding).</summary>
    public static MultiChannelFir ReadFir(Onnx.Protos.ModelProto model, string source)
    {
        var w = model.Graph.Initializer.FirstOrDefault(i => i.Name == "wiener_taps")
            ?? throw new BadInputException($"{source}: no wiener_taps initializer (not a Wiener cleaner written by gwrepro)");
        var conv = model.Graph.Node.FirstOrDefault(n => n.OpType == "Conv" && n.Input.Contains("wiener_taps"))
            ?? throw new BadInputException($"{source}: no Conv reads wiener_taps");
        int channels = (int)w.Dims[1], taps = (int)w.Dims[2];
        var values = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(w.RawData.Span);
        var fir = new float[channels][];
        for (int c = 0; c < channels; c++)
        {
            fir[c] = new float[taps];
            for (int j = 0; j < taps; j++) fir[c][j] = values[c * taps + taps - 1 - j];
        }
        int advance = (int)conv.Attribute.Single(a => a.Name == "pads").Ints[1];
        return new MultiChannelFir(fir, advance, source);
    }
}
