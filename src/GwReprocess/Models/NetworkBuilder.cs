using GwReprocess.Models.Onnx;
using DataType = GwReprocess.Models.Onnx.Protos.TensorProto.Types.DataType;

namespace GwReprocess.Models;

/// <summary>A value flowing through a network under construction: its ONNX name and per-example shape ([channels, length], or [features] when <see cref="Length"/> is 0).</summary>
public readonly record struct Activation(string Name, int Channels, int Length)
{
    /// <summary>True for a 2-D [batch, features] value.</summary>
    public bool IsFlat => Length == 0;
}

/// <summary>1-D network layers on top of <see cref="OnnxGraphBuilder"/>, with seeded PyTorch-style initial weights and a FLOP count.</summary>
/// <remarks>
/// Weights follow PyTorch's default initialisation (uniform ±1/√fan_in for conv, transposed conv and linear weights
/// and biases; BatchNorm scale 1, shift 0, running mean 0, variance 1), so an "untrained" model here has the value
/// ranges of a freshly constructed PyTorch model. FLOPs are counted per example: 2 per multiply-accumulate, plus one
/// per element for bias, normalisation and activation steps.
/// </remarks>
public sealed class NetworkBuilder
{
    private readonly Random _random;
    private readonly NetworkWeights? _trained;

    /// <summary>A builder whose layers get seeded PyTorch-style initial weights, or <paramref name="trained"/> values in creation order.</summary>
    public NetworkBuilder(string graphName, int seed, NetworkWeights? trained = null)
    {
        Graph = new OnnxGraphBuilder(graphName);
        _random = new Random(seed);
        _trained = trained;
    }

    /// <summary>The underlying graph.</summary>
    public OnnxGraphBuilder Graph { get; }

    /// <summary>Floating-point operations per example so far.</summary>
    public double Flops { get; private set; }

    /// <summary>Adds FLOPs for layers built directly on <see cref="Graph"/>.</summary>
    public void CountFlops(double flops) => Flops += flops;

    /// <summary>Conv1d with kernel <paramref name="kernel"/>, symmetric zero padding, optional dilation and a bias.</summary>
    public Activation Conv1d(Activation x, int outChannels, int kernel, int stride = 1, int padding = 0, int group = 1, string prefix = "conv", int dilation = 1)
    {
        int inPerGroup = x.Channels / group;
        float bound = 1f / MathF.Sqrt(inPerGroup * kernel);
        var w = Graph.Initializer(Graph.UniqueName(prefix + ".weight"), Uniform(prefix + ".weight", outChannels * inPerGroup * kernel, bound), outChannels, inPerGroup, kernel);
        var b = Graph.Initializer(Graph.UniqueName(prefix + ".bias"), Uniform(prefix + ".bias", outChannels, bound), outChannels);
        return Conv1dWith(x, w, b, outChannels, kernel, stride, padding, padding, group, prefix, dilation);
    }

    /// <summary>Conv1d with given weight (and optional bias) initializer names.</summary>
    public Activation Conv1dWith(Activation x, string weight, string? bias, int outChannels, int kernel, int stride, int padBegin, int padEnd, int group, string prefix,
        int dilation = 1)
    {
        int span = x.Length + padBegin + padEnd - dilation * (kernel - 1) - 1;
        // Integer division truncates toward zero: an input shorter than the kernel must give no output, not one.
        int length = span < 0 ? 0 : span / stride + 1;
        // dilations only when used: every graph written before it existed keeps its bytes.
        var attributes = new List<Onnx.Protos.AttributeProto> { OnnxAttribute.Ints("kernel_shape", kernel), OnnxAttribute.Ints("strides", stride) };
        if (dilation != 1) attributes.Add(OnnxAttribute.Ints("dilations", dilation));
        attributes.Add(OnnxAttribute.Ints("pads", padBegin, padEnd));
        attributes.Add(OnnxAttribute.Int("group", group));
        var y = Graph.Node("Conv", bias is null ? [x.Name, weight] : [x.Name, weight, bias], Graph.UniqueName(prefix), [.. attributes]);
        Flops += 2.0 * outChannels * (x.Channels / group) * kernel * length + (bias is null ? 0 : (double)outChannels * length);
        return new Activation(y, outChannels, length);
    }

    /// <summary>ConvTranspose1d (weight layout [in, out, k]) with padding and output padding, and a bias.</summary>
    public Activation ConvTranspose1d(Activation x, int outChannels, int kernel, int stride, int padding, int outputPadding, string prefix = "convt")
    {
        // PyTorch computes fan_in of a transposed conv weight [in, out, k] from dim 1: out·k.
        float bound = 1f / MathF.Sqrt(outChannels * kernel);
        var w = Graph.Initializer(Graph.UniqueName(prefix + ".weight"), Uniform(prefix + ".weight", x.Channels * outChannels * kernel, bound), x.Channels, outChannels, kernel);
        var b = Graph.Initializer(Graph.UniqueName(prefix + ".bias"), Uniform(prefix + ".bias", outChannels, bound), outChannels);
        int length = stride * (x.Length - 1) + outputPadding + kernel - 2 * padding;
        var y = Graph.Node("ConvTranspose", [x.Name, w, b], Graph.UniqueName(prefix),
            OnnxAttribute.Ints("kernel_shape", kernel), OnnxAttribute.Ints("strides", stride),
            OnnxAttribute.Ints("pads", padding, padding), OnnxAttribute.Ints("output_padding", outputPadding));
        Flops += 2.0 * x.Channels * outChannels * kernel * x.Length + (double)outChannels * length;
        return new Activation(y, outChannels, length);
    }

