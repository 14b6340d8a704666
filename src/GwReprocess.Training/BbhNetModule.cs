using GwReprocess.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GwReprocess.Training;

/// <summary>BBHnet in TorchSharp, layer for layer the classifier <see cref="BbhNetNetwork"/> writes to ONNX for a <see cref="BbhNetArchitecture"/>; it answers a logit, the export adds the sigmoid.</summary>
/// <remarks>
/// Optional leading max-pool; conv blocks (Conv1d without padding → BatchNorm → max-pool 4 → ReLU); flatten; dense blocks
/// (Linear → ReLU → dropout → BatchNorm); Linear → 1. Dropout is the paper's FC block (identity at inference, so absent from
/// the ONNX graph). The fixed input filter is not part of the module: training applies it to the data once.
/// </remarks>
internal sealed class BbhNetModule : nn.Module<Tensor, Tensor>
{
    private readonly ModuleList<Conv1d> _convs = new();
    private readonly ModuleList<BatchNorm1d> _convNorms = new();
    private readonly ModuleList<Linear> _dense = new();
    private readonly ModuleList<BatchNorm1d> _denseNorms = new();
    private readonly Linear _output;
    private readonly Dropout _dropout;
    private readonly BbhNetArchitecture _plan;

    /// <param name="plan">The layer plan.</param>
    /// <param name="detectors">Input channels (detectors).</param>
    /// <param name="length">Samples per detector after the fixed input filter.</param>
    /// <param name="dropout">Dropout probability in the dense blocks while training.</param>
    public BbhNetModule(BbhNetArchitecture plan, int detectors, int length, double dropout) : base("bbhnet")
    {
        _plan = plan;
        int featureLength = plan.FeatureLength(length);
        if (featureLength < 1) throw new BadInputException($"BBHnet ({plan.Name}): {length} samples after the input filter are too short for its convolutions and pooling");
        int c = detectors;
        foreach (var block in plan.Blocks)
        {
            _convs.Add(nn.Conv1d(c, block.Channels, block.Kernel, dilation: block.Dilation));
            _convNorms.Add(nn.BatchNorm1d(block.Channels));
            c = block.Channels;
        }
        int features = featureLength * c;
        foreach (int next in plan.Dense)
        {
            _dense.Add(nn.Linear(features, next));
            _denseNorms.Add(nn.BatchNorm1d(next));
            features = next;
        }
        _output = nn.Linear(features, 1);
        _dropout = nn.Dropout(dropout);
        RegisterComponents();
    }

    /// <summary>[B, D, L] whitened, filtered strain (scaled by the training's input scale) to [B] logits.</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        if (_plan.LeadingPool > 1) x = nn.functional.max_pool1d(x, _plan.LeadingPool);
        for (int i = 0; i < _convs.Count; i++)
            x = nn.functional.relu(nn.functional.max_pool1d(_convNorms[i].forward(_convs[i].forward(x)), BbhNetArchitecture.BlockPool));
        x = x.flatten(1);
        for (int i = 0; i < _dense.Count; i++)
            x = _denseNorms[i].forward(_dropout.forward(nn.functional.relu(_dense[i].forward(x))));
        return _output.forward(x).squeeze(1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Every tensor in the order <see cref="BbhNetNetwork"/> creates initializers; the first conv's weight is multiplied by
    /// <paramref name="inputScale"/> (max-pooling and the conv before any nonlinearity commute with a positive scale), so the exported network takes whitened strain as postproc writes it.
    /// </summary>
    public List<(string Name, float[] Values)> ExportTensors(double inputScale)
    {
        var tensors = new List<(string, float[])>();
        for (int i = 0; i < _convs.Count; i++)
        {
            int channels = _plan.Blocks[i].Channels;
            tensors.Add(($"featurizer.conv{channels}.weight", ExportCheck.Values(_convs[i].weight!, i == 0 ? inputScale : 1)));
            tensors.Add(($"featurizer.conv{channels}.bias", ExportCheck.Values(_convs[i].bias!, 1)));
            AddNorm(tensors, $"featurizer.bn{channels}", _convNorms[i]);
        }
        for (int i = 0; i < _dense.Count; i++)
        {
            tensors.Add(($"classifier.fc{_plan.Dense[i]}.weight", ExportCheck.Values(_dense[i].weight!, 1)));
            tensors.Add(($"classifier.fc{_plan.Dense[i]}.bias", ExportCheck.Values(_dense[i].bias!, 1)));
            AddNorm(tensors, $"classifier.bn{_plan.Dense[i]}", _denseNorms[i]);
        }
        tensors.Add(("classifier.out.weight", ExportCheck.Values(_output.weight!, 1)));
        tensors.Add(("classifier.out.bias", ExportCheck.Values(_output.bias!, 1)));
        return tensors;
    }

    private static void AddNorm(List<(string, float[])> tensors, string name, BatchNorm1d bn)
    {
        tensors.Add(($"{name}.weight", ExportCheck.Values(bn.weight!, 1)));
        tensors.Add(($"{name}.bias", ExportCheck.Values(bn.bias!, 1)));
        tensors.Add(($"{name}.running_mean", ExportCheck.Values(bn.running_mean!, 1)));
        tensors.Add(($"{name}.running_var", ExportCheck.Values(bn.running_var!, 1)));
    }
}
