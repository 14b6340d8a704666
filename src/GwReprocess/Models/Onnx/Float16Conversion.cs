using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Google.Protobuf;
using GwReprocess.Models.Onnx.Protos;

namespace GwReprocess.Models.Onnx;

/// <summary>Turns a float32 graph into float16 weights and compute behind an unchanged float32 interface: Cast nodes at the graph's inputs and outputs.</summary>
/// <remarks>
/// A pass over the built graph, so the network builders stay float32: every FLOAT initializer and constant becomes
/// FLOAT16, every FLOAT intermediate value is typed FLOAT16, each FLOAT graph input feeds a Cast to FLOAT16 and each
/// FLOAT graph output comes from a Cast back to FLOAT. Weights beyond float16's range (±65504) are refused rather
/// than saturated. Ops that fix a float type in an attribute (Cast, RandomNormal, …) are refused: the networks built
/// here have none.
/// </remarks>
public static class Float16Conversion
{
    private const int Float = (int)TensorProto.Types.DataType.Float;
    private const int Float16 = (int)TensorProto.Types.DataType.Float16;

    /// <summary>A float16 copy of <paramref name="model"/>; the original is left as it is.</summary>
    public static ModelProto Convert(ModelProto model)
    {
        var m = model.Clone();
        var g = m.Graph;
        foreach (var node in g.Node)
            foreach (var a in node.Attribute)
            {
                if (a.Name is "to" or "dtype" && a.I == Float)
                    throw new InvalidOperationException($"{g.Name}: node '{node.Name}' ({node.OpType}) fixes a float32 type; the float16 pass does not rewrite it");
                if (a.T is { DataType: Float }) a.T = ToFloat16(a.T, g.Name);
            }
        var initializers = new HashSet<string>(g.Initializer.Select(i => i.Name), StringComparer.Ordinal);
        for (int i = 0; i < g.Initializer.Count; i++)
            if (g.Initializer[i].DataType == Float) g.Initializer[i] = ToFloat16(g.Initializer[i], g.Name);
        foreach (var v in g.ValueInfo)
            if (v.Type?.TensorType is { ElemType: Float } t) t.ElemType = Float16;

        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var n in g.Node) foreach (var o in n.Output) names.Add(o);
        foreach (var i in g.Input) names.Add(i.Name);
        string Fresh(string stem)
        {
            string name = stem;
            for (int k = 1; !names.Add(name); k++) name = $"{stem}_{k}";
            return name;
        }

        var casts = new List<NodeProto>();
        foreach (var input in g.Input)
        {
            if (initializers.Contains(input.Name) || input.Type?.TensorType is not { ElemType: Float }) continue;
            string half = Fresh(input.Name + "_fp16");
            Rename(g.Node, input.Name, half, outputsToo: false);
            casts.Add(Cast(input.Name, half, Float16));
        }
        var tail = new List<NodeProto>();
        foreach (var output in g.Output)
        {
            if (output.Type?.TensorType is not { ElemType: Float }) continue;
            string half = Fresh(output.Name + "_fp16");
            Rename(g.Node, output.Name, half, outputsToo: true);
            tail.Add(Cast(half, output.Name, Float));
        }
        // Topological order: the input casts before every node, the output casts after.
        for (int i = 0; i < casts.Count; i++) g.Node.Insert(i, casts[i]);
        g.Node.AddRange(tail);
        return m;
    }

    private static NodeProto Cast(string input, string output, int to)
    {
        var n = new NodeProto { OpType = "Cast", Name = $"cast_{output}" };
        n.Input.Add(input);
        n.Output.Add(output);
        n.Attribute.Add(new AttributeProto { Name = "to", Type = AttributeProto.Types.AttributeType.Int, I = to });
        return n;
    }

    private static void Rename(IEnumerable<NodeProto> nodes, string from, string to, bool outputsToo)
    {
        foreach (var n in nodes)
        {
            for (int i = 0; i < n.Input.Count; i++) if (n.Input[i] == from) n.Input[i] = to;
            if (outputsToo) for (int i = 0; i < n.Output.Count; i++) if (n.Output[i] == from) n.Output[i] = to;
        }
    }

    private static TensorProto ToFloat16(TensorProto t, string graph)
    {
        ReadOnlySpan<float> values = t.RawData.Length > 0 ? MemoryMarshal.Cast<byte, float>(t.RawData.Span) : t.FloatData.ToArray();
        var bytes = new byte[values.Length * 2];
        for (int i = 0; i < values.Length; i++)
        {
            var h = (Half)values[i];
            if (Half.IsInfinity(h) && !float.IsInfinity(values[i]))
                throw new BadInputException($"{graph}: initializer '{t.Name}' holds {values[i]} at element {i}, beyond float16's range (±65504)");
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(2 * i), BitConverter.HalfToUInt16Bits(h));
        }
        var half = t.Clone();
        half.DataType = Float16;
        half.FloatData.Clear();
        half.RawData = ByteString.CopyFrom(bytes);
        return half;
    }
}
