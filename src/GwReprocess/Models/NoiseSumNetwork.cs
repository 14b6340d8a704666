using GwReprocess.Models.Onnx;
using Inference;

namespace GwReprocess.Models;

/// <summary>Adds two cleaners' noise estimates, <c>linear [B, K] + nonlinear [B, K]</c> → <c>noise [B, K]</c>: a linear cleaner and a DeepClean trained on what it leaves.</summary>
public static class NoiseSumNetwork
{
    /// <summary>The input taking the linear cleaner's estimate.</summary>
    public const string LinearInput = "noise_linear";

    /// <summary>The input taking the nonlinear cleaner's estimate.</summary>
    public const string NonlinearInput = "noise_nonlinear";

    public static RepositoryModel Build(string name, int kernel, int batch)
    {
        var net = new NetworkBuilder(name, seed: 0);
        var g = net.Graph;
        var batchDim = OnnxDim.Symbolic("batch");
        var a = g.Input(LinearInput, NetworkBuilder.Float, batchDim, kernel);
        var b = g.Input(NonlinearInput, NetworkBuilder.Float, batchDim, kernel);
        var sum = g.Node("Add", [a, b], ModelContract.NoiseOutput);
        g.Output(sum, NetworkBuilder.Float, batchDim, kernel);
        net.CountFlops(kernel);
        const string description = "noise sum: a linear cleaner's estimate plus a DeepClean trained on the strain it leaves";
        var model = g.Build(description, new Dictionary<string, string> { ["architecture"] = "noise-sum" });
        var config = ModelConfigs.Onnx(name, 1, ModelInstanceGroup.Types.Kind.Auto, description,
            [ModelConfigs.Input(LinearInput, batch, kernel), ModelConfigs.Input(NonlinearInput, batch, kernel)],
            [ModelConfigs.Output(ModelContract.NoiseOutput, batch, kernel)]);
        return new RepositoryModel(name, config, model, net.Flops);
    }
}
