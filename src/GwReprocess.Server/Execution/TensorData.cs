using Inference;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace GwReprocess.Server.Execution;

/// <summary>A tensor as it travels through the server: datatype, full shape and row-major little-endian bytes.</summary>
public sealed class TensorData(DataType type, long[] shape, ReadOnlyMemory<byte> bytes)
{
    public DataType Type { get; } = type;

    public long[] Shape { get; } = shape;

    public ReadOnlyMemory<byte> Bytes { get; } = bytes;

    public long ElementCount => TensorTypes.ElementCount(Shape);

    public static TensorData Zeros(DataType type, long[] shape) =>
        new(type, shape, new byte[checked(TensorTypes.ElementCount(shape) * TensorTypes.ElementSize(type))]);
}

/// <summary>Protocol datatype strings, config enums, element sizes and ONNX Runtime element types (triton-protocol.md §1.6).</summary>
public static class TensorTypes
{
    private static readonly (string Name, DataType Type, int Size, TensorElementType Ort)[] Table =
    [
        ("BOOL", DataType.TypeBool, 1, TensorElementType.Bool),
        ("UINT8", DataType.TypeUint8, 1, TensorElementType.UInt8),
        ("UINT16", DataType.TypeUint16, 2, TensorElementType.UInt16),
        ("UINT32", DataType.TypeUint32, 4, TensorElementType.UInt32),
        ("UINT64", DataType.TypeUint64, 8, TensorElementType.UInt64),
        ("INT8", DataType.TypeInt8, 1, TensorElementType.Int8),
        ("INT16", DataType.TypeInt16, 2, TensorElementType.Int16),
        ("INT32", DataType.TypeInt32, 4, TensorElementType.Int32),
        ("INT64", DataType.TypeInt64, 8, TensorElementType.Int64),
        ("FP16", DataType.TypeFp16, 2, TensorElementType.Float16),
        ("FP32", DataType.TypeFp32, 4, TensorElementType.Float),
        ("FP64", DataType.TypeFp64, 8, TensorElementType.Double),
        ("BYTES", DataType.TypeString, 0, TensorElementType.String),
        ("BF16", DataType.TypeBf16, 2, TensorElementType.BFloat16),
    ];

    /// <summary>The config enum for a protocol string, or TYPE_INVALID.</summary>
    public static DataType FromProtocol(string name)
    {
        foreach (var t in Table) if (t.Name == name) return t.Type;
        return DataType.TypeInvalid;
    }

    public static string ToProtocol(DataType type)
    {
        foreach (var t in Table) if (t.Type == type) return t.Name;
        return "INVALID";
    }

    /// <summary>Bytes per element; 0 for BYTES (variable) and TYPE_INVALID.</summary>
    public static int ElementSize(DataType type)
    {
        foreach (var t in Table) if (t.Type == type) return t.Size;
        return 0;
    }

    public static TensorElementType ToOrt(DataType type)
    {
        foreach (var t in Table) if (t.Type == type) return t.Ort;
        return TensorElementType.DataTypeMax;
    }

    public static DataType FromOrt(TensorElementType type)
    {
        foreach (var t in Table) if (t.Ort == type) return t.Type;
        return DataType.TypeInvalid;
    }

    /// <summary>Product of the dims; throws on negative dims or overflow (callers validate first).</summary>
    public static long ElementCount(ReadOnlySpan<long> shape)
    {
        long n = 1;
        foreach (var d in shape) n = checked(n * d);
        return n;
    }

    /// <summary>Shape as Triton prints it in messages: [1,2,3].</summary>
    public static string Format(IEnumerable<long> shape) => "[" + string.Join(",", shape) + "]";
}
