using System.Buffers.Binary;

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
        uint crc = _crc;
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
        _crc = crc;
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
