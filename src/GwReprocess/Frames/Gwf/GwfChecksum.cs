using System.Buffers.Binary;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GwReprocess.Frames.Gwf;

/// <summary>The POSIX <c>cksum</c> CRC that GWF uses for structure and file checksums (gwf-format.md §9).</summary>
/// <remarks>
/// CRC-32 with polynomial 0x04C11DB7, MSB first, initial value 0; the data length is appended
/// least significant byte first, and the result inverted. Mutable accumulator: feed bytes with
/// <see cref="Append"/>, read the value with <see cref="Value"/>.
/// </remarks>
public struct GwfChecksum
{
    private static readonly uint[][] Tables = BuildTables();
    private uint _crc;
    private long _length;

    /// <summary>Bytes fed so far.</summary>
    public readonly long Length => _length;

    /// <summary>The checksum of everything appended so far.</summary>
    public readonly uint Value
    {
        get
        {
            uint crc = _crc;
            var t = Tables[0];
            for (ulong n = (ulong)_length; n != 0; n >>= 8)
                crc = (crc << 8) ^ t[(crc >> 24) ^ (byte)n];
            return ~crc;
        }
    }

    /// <summary>The checksum of one buffer.</summary>
    public static uint Compute(ReadOnlySpan<byte> data)
    {
        var c = new GwfChecksum();
        c.Append(data);
        return c.Value;
    }

    public void Append(ReadOnlySpan<byte> data)
    {
        _length += data.Length;
        if (data.Length >= 64 && Pclmulqdq.IsSupported && Ssse3.IsSupported)
        {
            int folded = data.Length & ~15;
            _crc = Table(Fold(data[..folded], _crc), data[folded..]);
        }
        else _crc = Table(_crc, data);
    }

    /// <summary>
    /// Carry-less-multiply folding (Intel, "Fast CRC computation for generic polynomials using PCLMULQDQ"),
    /// MSB-first: keeps a 128-bit remainder congruent to the message, folding 64 bytes per step in four lanes,
    /// then finishes with the table on the remainder's 16 bytes. Returns the CRC state after <paramref name="data"/>.
    /// </summary>
    private static uint Fold(ReadOnlySpan<byte> data, uint crc)
    {
        var reverse = Vector128.Create((byte)15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
        Vector128<ulong> Load(ReadOnlySpan<byte> d, int at) =>
            Ssse3.Shuffle(Vector128.Create<byte>(d.Slice(at, 16)), reverse).AsUInt64();
        Vector128<ulong> FoldBy(Vector128<ulong> x, Vector128<ulong> k) =>
            Pclmulqdq.CarrylessMultiply(x, k, 0x11) ^ Pclmulqdq.CarrylessMultiply(x, k, 0x00);

        // The incoming state enters as the first four message bytes XOR crc (standard CRC continuation).
        var first = Load(data, 0) ^ Vector128.Create(0UL, (ulong)crc << 32);
        int n = data.Length, at = 16;
        if (n >= 64)
        {
            var x0 = first; var x1 = Load(data, 16); var x2 = Load(data, 32); var x3 = Load(data, 48);
            at = 64;
            for (; at + 64 <= n; at += 64)
            {
                x0 = FoldBy(x0, K512) ^ Load(data, at);
                x1 = FoldBy(x1, K512) ^ Load(data, at + 16);
                x2 = FoldBy(x2, K512) ^ Load(data, at + 32);
                x3 = FoldBy(x3, K512) ^ Load(data, at + 48);
            }
            first = FoldBy(FoldBy(FoldBy(x0, K128) ^ x1, K128) ^ x2, K128) ^ x3;
        }
        for (; at + 16 <= n; at += 16) first = FoldBy(first, K128) ^ Load(data, at);
        Span<byte> rest = stackalloc byte[16];
        Ssse3.Shuffle(first.AsByte(), reverse).CopyTo(rest);
        return Table(0, rest);
    }

    // Fold constants (hi: x^(d+64) mod P, lo: x^d mod P) for distances of 128 and 512 bits.
    private static readonly Vector128<ulong> K128 = Vector128.Create(PowerModP(128), PowerModP(192));
    private static readonly Vector128<ulong> K512 = Vector128.Create(PowerModP(512), PowerModP(576));

    private static ulong PowerModP(int n)
    {
        ulong r = 1;
        for (int i = 0; i < n; i++)
        {
            r <<= 1;
            if ((r & 0x1_0000_0000UL) != 0) r ^= 0x1_04C1_1DB7UL;
        }
        return r;
    }

    private static uint Table(uint crc, ReadOnlySpan<byte> data)
    {
        var t0 = Tables[0]; var t1 = Tables[1]; var t2 = Tables[2]; var t3 = Tables[3];
        var t4 = Tables[4]; var t5 = Tables[5]; var t6 = Tables[6]; var t7 = Tables[7];
        int i = 0;
        // Slice-by-8: eight bytes per step through eight precomputed tables.
        for (; i + 8 <= data.Length; i += 8)
        {
            uint one = crc ^ BinaryPrimitives.ReadUInt32BigEndian(data[i..]);
            uint two = BinaryPrimitives.ReadUInt32BigEndian(data[(i + 4)..]);
            crc = t7[one >> 24] ^ t6[(one >> 16) & 0xFF] ^ t5[(one >> 8) & 0xFF] ^ t4[one & 0xFF]
                ^ t3[two >> 24] ^ t2[(two >> 16) & 0xFF] ^ t1[(two >> 8) & 0xFF] ^ t0[two & 0xFF];
        }
        for (; i < data.Length; i++)
            crc = (crc << 8) ^ t0[(crc >> 24) ^ data[i]];
        return crc;
    }

    private static uint[][] BuildTables()
    {
        var tables = new uint[8][];
        for (int k = 0; k < 8; k++) tables[k] = new uint[256];
        for (uint i = 0; i < 256; i++)
        {
            uint c = i << 24;
            for (int b = 0; b < 8; b++) c = (c & 0x80000000) != 0 ? (c << 1) ^ 0x04C11DB7 : c << 1;
            tables[0][i] = c;
        }
        for (int k = 1; k < 8; k++)
            for (int i = 0; i < 256; i++)
            {
                uint prev = tables[k - 1][i];
                tables[k][i] = (prev << 8) ^ tables[0][prev >> 24];
            }
        return tables;
    }
}
