using System.Runtime.InteropServices;
using Google.Protobuf;
using GwReprocess.Models.Onnx.Protos;
using DataType = GwReprocess.Models.Onnx.Protos.TensorProto.Types.DataType;

namespace GwReprocess.Models.Onnx;

/// <summary>One dimension of a graph input/output shape: a fixed size or a symbolic name (e.g. "batch").</summary>
public readonly record struct OnnxDim
{
    private OnnxDim(long? value, string? symbol) { Value = value; Symbol = symbol; }

    /// <summary>The fixed size, or null when symbolic.</summary>
    public long? Value { get; }

    /// <summary>The symbolic name (ONNX dim_param), or null when fixed.</summary>
    public string? Symbol { get; }

    public static OnnxDim Fixed(long value) =>
        value >= 0 ? new(value, null) : throw new ArgumentOutOfRangeException(nameof(value), value, "a fixed dimension must be ≥ 0");

    public static OnnxDim Symbolic(string name) =>
        string.IsNullOrEmpty(name) ? throw new ArgumentException("a symbolic dimension needs a name", nameof(name)) : new(null, name);

    public static implicit operator OnnxDim(long value) => Fixed(value);

    public override string ToString() => Symbol ?? Value!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>Factory for ONNX node attributes, each stamped with its <c>type</c> field (ONNX Runtime requires it).</summary>
public static class OnnxAttribute
{
    public static AttributeProto Int(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Ints(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }

    public static AttributeProto Float(string name, float value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    public static AttributeProto Floats(string name, params float[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Floats };
        a.Floats.AddRange(values);
        return a;
    }

    public static AttributeProto String(string name, string value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(value) };

    public static AttributeProto Tensor(string name, TensorProto value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Tensor, T = value };
}

/// <summary>Builds an ONNX graph node by node (in topological order) and stamps the model IR 8 / opset 17.</summary>
/// <remarks>
/// IR 8 with default-domain opset 17 loads in ONNX Runtime 1.15 and later, so the same file runs in our server
/// and in Triton containers from 23.08 on (triton-protocol.md §6.3). The builder checks SSA names and that every node
/// input is already defined, so a model it returns is well formed by construction.
/// </remarks>
public sealed class OnnxGraphBuilder
{
    public const long IrVersion = 8;
    public const long OpsetVersion = 17;

    private readonly GraphProto _graph;
    private readonly HashSet<string> _defined = new(StringComparer.Ordinal);
    private readonly HashSet<string> _nodeNames = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _counters = new(StringComparer.Ordinal);

    public OnnxGraphBuilder(string graphName) => _graph = new GraphProto { Name = graphName };

    /// <summary>Number of parameters (elements of float initializers) so far.</summary>
    public long ParameterCount { get; private set; }

    /// <summary>Declares a graph input.</summary>
    public string Input(string name, DataType type, params OnnxDim[] shape)
    {
        Define(name);
        _graph.Input.Add(ValueInfo(name, type, shape));
        return name;
    }

    /// <summary>Declares a graph output (an already defined value).</summary>
    public void Output(string name, DataType type, params OnnxDim[] shape)
    {
        if (!_defined.Contains(name)) throw new InvalidOperationException($"graph output '{name}' is not produced by any node or input");
        if (_graph.Output.Any(o => o.Name == name)) throw new InvalidOperationException($"graph output '{name}' declared twice");
        _graph.Output.Add(ValueInfo(name, type, shape));
    }

    /// <summary>Records the type and shape of an intermediate value (optional, helps checkers and readers).</summary>
    public void Annotate(string name, DataType type, params OnnxDim[] shape) => _graph.ValueInfo.Add(ValueInfo(name, type, shape));

    /// <summary>Adds a float initializer (raw little-endian data) and returns its name.</summary>
    public string Initializer(string name, ReadOnlySpan<float> data, params long[] dims)
    {
        CheckCount(name, data.Length, dims);
        var t = NewTensor(name, DataType.Float, dims);
        t.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(data));
        Define(name);
        _graph.Initializer.Add(t);
        ParameterCount += data.Length;
        return name;
    }

    /// <summary>Adds an int64 initializer (shapes, indices, slice bounds) and returns its name.</summary>
    public string InitializerInt64(string name, ReadOnlySpan<long> data, params long[] dims)
    {
        CheckCount(name, data.Length, dims);
        var t = NewTensor(name, DataType.Int64, dims);
        t.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(data));
        Define(name);
        _graph.Initializer.Add(t);
        return name;
    }

    /// <summary>A 1-D int64 constant with a fresh name built from <paramref name="prefix"/>.</summary>
    public string Int64Vector(string prefix, params long[] values) => InitializerInt64(UniqueName(prefix), values, values.Length);

    /// <summary>Adds a node with one output, named <paramref name="output"/> or a fresh name from the op type; returns the output name.</summary>
    public string Node(string opType, IReadOnlyList<string> inputs, string? output = null, params AttributeProto[] attributes) =>
        NodeMulti(opType, inputs, [output ?? UniqueName(opType.ToLowerInvariant())], attributes)[0];

    /// <summary>Adds a node with the given output names; returns them.</summary>
    public IReadOnlyList<string> NodeMulti(string opType, IReadOnlyList<string> inputs, IReadOnlyList<string> outputs, params AttributeProto[] attributes)
    {
        foreach (var i in inputs)
            if (i.Length > 0 && !_defined.Contains(i))
                throw new InvalidOperationException($"{opType} node input '{i}' is not defined yet (nodes must be added in topological order)");
        var node = new NodeProto { OpType = opType, Name = UniqueNodeName(opType) };
        node.Input.AddRange(inputs);
        foreach (var o in outputs) Define(o);
        node.Output.AddRange(outputs);
        node.Attribute.AddRange(attributes);
        _graph.Node.Add(node);
        return outputs;
    }

    /// <summary>A name not used yet, <paramref name="prefix"/> followed by a counter.</summary>
    public string UniqueName(string prefix)
    {
        while (true)
        {
            int n = _counters.TryGetValue(prefix, out var c) ? c : 0;
            _counters[prefix] = n + 1;
            var name = $"{prefix}_{n}";
            if (!_defined.Contains(name)) return name;
        }
    }

    /// <summary>Wraps the graph in a ModelProto (IR 8, opset 17) with producer and metadata.</summary>
    public ModelProto Build(string docString, IReadOnlyDictionary<string, string>? metadata = null)
    {
        if (_graph.Output.Count == 0) throw new InvalidOperationException($"graph '{_graph.Name}' has no outputs");
        var model = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "GwReprocess",
            ProducerVersion = typeof(OnnxGraphBuilder).Assembly.GetName().Version?.ToString() ?? "0",
            ModelVersion = 1,
            DocString = docString,
            Graph = _graph.Clone(),
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = OpsetVersion });
        if (metadata is not null)
            foreach (var (k, v) in metadata) model.MetadataProps.Add(new StringStringEntryProto { Key = k, Value = v });
        return model;
    }

    private void Define(string name)
    {
        if (string.IsNullOrEmpty(name)) throw new ArgumentException("value names must not be empty");
        if (!_defined.Add(name)) throw new InvalidOperationException($"value '{name}' is defined twice (ONNX graphs are single-assignment)");
    }

    private string UniqueNodeName(string opType)
    {
        int n = _nodeNames.Count;
        string name;
        do name = $"{opType}_{n++}"; while (!_nodeNames.Add(name));
        return name;
    }

    private static void CheckCount(string name, int count, long[] dims)
    {
        long expected = 1;
        foreach (var d in dims) expected *= d;
        if (expected != count) throw new ArgumentException($"initializer '{name}': {count} values for shape [{string.Join(", ", dims)}]");
    }

    private static TensorProto NewTensor(string name, DataType type, long[] dims)
    {
        var t = new TensorProto { Name = name, DataType = (int)type };
        t.Dims.AddRange(dims);
        return t;
    }

    /// <summary>A tensor ValueInfo with the given element type and shape.</summary>
    public static ValueInfoProto ValueInfo(string name, DataType type, IReadOnlyList<OnnxDim> shape)
    {
        var tensorShape = new TensorShapeProto();
        foreach (var d in shape)
            tensorShape.Dim.Add(d.Symbol is { } s ? new TensorShapeProto.Types.Dimension { DimParam = s } : new TensorShapeProto.Types.Dimension { DimValue = d.Value!.Value });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = tensorShape } },
        };
    }
}
