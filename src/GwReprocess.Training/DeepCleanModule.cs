using GwReprocess.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GwReprocess.Training;

/// <summary>DeepClean's convolutional autoencoder in TorchSharp, layer for layer the network <see cref="DeepCleanNetwork"/> writes to ONNX.</summary>
/// <remarks>
/// Kernel 7, padding 3 everywhere; BatchNorm + Tanh after every conv but the last; four stride-2 encoder convs to 8, 16,
/// 32, 64 channels and four transposed convs back to the witness count. Layers are kept in <see cref="DeepCleanNetwork.LayerOrder"/>
/// so export can hand their tensors to the ONNX builder in the order it creates initializers.
/// </remarks>
internal sealed class DeepCleanModule : nn.Module<Tensor, Tensor>
{
    private readonly ModuleList<nn.Module<Tensor, Tensor>> _convs = new();
    private readonly ModuleList<BatchNorm1d> _norms = new();

    public DeepCleanModule(int witnesses) : base("deepclean")
    {
        _convs.Add(nn.Conv1d(witnesses, witnesses, 7, stride: 1, padding: 3));
        int c = witnesses;
        foreach (int next in (int[])[8, 16, 32, 64])
        {
            _convs.Add(nn.Conv1d(c, next, 7, stride: 2, padding: 3));
            c = next;
        }
        foreach (int next in (int[])[32, 16, 8, witnesses])
        {
            _convs.Add(nn.ConvTranspose1d(c, next, 7, stride: 2, padding: 3, output_padding: 1));
            c = next;
        }
        _convs.Add(nn.Conv1d(witnesses, 1, 7, stride: 1, padding: 3));
        for (int i = 0; i < _convs.Count - 1; i++) _norms.Add(nn.BatchNorm1d(ConvOut(i)));
        RegisterComponents();
    }

    /// <summary>[B, C, K] standardised witnesses to [B, K] noise in standardised strain units.</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        for (int i = 0; i < _convs.Count - 1; i++) x = _norms[i].forward(_convs[i].forward(x)).tanh();
        return _convs[^1].forward(x).squeeze(1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Every tensor of the network, named by layer, in the order <see cref="NetworkBuilder"/> creates initializers (per layer: conv
    /// weight and bias, then BatchNorm weight, bias, running mean and running variance). The output conv's weight and bias
    /// are multiplied by <paramref name="outputScale"/>, so the exported network answers in strain units.
    /// </summary>
    public List<(string Name, float[] Values)> ExportTensors(double outputScale)
    {
        var tensors = new List<(string, float[])>();
        for (int i = 0; i < _convs.Count; i++)
        {
            string layer = DeepCleanNetwork.LayerOrder[i];
            var p = _convs[i].named_parameters().ToDictionary(n => n.name, n => n.parameter);
            bool last = i == _convs.Count - 1;
            tensors.Add(($"{layer}.weight", ExportCheck.Values(p["weight"], last ? outputScale : 1)));
            tensors.Add(($"{layer}.bias", ExportCheck.Values(p["bias"], last ? outputScale : 1)));
            if (last) break;
            var bn = _norms[i];
            tensors.Add(($"{layer}.bn.weight", ExportCheck.Values(bn.weight!, 1)));
            tensors.Add(($"{layer}.bn.bias", ExportCheck.Values(bn.bias!, 1)));
            tensors.Add(($"{layer}.bn.running_mean", ExportCheck.Values(bn.running_mean!, 1)));
            tensors.Add(($"{layer}.bn.running_var", ExportCheck.Values(bn.running_var!, 1)));
        }
        return tensors;
    }

    private int ConvOut(int i) => (int)_convs[i].named_parameters().First(n => n.name == "bias").parameter.shape[0];
}
