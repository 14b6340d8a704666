using System.Buffers;
using System.Buffers.Binary;
using System.IO.Compression;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace GwReprocess.Frames.Gwf;

/// <summary>Decodes and encodes FrVect payloads: raw, zlib, differences, zero-suppression (gwf-format.md §8).</summary>
internal static class GwfVectorCodec
{
    /// <summary>Decodes a payload into element bytes in little-endian (host) order; <paramref name="destination"/> is exactly nData × element size.</summary>
    public static void Decode(ushort compress, GwfVectorType type, byte[] payload, int offset, int count, bool fileBigEndian, Span<byte> destination)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("GWF decoding assumes a little-endian host");
        int scalar = type.ScalarSize();
        if (scalar == 0) throw new GwfParseException($"FrVect type {(int)type} is not a numeric type this reader decodes");
        var scheme = (GwfCompression)(compress & 0xFF);
        bool packedBigEndian = compress < 256;
        var data = payload.AsSpan(offset, count);
        switch (scheme)
        {
            case GwfCompression.Raw:
                if (count != destination.Length)
                    throw new GwfParseException($"raw FrVect holds {count} byte(s), expected {destination.Length}");
                data.CopyTo(destination);
                if (fileBigEndian) Swap(destination, scalar);
                break;
            case GwfCompression.Gzip:
                Inflate(payload, offset, count, destination);
                if (packedBigEndian) Swap(destination, scalar);
                break;
            case GwfCompression.DifferentialGzip:
                if (!type.IsInteger()) throw new GwfParseException($"differential compression (code {compress}) on non-integer type {type.Describe()}");
                Inflate(payload, offset, count, destination);
                if (packedBigEndian) Swap(destination, scalar);
                Integrate(destination, scalar);
                break;
            case GwfCompression.ZeroSuppress2:
            case GwfCompression.ZeroSuppress2Legacy:
            case GwfCompression.ZeroSuppress4:
            case GwfCompression.ZeroSuppress8:
                int w = scheme switch { GwfCompression.ZeroSuppress4 => 4, GwfCompression.ZeroSuppress8 => 8, _ => 2 };
                if (type.IsComplex() || type.ElementSize() != w)
                    throw new GwfParseException($"zero-suppression code {compress} does not apply to type {type.Describe()}");
                Unsuppress(data, w, packedBigEndian, destination);
                Integrate(destination, w);
                break;
            default:
                throw new GwfParseException($"unsupported FrVect compression code {compress}");
        }
    }

    private static void Inflate(byte[] payload, int offset, int count, Span<byte> destination)
    {
        try
        {
            using var source = new MemoryStream(payload, offset, count, writable: false);
            using var z = new ZLibStream(source, CompressionMode.Decompress);
            int got = z.ReadAtLeast(destination, destination.Length, throwOnEndOfStream: false);
            if (got != destination.Length)
                throw new GwfParseException($"zlib data inflate to {got} byte(s), expected {destination.Length}");
            // Reading past the end makes zlib check the Adler-32 trailer and reveals trailing garbage.
            Span<byte> extra = stackalloc byte[1];
            if (z.Read(extra) != 0) throw new GwfParseException($"zlib data inflate to more than the expected {destination.Length} byte(s)");
        }
        catch (InvalidDataException e)
        {
            throw new GwfParseException($"corrupt zlib data ({e.Message})");
        }
    }

    internal static void Swap(Span<byte> data, int scalar)
    {
        switch (scalar)
        {
            case 2: { var s = MemoryMarshal.Cast<byte, ushort>(data); BinaryPrimitives.ReverseEndianness(s, s); break; }
            case 4: { var s = MemoryMarshal.Cast<byte, uint>(data); BinaryPrimitives.ReverseEndianness(s, s); break; }
            case 8: { var s = MemoryMarshal.Cast<byte, ulong>(data); BinaryPrimitives.ReverseEndianness(s, s); break; }
        }
    }

    /// <summary>Running sum in the element's own width, modulo 2^bits (§8.3).</summary>
    internal static void Integrate(Span<byte> data, int width)
    {
        switch (width)
        {
            case 1: { byte acc = 0; for (int i = 0; i < data.Length; i++) data[i] = acc = unchecked((byte)(acc + data[i])); break; }
            case 2: { var s = MemoryMarshal.Cast<byte, ushort>(data); ushort acc = 0; for (int i = 0; i < s.Length; i++) s[i] = acc = unchecked((ushort)(acc + s[i])); break; }
            case 4: { var s = MemoryMarshal.Cast<byte, uint>(data); uint acc = 0; for (int i = 0; i < s.Length; i++) s[i] = acc = unchecked(acc + s[i]); break; }
            case 8: { var s = MemoryMarshal.Cast<byte, ulong>(data); ulong acc = 0; for (int i = 0; i < s.Length; i++) s[i] = acc = unchecked(acc + s[i]); break; }
        }
    }

    /// <summary>Differences in the element's own width (the inverse of <see cref="Integrate"/>).</summary>
    internal static void Differentiate(Span<byte> data, int width)
    {
        switch (width)
        {
            case 1: { byte prev = 0; for (int i = 0; i < data.Length; i++) { byte v = data[i]; data[i] = unchecked((byte)(v - prev)); prev = v; } break; }
            case 2: { var s = MemoryMarshal.Cast<byte, ushort>(data); ushort prev = 0; for (int i = 0; i < s.Length; i++) { ushort v = s[i]; s[i] = unchecked((ushort)(v - prev)); prev = v; } break; }
            case 4: { var s = MemoryMarshal.Cast<byte, uint>(data); uint prev = 0; for (int i = 0; i < s.Length; i++) { uint v = s[i]; s[i] = unchecked(v - prev); prev = v; } break; }
            case 8: { var s = MemoryMarshal.Cast<byte, ulong>(data); ulong prev = 0; for (int i = 0; i < s.Length; i++) { ulong v = s[i]; s[i] = unchecked(v - prev); prev = v; } break; }
        }
    }

    /// <summary>Unpacks zero-suppressed differences (§8.5) into little-endian elements of <paramref name="width"/> bytes.</summary>
    private static void Unsuppress(ReadOnlySpan<byte> packed, int width, bool bigEndianWords, Span<byte> destination)
    {
        if (packed.Length % width != 0) throw new GwfParseException($"zero-suppressed data of {packed.Length} byte(s) is not a whole number of {width * 8}-bit words");
        byte[]? rented = null;
        ReadOnlySpan<byte> stream = packed;
        if (bigEndianWords && width > 1)
        {
            // The bit stream is defined over little-endian words, so bring big-endian words into that order first.
            rented = ArrayPool<byte>.Shared.Rent(packed.Length);
            var copy = rented.AsSpan(0, packed.Length);
            packed.CopyTo(copy);
            Swap(copy, width);
            stream = copy;
        }
        try
        {
            var bits = new BitStream(stream);
            int fieldBits = width switch { 2 => 4, 4 => 5, _ => 6 };
            long n = destination.Length / width;
            int block = (int)bits.Read(16);
            if (block == 0) throw new GwfParseException("zero-suppressed data declare a block size of 0");
            long i = 0;
            while (i < n)
            {
                int nBits = (int)bits.Read(fieldBits) + 1;
                long end = Math.Min(n, i + block);
                if (nBits == 1)
                {
                    destination.Slice((int)(i * width), (int)((end - i) * width)).Clear();
                    i = end;
                    continue;
                }
                ulong bias = (1UL << (nBits - 1)) - 1;
                for (; i < end; i++)
                {
                    ulong d = unchecked(bits.Read(nBits) - bias);
                    var slot = destination.Slice((int)(i * width), width);
                    switch (width)
                    {
                        case 2: BinaryPrimitives.WriteUInt16LittleEndian(slot, (ushort)d); break;
                        case 4: BinaryPrimitives.WriteUInt32LittleEndian(slot, (uint)d); break;
                        default: BinaryPrimitives.WriteUInt64LittleEndian(slot, d); break;
                    }
                }
            }
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Packs little-endian elements as zero-suppressed differences (§8.5), as little-endian words; null when a difference cannot be coded.</summary>
    internal static byte[]? Suppress(ReadOnlySpan<byte> elements, int width, int block)
    {
        int n = elements.Length / width;
        var diffs = elements.ToArray();
        Differentiate(diffs, width);
        int fieldBits = width switch { 2 => 4, 4 => 5, _ => 6 };
        int wordBits = width * 8;
        var writer = new BitWriter(elements.Length + 16);
        writer.Write((ulong)block, 16);
        for (int start = 0; start < n; start += block)
        {
            int end = Math.Min(n, start + block);
            ulong max = 0;
            for (int i = start; i < end; i++)
            {
                long d = SignedAt(diffs, i, width);
                if (wordBits < 64 ? d == -(1L << (wordBits - 1)) : d == long.MinValue) return null;
                max |= (ulong)Math.Abs(d);
            }
            if (max == 0) { writer.Write(0, fieldBits); continue; }
            int nBits = 64 - System.Numerics.BitOperations.LeadingZeroCount(max) + 1;
            writer.Write((ulong)(nBits - 1), fieldBits);
            ulong bias = (1UL << (nBits - 1)) - 1;
            for (int i = start; i < end; i++)
                writer.Write(unchecked((ulong)SignedAt(diffs, i, width) + bias), nBits);
        }
        return writer.ToArray(width);
    }

    private static long SignedAt(byte[] data, int i, int width) => width switch
    {
        2 => BinaryPrimitives.ReadInt16LittleEndian(data.AsSpan(i * 2)),
        4 => BinaryPrimitives.ReadInt32LittleEndian(data.AsSpan(i * 4)),
        _ => BinaryPrimitives.ReadInt64LittleEndian(data.AsSpan(i * 8)),
    };

    /// <summary>Converts little-endian elements to float64; for complex types only the real parts (or only the imaginary parts).</summary>
    public static void ToDouble(GwfVectorType type, ReadOnlySpan<byte> elements, Span<double> destination, bool imaginary = false)
    {
        switch (type)
        {
            case GwfVectorType.Float64: MemoryMarshal.Cast<byte, double>(elements).CopyTo(destination); break;
            case GwfVectorType.Float32: TensorPrimitives.ConvertTruncating<float, double>(MemoryMarshal.Cast<byte, float>(elements), destination); break;
            case GwfVectorType.Int8: TensorPrimitives.ConvertTruncating<sbyte, double>(MemoryMarshal.Cast<byte, sbyte>(elements), destination); break;
            case GwfVectorType.UInt8: TensorPrimitives.ConvertTruncating<byte, double>(elements, destination); break;
            case GwfVectorType.Int16: TensorPrimitives.ConvertTruncating<short, double>(MemoryMarshal.Cast<byte, short>(elements), destination); break;
            case GwfVectorType.UInt16: TensorPrimitives.ConvertTruncating<ushort, double>(MemoryMarshal.Cast<byte, ushort>(elements), destination); break;
            case GwfVectorType.Int32: TensorPrimitives.ConvertTruncating<int, double>(MemoryMarshal.Cast<byte, int>(elements), destination); break;
            case GwfVectorType.UInt32: TensorPrimitives.ConvertTruncating<uint, double>(MemoryMarshal.Cast<byte, uint>(elements), destination); break;
            case GwfVectorType.Int64: TensorPrimitives.ConvertTruncating<long, double>(MemoryMarshal.Cast<byte, long>(elements), destination); break;
            case GwfVectorType.UInt64: TensorPrimitives.ConvertTruncating<ulong, double>(MemoryMarshal.Cast<byte, ulong>(elements), destination); break;
            case GwfVectorType.Complex64:
            {
                var f = MemoryMarshal.Cast<byte, float>(elements);
                int k = imaginary ? 1 : 0;
                for (int i = 0; i < destination.Length; i++) destination[i] = f[2 * i + k];
                break;
            }
            case GwfVectorType.Complex128:
            {
                var f = MemoryMarshal.Cast<byte, double>(elements);
                int k = imaginary ? 1 : 0;
                for (int i = 0; i < destination.Length; i++) destination[i] = f[2 * i + k];
                break;
            }
            default: throw new GwfParseException($"FrVect type {(int)type} cannot be converted to numbers");
        }
    }

    /// <summary>Converts float64 samples to little-endian elements of <paramref name="type"/>, refusing values that the type cannot hold exactly.</summary>
    public static void FromDouble(GwfVectorType type, ReadOnlySpan<double> samples, Span<byte> destination)
    {
        switch (type)
        {
            case GwfVectorType.Float64: MemoryMarshal.AsBytes(samples).CopyTo(destination); break;
            case GwfVectorType.Float32: TensorPrimitives.ConvertTruncating<double, float>(samples, MemoryMarshal.Cast<byte, float>(destination)); break;
            case GwfVectorType.Int16: Integers<short>(samples, MemoryMarshal.Cast<byte, short>(destination)); break;
            case GwfVectorType.Int32: Integers<int>(samples, MemoryMarshal.Cast<byte, int>(destination)); break;
            case GwfVectorType.UInt16: Integers<ushort>(samples, MemoryMarshal.Cast<byte, ushort>(destination)); break;
            case GwfVectorType.UInt32: Integers<uint>(samples, MemoryMarshal.Cast<byte, uint>(destination)); break;
            case GwfVectorType.Int8: Integers<sbyte>(samples, MemoryMarshal.Cast<byte, sbyte>(destination)); break;
            case GwfVectorType.UInt8: Integers<byte>(samples, destination); break;
            default: throw new ArgumentException($"the writer does not write FrVect type {type.Describe()}");
        }
    }

    private static void Integers<T>(ReadOnlySpan<double> samples, Span<T> destination) where T : System.Numerics.INumber<T>
    {
        for (int i = 0; i < samples.Length; i++)
        {
            double v = samples[i];
            T t = T.CreateSaturating(v);
            if (double.CreateTruncating(t) != v)
                throw new ArgumentException($"sample {i} = {v} is not representable as {typeof(T).Name}");
            destination[i] = t;
        }
    }

    /// <summary>Reads unsigned fields LSB first from a little-endian bit stream.</summary>
    private ref struct BitStream(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> _data = data;
        private long _bit;

        public ulong Read(int n)
        {
            if (_bit + n > (long)_data.Length * 8) throw new GwfParseException("zero-suppressed data end before all samples are decoded");
            ulong result = 0;
            int got = 0;
            while (got < n)
            {
                int index = (int)(_bit >> 3), offset = (int)(_bit & 7);
                int take = Math.Min(8 - offset, n - got);
                result |= (ulong)((_data[index] >> offset) & ((1 << take) - 1)) << got;
                got += take;
                _bit += take;
            }
            return result;
        }
    }

    private sealed class BitWriter(int capacity)
    {
        private byte[] _data = new byte[capacity];
        private long _bit;

        public void Write(ulong value, int n)
        {
            for (int i = 0; i < n; i++, _bit++)
            {
                int index = (int)(_bit >> 3);
                if (index >= _data.Length) Array.Resize(ref _data, _data.Length * 2);
                if (((value >> i) & 1) != 0) _data[index] |= (byte)(1 << (int)(_bit & 7));
            }
        }

        public byte[] ToArray(int wordBytes)
        {
            long bytes = (_bit + 7) / 8;
            bytes = (bytes + wordBytes - 1) / wordBytes * wordBytes;
            var result = new byte[bytes];
            Array.Copy(_data, result, Math.Min(bytes, _data.Length));
            return result;
        }
    }
}
