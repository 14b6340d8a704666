using GwReprocess.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GwReprocess.Training;

/// <summary>BBHnet in TorchSharp, layer for layer the classifier <see cref="BbhNetNetwork"/> writes to ONNX; it answers a logit, the export adds the sigmoid.</summary>
/// <remarks>
/// Max-pool 4; three blocks of Conv1d (kernel 3, no padding, 8/16/32 channels) → BatchNorm → max-pool 4 → ReLU; flatten;
/// two blocks of Linear (64, 32) → ReLU → dropout → BatchNorm; Linear → 1. Dropout is the paper's FC block (identity
/// at inference, so absent from the ONNX graph).
/// </remarks>
internal sealed class BbhNetModule : nn.Module<Tensor, Tensor>
{
    private static readonly int[] ConvChannels = [8, 16, 32];
    private static readonly int[] DenseFeatures = [64, 32];

    private readonly ModuleList<Conv1d> _convs = new();
    private readonly ModuleList<BatchNorm1d> _convNorms = new();
    private readonly ModuleList<Linear> _dense = new();
    private readonly ModuleList<BatchNorm1d> _denseNorms = new();
    private readonly Linear _output;
    private readonly Dropout _dropout;
    private readonly Tensor? _inputFilter;
    private readonly int _detectors;

    /// <param name="detectors">Input channels (detectors).</param>
    /// <param name="kernel">Window length K in samples.</param>
    /// <param name="dropout">Dropout probability in the dense blocks while training.</param>
    /// <param name="inputFilter">Fixed taps applied to every detector before the first pooling ('valid' convolution), or null.</param>
    public BbhNetModule(int detectors, int kernel, double dropout, float[]? inputFilter = null) : base("bbhnet")
    {
        _detectors = detectors;
        if (inputFilter is not null)
        {
            // ONNX Conv and torch's conv1d are both correlations: the same reversed taps BbhNetNetwork writes.
            var taps = new float[detectors * inputFilter.Length];
            for (int d = 0; d < detectors; d++)
                for (int j = 0; j < inputFilter.Length; j++) taps[d * inputFilter.Length + j] = inputFilter[inputFilter.Length - 1 - j];
            _inputFilter = tensor(taps, [detectors, 1, inputFilter.Length]);
            register_buffer("input_filter", _inputFilter);
            kernel -= inputFilter.Length - 1;
        }
        int c = detectors, length = kernel / 4;
        foreach (int next in ConvChannels)
        {
            _convs.Add(nn.Conv1d(c, next, 3));
            _convNorms.Add(nn.BatchNorm1d(next));
            c = next;
            length = (length - 2) / 4;
            if (length < 1) throw new BadInputException($"BBHnet: a {kernel}-sample window is too short for its pooling (needs at least 1024)");
        }
        int features = c * length;
        foreach (int next in DenseFeatures)
        {
            _dense.Add(nn.Linear(features, next));
            _denseNorms.Add(nn.BatchNorm1d(next));
            features = next;
        }
        _output = nn.Linear(features, 1);
        _dropout = nn.Dropout(dropout);
        RegisterComponents();
    }

    /// <summary>[B, D, K] whitened strain (scaled by the training's input scale) to [B] logits.</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        if (_inputFilter is not null) x = nn.functional.conv1d(x, _inputFilter, groups: _detectors);
        x = nn.functional.max_pool1d(x, 4);
        for (int i = 0; i < _convs.Count; i++)
            x = nn.functional.relu(nn.functional.max_pool1d(_convNorms[i].forward(_convs[i].forward(x)), 4));
        x = x.flatten(1);
        for (int i = 0; i < _dense.Count; i++)
            x = _denseNorms[i].forward(_dropout.forward(nn.functional.relu(_dense[i].forward(x))));
        return _output.forward(x).squeeze(1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Every tensor in the order <see cref="BbhNetNetwork"/> creates initializers; the first conv's weight is multiplied by
    /// <paramref name="inputScale"/> (max-pooling commutes with a positive scale), so the exported network takes whitened strain as postproc writes it.
    /// </summary>
    public List<(string Name, float[] Values)> ExportTensors(double inputScale)
    {
        var tensors = new List<(string, float[])>();
        for (int i = 0; i < _convs.Count; i++)
        {
            tensors.Add(($"featurizer.conv{ConvChannels[i]}.weight", ExportCheck.Values(_convs[i].weight!, i == 0 ? inputScale : 1)));
            tensors.Add(($"featurizer.conv{ConvChannels[i]}.bias", ExportCheck.Values(_convs[i].bias!, 1)));
            AddNorm(tensors, $"featurizer.bn{ConvChannels[i]}", _convNorms[i]);
        }
        for (int i = 0; i < _dense.Count; i++)
        {
            tensors.Add(($"classifier.fc{DenseFeatures[i]}.weight", ExportCheck.Values(_dense[i].weight!, 1)));
            tensors.Add(($"classifier.fc{DenseFeatures[i]}.bias", ExportCheck.Values(_dense[i].bias!, 1)));
            AddNorm(tensors, $"classifier.bn{DenseFeatures[i]}", _denseNorms[i]);
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
