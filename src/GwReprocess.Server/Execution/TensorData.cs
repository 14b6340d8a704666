using System.Buffers.Binary;
using Google.Protobuf;
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

    /// <summary>Zero data: zero bytes, or for BYTES an empty string per element (a zero length prefix each).</summary>
    public static TensorData Zeros(DataType type, long[] shape) =>
        new(type, shape, new byte[checked(TensorTypes.ElementCount(shape) * (type == DataType.TypeString ? BytesTensor.LengthPrefix : TensorTypes.ElementSize(type)))]);
}

/// <summary>Triton's serialized BYTES tensor: per element, in row-major order, a 4-byte little-endian length and then that many bytes.</summary>
public static class BytesTensor
{
    /// <summary>Bytes of one element's length prefix.</summary>
    public const int LengthPrefix = 4;

    /// <summary>Null when <paramref name="serialized"/> holds exactly <paramref name="count"/> elements and nothing more; else why not (Triton's wording).</summary>
    public static string? Check(ReadOnlySpan<byte> serialized, long count, string input, string model)
    {
        long elements = 0;
        int at = 0;
        while (at < serialized.Length)
        {
            if (serialized.Length - at < LengthPrefix)
                return $"incomplete string length indicator for inference input '{input}' for model '{model}', expecting {LengthPrefix} bytes but only {serialized.Length - at} bytes available";
            uint length = BinaryPrimitives.ReadUInt32LittleEndian(serialized[at..]);
            at += LengthPrefix;
            if (length > (uint)(serialized.Length - at))
                return $"incomplete string for inference input '{input}' for model '{model}', expecting string of length {length} but only {serialized.Length - at} bytes available";
            at += (int)length;
            elements++;
        }
        return elements == count ? null : $"expected {count} string elements for inference input '{input}' for model '{model}', got {elements}";
    }

    /// <summary>The serialized form of typed <c>bytes_contents</c>.</summary>
    public static byte[] Serialize(IReadOnlyList<ByteString> elements)
    {
        long total = 0;
        foreach (var e in elements) total += LengthPrefix + e.Length;
        var bytes = new byte[checked((int)total)];
        int at = 0;
        foreach (var e in elements)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(at), (uint)e.Length);
            e.Span.CopyTo(bytes.AsSpan(at + LengthPrefix));
            at += LengthPrefix + e.Length;
        }
        return bytes;
    }

    /// <summary>Calls <paramref name="element"/> with each element's bytes, in order (the input must have passed <see cref="Check"/>).</summary>
    public static void ForEach(ReadOnlySpan<byte> serialized, ElementAction element)
    {
        int index = 0;
        for (int at = 0; at < serialized.Length; index++)
        {
            int length = (int)BinaryPrimitives.ReadUInt32LittleEndian(serialized[at..]);
            element(serialized.Slice(at + LengthPrefix, length), index);
            at += LengthPrefix + length;
        }
    }

    /// <summary>Receives one element of a BYTES tensor and its flat index.</summary>
    public delegate void ElementAction(ReadOnlySpan<byte> element, int index);

    /// <summary>Byte offset at which element <paramref name="elements"/> starts (the serialized length when it is the count).</summary>
    public static int Offset(ReadOnlySpan<byte> serialized, long elements)
    {
        int at = 0;
        for (long i = 0; i < elements; i++) at += LengthPrefix + (int)BinaryPrimitives.ReadUInt32LittleEndian(serialized[at..]);
        return at;
    }
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
