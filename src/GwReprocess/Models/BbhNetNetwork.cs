using Inference;

namespace GwReprocess.Models;

/// <summary>The BBHnet classifier: the paper-era one (reference-pipeline.md §9.1) untrained for throughput studies, or a <see cref="BbhNetArchitecture"/> with weights gwrepro-train learned.</summary>
/// <remarks>
/// Input [B, 2, K] (H1, L1). The paper-era plan: pooling first (max-pool 4), then three conv blocks (kernel 3, no padding,
/// 8/16/32 channels: Conv → BatchNorm → max-pool 4 → ReLU), flatten, dense 64 → ReLU → (dropout: identity at inference) →
/// BatchNorm, dense 32 → ReLU → BatchNorm, dense 1 → Sigmoid: <c>score [B, 1]</c>. The layer list is reconstructed
/// from the export parameters (the original mldet source is private), so it matches the paper model's size class,
/// not its exact weights.
/// </remarks>
public static class BbhNetNetwork
{
    /// <summary>
    /// High-pass corner (Hz) of a trained model's fixed input filter (<see cref="BbhNetArchitecture.InputFilter"/>). 18, not 30: trained on the demo's 0PN sources (inspirals ending at the ISCO, below
    /// 40 Hz for a quarter of the 10–80 M☉ population) a 30 Hz cut kept a median in-window SNR of 8.8 of 12 and held-out efficiency
    /// 0.25/0.49/0.64 at SNR 8/10/12; 18 Hz keeps 11.1 and reaches 0.41/0.69/0.84, with the whitened background's σ unchanged (1.05).
    /// </summary>
    public const double InputHighpassHz = 18;

    public const string Description = "BBHnet paper-era architecture, UNTRAINED (seeded random weights): for throughput studies only, scores are meaningless";

    /// <summary>
    /// Builds the model (<paramref name="architecture"/>, the paper-era one by default); with <paramref name="trained"/> (tensors in the order
    /// the layers are created: per conv block the conv's weight and bias then its BatchNorm's four; per dense block the same; then the output
    /// layer) the weights are those and <paramref name="description"/> says what the model is, otherwise seeded untrained weights.
    /// <paramref name="inputFilter"/> (causal taps) runs first on every detector, 'valid', with the architecture's stride.
    /// </summary>
    public static RepositoryModel Build(string name, int kernel, int batch, int seed,
        int instances = 1, ModelInstanceGroup.Types.Kind kind = ModelInstanceGroup.Types.Kind.Auto,
        NetworkWeights? trained = null, string? description = null, float[]? inputFilter = null, BbhNetArchitecture? architecture = null)
    {
        var plan = architecture ?? BbhNetArchitecture.Paper;
        // Without its filter a decimating plan would run at the full rate: a different network from the one trained.
        if (plan.InputStride > 1 && inputFilter is null) throw new ArgumentException($"{plan.Name} decimates in its input filter: pass the filter", nameof(inputFilter));
        var net = new NetworkBuilder(name, seed, trained);
        string doc = trained is null ? Description : description ?? $"{plan.Summary}, trained";
        var x = new Activation(net.Graph.Input(ModelContract.DetectorInput, NetworkBuilder.Float, Onnx.OnnxDim.Symbolic("batch"), 2, kernel), 2, kernel);
        if (inputFilter is not null)
        {
            if (inputFilter.Length % 2 == 0 || inputFilter.Length >= kernel) throw new BadInputException($"{name}: input filter of {inputFilter.Length} taps must be odd and shorter than the {kernel}-sample window");
            // The same fixed taps for every detector, as a depthwise 'valid' convolution: no window edge reaches the network.
            var taps = new float[2 * inputFilter.Length];
            for (int d = 0; d < 2; d++)
                for (int j = 0; j < inputFilter.Length; j++) taps[d * inputFilter.Length + j] = inputFilter[inputFilter.Length - 1 - j];
            var w = net.Graph.Initializer("input_filter", taps, 2, 1, inputFilter.Length);
            x = net.Conv1dWith(x, w, null, 2, inputFilter.Length, plan.InputStride, 0, 0, 2, "input_filter");
        }
        if (plan.FeatureLength(x.Length) < 1)
            throw new BadInputException($"{name}: kernel length {kernel} samples is too short for {plan.Name}'s convolutions and pooling");
        if (plan.LeadingPool > 1) x = net.MaxPool1d(x, plan.LeadingPool);
        foreach (var block in plan.Blocks)
        {
            x = net.Conv1d(x, block.Channels, block.Kernel, prefix: $"featurizer.conv{block.Channels}", dilation: block.Dilation);
            x = net.BatchNorm(x);
            x = net.MaxPool1d(x, BbhNetArchitecture.BlockPool);
            x = net.Elementwise("Relu", x);
        }
        x = net.Flatten(x);
        foreach (int f in plan.Dense)
        {
            x = net.Linear(x, f, prefix: $"classifier.fc{f}");
            x = net.Elementwise("Relu", x);
            x = net.BatchNorm(x);
        }
        x = net.Linear(x, 1, prefix: "classifier.out");
        var score = net.Graph.Node("Sigmoid", [x.Name], ModelContract.ScoreOutput);
        net.CountFlops(1);
        net.Graph.Output(score, NetworkBuilder.Float, Onnx.OnnxDim.Symbolic("batch"), 1);

        net.CheckAllWeightsUsed();
        var model = net.Graph.Build(doc, new Dictionary<string, string>
        {
            ["architecture"] = plan.Name,
            ["trained"] = trained is null ? "false" : "true",
            ["seed"] = seed.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["input_filter_taps"] = (inputFilter?.Length ?? 0).ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        var config = ModelConfigs.Onnx(name, instances, kind, doc,
            [ModelConfigs.Input(ModelContract.DetectorInput, batch, 2, kernel)],
            [ModelConfigs.Output(ModelContract.ScoreOutput, batch, 1)]);
        return new RepositoryModel(name, config, model, net.Flops);
    }
}
