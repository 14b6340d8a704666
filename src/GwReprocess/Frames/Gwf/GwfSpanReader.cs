using System.Buffers.Binary;
using System.Text;

namespace GwReprocess.Frames.Gwf;

/// <summary>Raised inside structure parsing; the reader turns it into a <see cref="GwfFormatException"/> with file and offset.</summary>
internal sealed class GwfParseException(string message) : Exception(message);

/// <summary>Reads GWF primitive types from a record's bytes in the file's byte order, bounds-checked.</summary>
internal ref struct GwfSpanReader
{
    private readonly ReadOnlySpan<byte> _data;
    private readonly bool _bigEndian;
    private int _position;

    public GwfSpanReader(ReadOnlySpan<byte> data, bool bigEndian, int position = 0)
    {
        _data = data;
        _bigEndian = bigEndian;
        _position = position;
    }

    public readonly int Position => _position;

    public readonly int Remaining => _data.Length - _position;

    private ReadOnlySpan<byte> Take(int n, string what)
    {
        if (n < 0 || n > _data.Length - _position)
            throw new GwfParseException($"{what} runs past the end of the structure ({n} byte(s) needed at +{_position}, {_data.Length - _position} left)");
        var s = _data.Slice(_position, n);
        _position += n;
        return s;
    }

    public byte U8(string what = "CHAR") => Take(1, what)[0];

    public ushort U16(string what = "INT_2U")
    {
        var s = Take(2, what);
        return _bigEndian ? BinaryPrimitives.ReadUInt16BigEndian(s) : BinaryPrimitives.ReadUInt16LittleEndian(s);
    }

    public short I16(string what = "INT_2S") => (short)U16(what);

    public uint U32(string what = "INT_4U")
    {
        var s = Take(4, what);
        return _bigEndian ? BinaryPrimitives.ReadUInt32BigEndian(s) : BinaryPrimitives.ReadUInt32LittleEndian(s);
    }

    public int I32(string what = "INT_4S") => (int)U32(what);

    public ulong U64(string what = "INT_8U")
    {
        var s = Take(8, what);
        return _bigEndian ? BinaryPrimitives.ReadUInt64BigEndian(s) : BinaryPrimitives.ReadUInt64LittleEndian(s);
    }

    public float F32(string what = "REAL_4") => BitConverter.Int32BitsToSingle((int)U32(what));

    public double F64(string what = "REAL_8") => BitConverter.Int64BitsToDouble((long)U64(what));

    /// <summary>A GWF STRING: INT_2U byte count including the NUL, then the bytes; text up to the first NUL.</summary>
    public string Str(string what = "STRING")
    {
        int n = U16(what);
        var bytes = Take(n, what);
        int nul = bytes.IndexOf((byte)0);
        if (nul >= 0) bytes = bytes[..nul];
        return Encoding.Latin1.GetString(bytes);
    }

    public GwfPointer Ptr(string what = "PTR_STRUCT") => new(U16(what), U32(what));

    public ReadOnlySpan<byte> Bytes(long n, string what)
    {
        if (n < 0 || n > int.MaxValue) throw new GwfParseException($"{what}: byte count {n} is out of range");
        return Take((int)n, what);
    }

    /// <summary>A count of array elements, checked against what can still be in the record.</summary>
    public int Count(ulong n, int minBytesEach, string what)
    {
        if (n > (ulong)Math.Max(0, Remaining) / (ulong)Math.Max(1, minBytesEach))
            throw new GwfParseException($"{what} = {n} does not fit in the structure ({Remaining} byte(s) left)");
        return (int)n;
    }

    public void Skip(long n, string what) => Bytes(n, what);
}

/// <summary>A GWF PTR_STRUCT: class id and instance within the frame; (0, 0) is null.</summary>
internal readonly record struct GwfPointer(ushort ClassId, uint Instance)
{
    public bool IsNull => ClassId == 0 && Instance == 0;
}
