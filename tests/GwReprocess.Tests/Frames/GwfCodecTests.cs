using System.Buffers.Binary;
using System.IO.Compression;
using System.Runtime.InteropServices;
using GwReprocess.Frames.Gwf;

namespace GwReprocess.Tests.Frames;

/// <summary>Checksum and compression test vectors from the format fact sheet, and the schemes no sample file uses.</summary>
public sealed class GwfCodecTests
{
    [Fact]
    public void ChecksumIsPosixCksum()
    {
        Assert.Equal(930766865u, GwfChecksum.Compute("123456789"u8));
        Assert.Equal(0xFFFFFFFFu, GwfChecksum.Compute([]));
        // The first FrSH of gwpy's HLV file (bytes 40–67) and its stored CRC (format sheet §4.2, §9).
        byte[] frsh = [0x20, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 7, 0, (byte)'F', (byte)'r', (byte)'a', (byte)'m', (byte)'e', (byte)'H', 0, 3, 0, 1, 0, 0];
        Assert.Equal(0x81E41DD4u, GwfChecksum.Compute(frsh));
        var bytes = File.ReadAllBytes(RealData.PathOf("gwpy/HLV-HW100916-968654552-1.gwf"));
        Assert.Equal(frsh, bytes[40..68]);
        Assert.Equal(0x81E41DD4u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(68)));
        // Incremental appends agree with one pass (slice-by-8 and byte tail).
        var c = new GwfChecksum();
        c.Append(bytes.AsSpan(0, 13));
        c.Append(bytes.AsSpan(13, 1000));
        c.Append(bytes.AsSpan(1013, bytes.Length - 4 - 1013));
        Assert.Equal(0x82FF4699u, c.Value); // chkSumFile of that file
    }

    [Fact]
    public void FoldedChecksumAgreesWithBitwiseCksumAtEveryLengthAndSplit()
    {
        var rng = new Random(5);
        var data = new byte[5000];
        rng.NextBytes(data);
        foreach (int n in new[] { 0, 1, 15, 16, 17, 63, 64, 65, 127, 128, 129, 1000, 4099, 5000 })
        {
            uint expected = BitwiseCksum(data.AsSpan(0, n));
            Assert.Equal(expected, GwfChecksum.Compute(data.AsSpan(0, n)));
            int split = n == 0 ? 0 : rng.Next(n);
            var c = new GwfChecksum();
            c.Append(data.AsSpan(0, split));
            c.Append(data.AsSpan(split, n - split));
            Assert.Equal(expected, c.Value);
        }
    }

    /// <summary>POSIX cksum, one bit at a time: the definition, independent of the table and carry-less code paths.</summary>
    private static uint BitwiseCksum(ReadOnlySpan<byte> data)
    {
        uint crc = 0;
        void Byte(byte b)
        {
            crc ^= (uint)b << 24;
            for (int k = 0; k < 8; k++) crc = (crc & 0x80000000) != 0 ? (crc << 1) ^ 0x04C11DB7 : crc << 1;
        }
        foreach (var b in data) Byte(b);
        for (ulong n = (ulong)data.Length; n != 0; n >>= 8) Byte((byte)n);
        return ~crc;
    }

    [Fact]
    public void ZeroSuppressionSpecExampleDecodes()
    {
        ushort[] words = [0x0003, 0x2D17, 0x37F8, 0x2963, 0x0025];
        var packed = MemoryMarshal.AsBytes(words.AsSpan()).ToArray();
        var result = new short[8];
        GwfVectorCodec.Decode(0x100 | 5, GwfVectorType.Int16, packed, 0, packed.Length, false, MemoryMarshal.AsBytes(result.AsSpan()));
        Assert.Equal([82, 85, 85, 81, 80, 82, 84, 85], result);
        // The same words big-endian (compress 5 without the 0x100 flag).
        var big = words.Select(BinaryPrimitives.ReverseEndianness).ToArray();
        var packedBig = MemoryMarshal.AsBytes(big.AsSpan()).ToArray();
        GwfVectorCodec.Decode(5, GwfVectorType.Int16, packedBig, 0, packedBig.Length, false, MemoryMarshal.AsBytes(result.AsSpan()));
        Assert.Equal([82, 85, 85, 81, 80, 82, 84, 85], result);
        // And the encoder produces exactly the spec's words for block size 3.
        var encoded = GwfVectorCodec.Suppress(MemoryMarshal.AsBytes(new short[] { 82, 85, 85, 81, 80, 82, 84, 85 }.AsSpan()), 2, 3)!;
        Assert.Equal(words, MemoryMarshal.Cast<byte, ushort>(encoded).ToArray());
    }

    [Theory]
    [InlineData(GwfVectorType.Int32, 8)]
    [InlineData(GwfVectorType.Float32, 8)]
    [InlineData(GwfVectorType.UInt32, 8)]
    [InlineData(GwfVectorType.Int64, 10)]
    [InlineData(GwfVectorType.Float64, 10)]
    [InlineData(GwfVectorType.Int16, 5)]
    public void ZeroSuppressionRoundTripsEveryWidth(GwfVectorType type, int scheme)
    {
        int size = type.ElementSize();
        var rng = new Random(7);
        var elements = new byte[1000 * size];
        rng.NextBytes(elements);
        // Realistic data: slow ramps with noise and runs of equal values, plus random bit patterns.
        for (int i = 0; i < 500; i++) elements.AsSpan(i * size, size).Clear();
        if (type == GwfVectorType.Float64)
            for (int i = 0; i < 500; i++) BinaryPrimitives.WriteDoubleLittleEndian(elements.AsSpan(i * 8), Math.Sin(i * 0.01));
        int block = scheme == 5 ? 12 : 8;
        var packed = GwfVectorCodec.Suppress(elements, size, block);
        Assert.NotNull(packed);
        var decoded = new byte[elements.Length];
        GwfVectorCodec.Decode((ushort)(0x100 | scheme), type, packed, 0, packed.Length, false, decoded);
        Assert.Equal(elements, decoded);
        // Same payload with big-endian words.
        var big = (byte[])packed.Clone();
        GwfVectorCodec.Swap(big, size);
        GwfVectorCodec.Decode((ushort)scheme, type, big, 0, big.Length, false, decoded);
        Assert.Equal(elements, decoded);
    }

    [Theory]
    [InlineData(GwfVectorType.Int8)]
    [InlineData(GwfVectorType.Int16)]
    [InlineData(GwfVectorType.Int32)]
    [InlineData(GwfVectorType.UInt16)]
    public void DifferentialGzipDecodesBothByteOrders(GwfVectorType type)
    {
        int size = type.ElementSize();
        var elements = new byte[777 * size];
        new Random(3).NextBytes(elements);
        var diffs = (byte[])elements.Clone();
        GwfVectorCodec.Differentiate(diffs, size);
        var decoded = new byte[elements.Length];
        GwfVectorCodec.Decode(0x100 | 3, type, Zlib(diffs), 0, Zlib(diffs).Length, false, decoded);
        Assert.Equal(elements, decoded);
        var bigDiffs = (byte[])diffs.Clone();
        GwfVectorCodec.Swap(bigDiffs, size);
        var z = Zlib(bigDiffs);
        GwfVectorCodec.Decode(3, type, z, 0, z.Length, false, decoded);
        Assert.Equal(elements, decoded);
    }

    [Fact]
    public void GzipComplexSwapsEachPart()
    {
        float[] values = [1.5f, -2.25f, 3e-7f, 4e9f];
        var be = MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
        GwfVectorCodec.Swap(be, 4);
        var z = Zlib(be);
        var decoded = new float[4];
        GwfVectorCodec.Decode(1, GwfVectorType.Complex64, z, 0, z.Length, false, MemoryMarshal.AsBytes(decoded.AsSpan()));
        Assert.Equal(values, decoded);
    }

    [Fact]
    public void CorruptOrShortZlibIsReportedNotReturned()
    {
        var data = new byte[800];
        new Random(1).NextBytes(data);
        var z = Zlib(data);
        var decoded = new byte[800];
        Assert.Throws<GwfParseException>(() => GwfVectorCodec.Decode(0x100 | 1, GwfVectorType.Float64, z, 0, z.Length, false, new byte[808]));
        z[z.Length / 2] ^= 0x40;
        Assert.Throws<GwfParseException>(() => GwfVectorCodec.Decode(0x100 | 1, GwfVectorType.Float64, z, 0, z.Length, false, decoded));
    }

    private static byte[] Zlib(byte[] data)
    {
        using var ms = new MemoryStream();
        using (var z = new ZLibStream(ms, CompressionLevel.Optimal, leaveOpen: true)) z.Write(data);
        return ms.ToArray();
    }
}
