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

    /// <summary>
    /// Builds the model; <paramref name="batch"/> is the B written into the config (the ONNX batch dim is symbolic). With
    /// <paramref name="trained"/> (tensors in <see cref="LayerOrder"/>), the weights are those and <paramref name="description"/> says
    /// what the model is; without, seeded untrained weights. <paramref name="inputScaling"/> builds each witness's standardisation into
    /// the network (as ML4GW's PrePostDeepClean does), so the model takes raw witnesses and every version carries its own span's scales.
    /// </summary>
    public static RepositoryModel Build(string name, int witnesses, int kernel, int batch, int seed,
        int instances = 1, ModelInstanceGroup.Types.Kind kind = ModelInstanceGroup.Types.Kind.Auto,
        NetworkWeights? trained = null, string? description = null, IReadOnlyList<Dsp.ChannelScaling>? inputScaling = null)
    {
        if (witnesses < 1) throw new BadInputException($"{name}: needs at least one witness channel");
        if (kernel < 16 || kernel % 16 != 0) throw new BadInputException($"{name}: kernel length {kernel} samples must be a positive multiple of 16 (four stride-2 stages)");
        var net = new NetworkBuilder(name, seed, trained);
        string doc = trained is null ? Description : description ?? "DeepClean paper architecture, trained";
        var x = new Activation(net.Graph.Input(ModelContract.WitnessInput, NetworkBuilder.Float, Onnx.OnnxDim.Symbolic("batch"), witnesses, kernel), witnesses, kernel);

        if (inputScaling is not null) x = Standardise(net, x, inputScaling);
        x = Block(net, net.Conv1d(x, witnesses, 7, 1, 3, prefix: "input_conv"));
        foreach (int c in (int[])[8, 16, 32, 64]) x = Block(net, net.Conv1d(x, c, 7, 2, 3, prefix: $"downsampler.conv{c}"));
        foreach (int c in (int[])[32, 16, 8, witnesses]) x = Block(net, net.ConvTranspose1d(x, c, 7, 2, 3, 1, prefix: $"upsampler.convt{c}"));
        x = net.Conv1d(x, 1, 7, 1, 3, prefix: "output_conv");
        if (x.Length != kernel) throw new InvalidOperationException($"DeepClean output length {x.Length} != {kernel}");

        var axes = net.Graph.Int64Vector("squeeze_axes", 1);
        var noise = net.Graph.Node("Squeeze", [x.Name, axes], ModelContract.NoiseOutput);
        net.Graph.Output(noise, NetworkBuilder.Float, Onnx.OnnxDim.Symbolic("batch"), kernel);

        net.CheckAllWeightsUsed();
        var model = net.Graph.Build(doc, new Dictionary<string, string>
        {
            ["architecture"] = "deepclean",
            ["trained"] = trained is null ? "false" : "true",
            ["seed"] = seed.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["witnesses"] = witnesses.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        var config = ModelConfigs.Onnx(name, instances, kind, doc,
            [ModelConfigs.Input(ModelContract.WitnessInput, batch, witnesses, kernel)],
            [ModelConfigs.Output(ModelContract.NoiseOutput, batch, kernel)]);
        return new RepositoryModel(name, config, model, net.Flops);
    }

    /// <summary>
    /// The layers in the order <see cref="Build"/> creates their tensors, as a trainer names its modules: each takes a conv
    /// (weight, bias) and, except the last, a BatchNorm (weight, bias, running_mean, running_var).
    /// </summary>
    public static IReadOnlyList<string> LayerOrder { get; } =
        ["input_conv", "downsampler.conv8", "downsampler.conv16", "downsampler.conv32", "downsampler.conv64",
         "upsampler.convt32", "upsampler.convt16", "upsampler.convt8", "upsampler.convtw", "output_conv"];

    private static Activation Standardise(NetworkBuilder net, Activation x, IReadOnlyList<Dsp.ChannelScaling> scaling)
    {
        if (scaling.Count != x.Channels) throw new ArgumentException($"{scaling.Count} witness scalings for {x.Channels} witnesses", nameof(scaling));
        var mean = net.Graph.Initializer(net.Graph.UniqueName("input_mean"), scaling.Select(s => (float)s.Mean).ToArray(), x.Channels, 1);
        var inverse = net.Graph.Initializer(net.Graph.UniqueName("input_inverse_scale"), scaling.Select(s => (float)(1 / s.Scale)).ToArray(), x.Channels, 1);
        var centred = net.Graph.Node("Sub", [x.Name, mean], net.Graph.UniqueName("centred"));
        net.CountFlops(2.0 * x.Channels * x.Length);
        return x with { Name = net.Graph.Node("Mul", [centred, inverse], net.Graph.UniqueName("standardised")) };
    }

    private static Activation Block(NetworkBuilder net, Activation x) => net.Elementwise("Tanh", net.BatchNorm(x));
}