    /// <summary>Inference-mode BatchNormalization over channels (or features for a flat value).</summary>
    public Activation BatchNorm(Activation x, string prefix = "bn")
    {
        int c = x.Channels;
        var scale = Graph.Initializer(Graph.UniqueName(prefix + ".weight"), Filled(prefix + ".weight", c, 1f), c);
        var shift = Graph.Initializer(Graph.UniqueName(prefix + ".bias"), Filled(prefix + ".bias", c, 0f), c);
        var mean = Graph.Initializer(Graph.UniqueName(prefix + ".running_mean"), Filled(prefix + ".running_mean", c, 0f), c);
        var variance = Graph.Initializer(Graph.UniqueName(prefix + ".running_var"), Filled(prefix + ".running_var", c, 1f), c);
        var y = Graph.Node("BatchNormalization", [x.Name, scale, shift, mean, variance], Graph.UniqueName(prefix),
            OnnxAttribute.Float("epsilon", 1e-5f));
        Flops += 2.0 * Elements(x);
        return x with { Name = y };
    }

    /// <summary>An element-wise activation (Tanh, Relu, Sigmoid).</summary>
    public Activation Elementwise(string opType, Activation x)
    {
        var y = Graph.Node(opType, [x.Name], Graph.UniqueName(opType.ToLowerInvariant()));
        Flops += Elements(x);
        return x with { Name = y };
    }

    /// <summary>MaxPool1d with window and stride <paramref name="size"/> (floor mode).</summary>
    public Activation MaxPool1d(Activation x, int size)
    {
        var y = Graph.Node("MaxPool", [x.Name], Graph.UniqueName("maxpool"),
            OnnxAttribute.Ints("kernel_shape", size), OnnxAttribute.Ints("strides", size));
        int length = x.Length / size;
        Flops += (double)x.Channels * length * size;
        return new Activation(y, x.Channels, length);
    }

    /// <summary>Flattens [batch, C, L] to [batch, C·L].</summary>
    public Activation Flatten(Activation x)
    {
        var y = Graph.Node("Flatten", [x.Name], Graph.UniqueName("flatten"), OnnxAttribute.Int("axis", 1));
        return new Activation(y, x.Channels * Math.Max(1, x.Length), 0);
    }

    /// <summary>A dense layer, as PyTorch Linear: Gemm with transB (weight [out, in]).</summary>
    public Activation Linear(Activation x, int outFeatures, string prefix = "fc")
    {
        if (!x.IsFlat) throw new InvalidOperationException("Linear needs a flat [batch, features] input");
        float bound = 1f / MathF.Sqrt(x.Channels);
        var w = Graph.Initializer(Graph.UniqueName(prefix + ".weight"), Uniform(prefix + ".weight", outFeatures * x.Channels, bound), outFeatures, x.Channels);
        var b = Graph.Initializer(Graph.UniqueName(prefix + ".bias"), Uniform(prefix + ".bias", outFeatures, bound), outFeatures);
        var y = Graph.Node("Gemm", [x.Name, w, b], Graph.UniqueName(prefix), OnnxAttribute.Int("transB", 1));
        Flops += 2.0 * x.Channels * outFeatures + outFeatures;
        return new Activation(y, outFeatures, 0);
    }

    private static double Elements(Activation x) => (double)x.Channels * Math.Max(1, x.Length);

    /// <summary>True when every layer so far took trained values (none were drawn).</summary>
    public bool Trained => _trained is not null;

    /// <summary>Throws unless every trained tensor was used: a trainer with more layers than the builder is a mismatch too.</summary>
    public void CheckAllWeightsUsed()
    {
        if (_trained is { Remaining: > 0 } t) throw new InvalidOperationException($"{t.Remaining} trained tensors were left over after building the network");
    }

    private float[] Uniform(string initializer, int count, float bound)
    {
        if (_trained is not null) return _trained.Take(initializer, count);
        var values = new float[count];
        for (int i = 0; i < count; i++) values[i] = (float)((_random.NextDouble() * 2 - 1) * bound);
        return values;
    }

    private float[] Filled(string initializer, int count, float value)
    {
        if (_trained is not null) return _trained.Take(initializer, count);
        var values = new float[count];
        Array.Fill(values, value);
        return values;
    }

    /// <summary>The ONNX element type of every network tensor here.</summary>
    public const DataType Float = DataType.Float;
}
