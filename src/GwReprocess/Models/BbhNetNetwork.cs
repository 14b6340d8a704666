using Inference;

namespace GwReprocess.Models;

/// <summary>The paper-era BBHnet classifier (reference-pipeline.md §9.1), untrained, for throughput studies.</summary>
/// <remarks>
/// Input [B, 2, K] (H1, L1). Pooling first (max-pool 4), then three conv blocks (kernel 3, no padding, 8/16/32
/// channels: Conv → BatchNorm → max-pool 4 → ReLU), flatten, dense 64 → ReLU → (dropout: identity at inference) →
/// BatchNorm, dense 32 → ReLU → BatchNorm, dense 1 → Sigmoid: <c>score [B, 1]</c>. The layer list is reconstructed
/// from the export parameters (the original mldet source is private), so it matches the paper model's size class,
/// not its exact weights.
/// </remarks>
public static class BbhNetNetwork
{
    public const string Description = "BBHnet paper-era architecture, UNTRAINED (seeded random weights): for throughput studies only, scores are meaningless";

    public static RepositoryModel Build(string name, int kernel, int batch, int seed,
        int instances = 1, ModelInstanceGroup.Types.Kind kind = ModelInstanceGroup.Types.Kind.Auto)
    {
        var net = new NetworkBuilder(name, seed);
        var x = new Activation(net.Graph.Input(ModelContract.DetectorInput, NetworkBuilder.Float, Onnx.OnnxDim.Symbolic("batch"), 2, kernel), 2, kernel);
        x = net.MaxPool1d(x, 4);
        foreach (int c in (int[])[8, 16, 32])
        {
            x = net.Conv1d(x, c, 3, prefix: $"featurizer.conv{c}");
            x = net.BatchNorm(x);
            x = net.MaxPool1d(x, 4);
            x = net.Elementwise("Relu", x);
            if (x.Length < 1) throw new BadInputException($"{name}: kernel length {kernel} samples is too short for BBHnet's pooling (needs ≥ 1024)");
        }
        x = net.Flatten(x);
        foreach (int f in (int[])[64, 32])
        {
            x = net.Linear(x, f, prefix: $"classifier.fc{f}");
            x = net.Elementwise("Relu", x);
            x = net.BatchNorm(x);
        }
        x = net.Linear(x, 1, prefix: "classifier.out");
        var score = net.Graph.Node("Sigmoid", [x.Name], ModelContract.ScoreOutput);
        net.CountFlops(1);
        net.Graph.Output(score, NetworkBuilder.Float, Onnx.OnnxDim.Symbolic("batch"), 1);

        var model = net.Graph.Build(Description, new Dictionary<string, string>
        {
            ["architecture"] = "bbhnet",
            ["trained"] = "false",
            ["seed"] = seed.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        var config = ModelConfigs.Onnx(name, instances, kind, Description,
            [ModelConfigs.Input(ModelContract.DetectorInput, batch, 2, kernel)],
            [ModelConfigs.Output(ModelContract.ScoreOutput, batch, 1)]);
        return new RepositoryModel(name, config, model, net.Flops);
    }
}
