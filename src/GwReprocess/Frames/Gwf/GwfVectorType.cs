namespace GwReprocess.Frames.Gwf;

/// <summary>FrVect element types (gwf-format.md §8.1).</summary>
public enum GwfVectorType : ushort
{
    Int8 = 0,
    Int16 = 1,
    Float64 = 2,
    Float32 = 3,
    Int32 = 4,
    Int64 = 5,
    Complex64 = 6,
    Complex128 = 7,
    String = 8,
    UInt16 = 9,
    UInt32 = 10,
    UInt64 = 11,
    UInt8 = 12,
}

/// <summary>FrVect compression schemes, the low byte of <c>compress</c> (gwf-format.md §8.2).</summary>
public enum GwfCompression : byte
{
    Raw = 0,
    Gzip = 1,
    DifferentialGzip = 3,
    ZeroSuppress2 = 5,
    /// <summary>Legacy code FrameL decodes as <see cref="ZeroSuppress2"/>.</summary>
    ZeroSuppress2Legacy = 6,
    ZeroSuppress4 = 8,
    ZeroSuppress8 = 10,
}

/// <summary>Sizes and names of <see cref="GwfVectorType"/> values.</summary>
public static class GwfVectorTypes
{
    /// <summary>Bytes per element (both parts for complex); 0 for strings and unknown types.</summary>
    public static int ElementSize(this GwfVectorType type) => type switch
    {
        GwfVectorType.Int8 or GwfVectorType.UInt8 => 1,
        GwfVectorType.Int16 or GwfVectorType.UInt16 => 2,
        GwfVectorType.Int32 or GwfVectorType.UInt32 or GwfVectorType.Float32 => 4,
        GwfVectorType.Int64 or GwfVectorType.UInt64 or GwfVectorType.Float64 or GwfVectorType.Complex64 => 8,
        GwfVectorType.Complex128 => 16,
        _ => 0,
    };

    /// <summary>Bytes per byte-swapped unit: the element, or one part of a complex element.</summary>
    public static int ScalarSize(this GwfVectorType type) => type switch
    {
        GwfVectorType.Complex64 => 4,
        GwfVectorType.Complex128 => 8,
        _ => type.ElementSize(),
    };

    public static bool IsComplex(this GwfVectorType type) => type is GwfVectorType.Complex64 or GwfVectorType.Complex128;

    public static bool IsInteger(this GwfVectorType type) => type is GwfVectorType.Int8 or GwfVectorType.UInt8 or GwfVectorType.Int16
        or GwfVectorType.UInt16 or GwfVectorType.Int32 or GwfVectorType.UInt32 or GwfVectorType.Int64 or GwfVectorType.UInt64;

    /// <summary>The spec's name (FR_VECT_8R ...) with a plain one, for listings.</summary>
    public static string Describe(this GwfVectorType type) => type switch
    {
        GwfVectorType.Int8 => "int8",
        GwfVectorType.Int16 => "int16",
        GwfVectorType.Float64 => "float64",
        GwfVectorType.Float32 => "float32",
        GwfVectorType.Int32 => "int32",
        GwfVectorType.Int64 => "int64",
        GwfVectorType.Complex64 => "complex64",
        GwfVectorType.Complex128 => "complex128",
        GwfVectorType.String => "string",
        GwfVectorType.UInt16 => "uint16",
        GwfVectorType.UInt32 => "uint32",
        GwfVectorType.UInt64 => "uint64",
        GwfVectorType.UInt8 => "uint8",
        _ => $"type{(int)type}",
    };

    /// <summary>Name of a compression scheme for listings.</summary>
    public static string Describe(GwfCompression c) => c switch
    {
        GwfCompression.Raw => "raw",
        GwfCompression.Gzip => "gzip",
        GwfCompression.DifferentialGzip => "diff+gzip",
        GwfCompression.ZeroSuppress2 or GwfCompression.ZeroSuppress2Legacy => "zero-suppress-2",
        GwfCompression.ZeroSuppress4 => "zero-suppress-4",
        GwfCompression.ZeroSuppress8 => "zero-suppress-8",
        _ => $"code{(int)c}",
    };
}
