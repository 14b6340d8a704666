using Inference;

namespace GwReprocess.Models;

/// <summary>DeepClean, the paper's 1-D convolutional autoencoder (reference-pipeline.md §8.1), with seeded untrained weights.</summary>
/// <remarks>
/// Every conv has kernel 7 and padding 3; BatchNorm + Tanh follow every conv except the last. Input conv C_w→C_w;
/// encoder convs with stride 2 to 8, 16, 32, 64 channels (K → K/16); decoder transposed convs (stride 2, output
/// padding 1) to 32, 16, 8, C_w channels (back to K); output conv C_w→1, squeezed to [B, K]. For C_w = 21 this is
/// 43 437 conv and 436 BatchNorm parameters, as in deepclean-prod and ML4GW/DeepClean.
/// </remarks>
public static class DeepCleanNetwork
{
    public const string Description = "DeepClean paper architecture, UNTRAINED (seeded random weights): for throughput studies only, does not clean";

    /// <summary>Builds the model; <paramref name="batch"/> is the B written into the config (the ONNX batch dim is symbolic).</summary>
    public static RepositoryModel Build(string name, int witnesses, int kernel, int batch, int seed,
        int instances = 1, ModelInstanceGroup.Types.Kind kind = ModelInstanceGroup.Types.Kind.Auto)
    {
        if (witnesses < 1) throw new BadInputException($"{name}: needs at least one witness channel");
        if (kernel < 16 || kernel % 16 != 0) throw new BadInputException($"{name}: kernel length {kernel} samples must be a positive multiple of 16 (four stride-2 stages)");
        var net = new NetworkBuilder(name, seed);
        var x = new Activation(net.Graph.Input(ModelContract.WitnessInput, NetworkBuilder.Float, Onnx.OnnxDim.Symbolic("batch"), witnesses, kernel), witnesses, kernel);

        x = Block(net, net.Conv1d(x, witnesses, 7, 1, 3, prefix: "input_conv"));
        foreach (int c in (int[])[8, 16, 32, 64]) x = Block(net, net.Conv1d(x, c, 7, 2, 3, prefix: $"downsampler.conv{c}"));
        foreach (int c in (int[])[32, 16, 8, witnesses]) x = Block(net, net.ConvTranspose1d(x, c, 7, 2, 3, 1, prefix: $"upsampler.convt{c}"));
        x = net.Conv1d(x, 1, 7, 1, 3, prefix: "output_conv");
        if (x.Length != kernel) throw new InvalidOperationException($"DeepClean output length {x.Length} != {kernel}");

        var axes = net.Graph.Int64Vector("squeeze_axes", 1);
        var noise = net.Graph.Node("Squeeze", [x.Name, axes], ModelContract.NoiseOutput);
        net.Graph.Output(noise, NetworkBuilder.Float, Onnx.OnnxDim.Symbolic("batch"), kernel);

        var model = net.Graph.Build(Description, new Dictionary<string, string>
        {
            ["architecture"] = "deepclean",
            ["trained"] = "false",
            ["seed"] = seed.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["witnesses"] = witnesses.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        var config = ModelConfigs.Onnx(name, instances, kind, Description,
            [ModelConfigs.Input(ModelContract.WitnessInput, batch, witnesses, kernel)],
            [ModelConfigs.Output(ModelContract.NoiseOutput, batch, kernel)]);
        return new RepositoryModel(name, config, model, net.Flops);
    }

    private static Activation Block(NetworkBuilder net, Activation x) => net.Elementwise("Tanh", net.BatchNorm(x));
}
