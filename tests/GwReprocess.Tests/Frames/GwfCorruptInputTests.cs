using System.Diagnostics;
using GwReprocess.Frames.Gwf;
using GwReprocess.Time;

namespace GwReprocess.Tests.Frames;

/// <summary>Damaged files and impossible requests give one clear <see cref="GwfFormatException"/>, never garbage or a crash.</summary>
public sealed class GwfCorruptInputTests : IDisposable
{
    private const string Gwosc = "gwosc/H-H1_LOSC_4_V2-1126259446-32.gwf";
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "gwf-corrupt-" + Guid.NewGuid().ToString("N")[..8]);

    public GwfCorruptInputTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    internal static string Damaged(string dir, string relative, Action<byte[]> damage, string? name = null)
    {
        var bytes = File.ReadAllBytes(RealData.PathOf(relative));
        damage(bytes);
        string path = Path.Combine(dir, name ?? Path.GetFileName(relative));
        File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>Offset of the strain FrVect's compressed data in the GWOSC file, found through the reader itself.</summary>
    internal static async Task<long> StrainPayloadOffsetAsync()
    {
        // The FrVect header is "name, compress, type, nData, nBytes" after the 14-byte common header; its name is the channel's.
        var bytes = await File.ReadAllBytesAsync(RealData.PathOf(Gwosc));
        var name = "H1:LOSC-STRAIN\0"u8.ToArray();
        int at = -1;
        for (int i = 0; i < bytes.Length - name.Length; i++)
            if (bytes.AsSpan(i, name.Length).SequenceEqual(name) && bytes[i + name.Length + 2] == 2) { at = i; break; }
        Assert.True(at > 0);
        return at + name.Length + 2 + 2 + 8 + 8; // start of the zlib stream
    }

    [Fact]
    public async Task TruncatedFileIsReportedAtOpen()
    {
        string path = Damaged(_dir, Gwosc, _ => { });
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        var e = await Assert.ThrowsAsync<GwfFormatException>(() => GwfFile.OpenAsync(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("truncated", e.Message);
        Assert.IsAssignableFrom<BadInputException>(e);
    }

    [Fact]
    public async Task FlippedByteInCompressedVectorFailsTheChecksumAndTheInflate()
    {
        long payload = await StrainPayloadOffsetAsync();
        string path = Damaged(_dir, Gwosc, b => b[payload + 5000] ^= 0x10);
        await using (var file = await GwfFile.OpenAsync(path))
        {
            var e = await Assert.ThrowsAsync<GwfFormatException>(() => file.ReadAsync("H1:LOSC-STRAIN"));
            Assert.Equal("FrVect", e.Structure);
            Assert.Equal("H1:LOSC-STRAIN", e.Channel);
            Assert.Contains("checksum mismatch", e.Message);
            // The other channels are untouched and still read.
            Assert.Equal(32, (await file.ReadAsync("H1:LOSC-DQMASK")).Length);
        }
        // Without CRC checks the zlib decoder itself refuses the stream (Adler-32 or a bad code).
        await using (var file = await GwfFile.OpenAsync(path, new GwfReadOptions { VerifyChecksums = false }))
        {
            var e = await Assert.ThrowsAsync<GwfFormatException>(() => file.ReadAsync("H1:LOSC-STRAIN"));
            Assert.Contains("zlib", e.Message);
            Assert.Equal("H1:LOSC-STRAIN", e.Channel);
        }
        await using (var file = await GwfFile.OpenAsync(path))
        {
            var v = await file.VerifyAsync();
            Assert.False(v.IsValid);
            Assert.Contains(v.Problems, p => p.Contains("FrVect") && p.Contains("checksum mismatch"));
            Assert.Contains(v.Problems, p => p.Contains("file checksum mismatch"));
        }
    }

    [Fact]
    public async Task WrongStoredChecksumIsReported()
    {
        long payload = await StrainPayloadOffsetAsync();
        // Damage the CRC word of the strain FrVect: its last 4 bytes, found from the record length that precedes its header.
        string path = Damaged(_dir, Gwosc, b =>
        {
            int nameAt = (int)payload - (2 + 2 + 8 + 8) - "H1:LOSC-STRAIN\0".Length - 2;
            long start = nameAt - 14;
            long length = BitConverter.ToInt64(b, (int)start);
            b[start + length - 1] ^= 0xFF;
        });
        await using var file = await GwfFile.OpenAsync(path);
        var e = await Assert.ThrowsAsync<GwfFormatException>(() => file.ReadAsync("H1:LOSC-STRAIN"));
        Assert.Contains("checksum mismatch", e.Message);
        // Skipping checks reads the (intact) data, identical to the reference.
        await using var lenient = await GwfFile.OpenAsync(path, new GwfReadOptions { VerifyChecksums = false });
        var strain = await lenient.ReadAsync("H1:LOSC-STRAIN");
        Assert.Equal(2.177040281449375e-19, strain.Samples.Span[0]);
    }

    [Fact]
    public async Task KnownBrokenV6FileReadsButVerifyReportsItsChecksums()
    {
        await using var file = await GwfFile.OpenAsync(RealData.PathOf("lalsuite/H-CAL_FAC-600000000-6000.gwf"));
        var s = await file.ReadFrameAsync("H1:CAL-CAV_FAC", 0);
        Assert.All(s.Real, v => Assert.Equal(1.0, v));
        var v = await file.VerifyAsync();
        Assert.Contains(v.Problems, p => p.Contains("frame checksum mismatch") && p.Contains("40BB6A03") && p.Contains("474BF93E"));
        Assert.Contains(v.Problems, p => p.Contains("file checksum mismatch"));
    }

    [Theory]
    [InlineData("gwpy/HLV-HW100916-968654552-1.gwf")]
    [InlineData("gwosc/H-H1_LOSC_4_V2-1126259446-32.gwf")]
    [InlineData("framel/test.gwf")]
    [InlineData("lalsuite/F-TEST-600000000-60.gwf")]
    [InlineData("lalsuite/H-CAL_FAC_V03-729273600-5094000.gwf")]
    public async Task IntactFilesVerify(string relative)
    {
        await using var file = await GwfFile.OpenAsync(RealData.PathOf(relative));
        var v = await file.VerifyAsync();
        Assert.True(v.IsValid, string.Join("; ", v.Problems));
        Assert.True(v.FileChecksumVerified);
        if (file.Header.Version == 8)
            Assert.Equal(RealData.Of(relative).GetProperty("struct_crc_ok_bad_none")[0].GetInt32(), v.ChecksumsVerified);
        else
            Assert.Equal(file.Frames.Count, v.FramesVerified);
    }

    [Fact]
    public async Task MissingChannelAndSpanOutsideTheFileAreReported()
    {
        await using var file = await GwfFile.OpenAsync(RealData.PathOf(Gwosc));
        var missing = await Assert.ThrowsAsync<GwfFormatException>(() => file.ReadAsync("H1:NO-SUCH_CHANNEL"));
        Assert.Equal("H1:NO-SUCH_CHANNEL", missing.Channel);
        Assert.Contains("no such channel", missing.Message);
        var outside = await Assert.ThrowsAsync<GwfFormatException>(() =>
            file.ReadAsync("H1:LOSC-STRAIN", new Segment(1126259446 + 30, 1126259446 + 40)));
        Assert.Contains("outside the file", outside.Message);
    }

    [Fact]
    public async Task ReadingOneChannelDoesNotTouchTheOthers()
    {
        // Corrupt the strain vector only: the TOC lets the masks be read without ever reading the strain record.
        long payload = await StrainPayloadOffsetAsync();
        string path = Damaged(_dir, Gwosc, b => b.AsSpan((int)payload, 4000).Fill(0xAB));
        await using var file = await GwfFile.OpenAsync(path);
        var dq = await file.ReadAsync("H1:LOSC-DQMASK", new Segment(1126259450, 1126259452));
        Assert.Equal([127.0, 127.0], dq.Samples.ToArray());
        Assert.Equal(GpsTime.FromSeconds(1126259450), dq.T0);
    }

    /// <summary>Thousands of mutated copies of real files: the reader throws nothing but its own exception type.</summary>
    [Theory]
    [InlineData("gwpy/HLV-HW100916-968654552-1.gwf", 500, 11)]
    [InlineData("framel/test.gwf", 2000, 12)]
    [InlineData("lalsuite/H-CAL_FAC-600000000-6000.gwf", 1500, 13)]
    public async Task FuzzedFilesOnlyRaiseGwfFormatException(string relative, int copies, int seed)
    {
        var original = File.ReadAllBytes(RealData.PathOf(relative));
        var rng = new Random(seed);
        var budget = Stopwatch.StartNew();
        int rejected = 0, survived = 0;
        for (int i = 0; i < copies && budget.Elapsed < TimeSpan.FromSeconds(20); i++)
        {
            var bytes = Mutate(original, rng);
            bool verify = rng.Next(2) == 0;
            try
            {
                using var stream = new MemoryStream(bytes, writable: false);
                await using var file = await GwfFile.OpenAsync(stream, $"fuzz#{i}", new GwfReadOptions { VerifyChecksums = verify });
                foreach (var name in file.ChannelNames.Take(4))
                {
                    try
                    {
                        if (file.Frames.Count > 0) await file.ReadFrameAsync(name, 0);
                        await file.ReadAsync(name);
                    }
                    catch (GwfFormatException) { rejected++; }
                }
                if (i % 10 == 0) await file.VerifyAsync();
                survived++;
            }
            catch (GwfFormatException e)
            {
                Assert.StartsWith($"fuzz#{i}", e.Message);
                rejected++;
            }
            catch (Exception e)
            {
                Assert.Fail($"copy {i} of {relative} (seed {seed}) raised {e.GetType().Name}: {e.Message}\n{e.StackTrace}");
            }
        }
        Assert.True(rejected > 0 && survived > 0, $"rejected {rejected}, survived {survived}");
    }

    private static byte[] Mutate(byte[] original, Random rng)
    {
        var bytes = (byte[])original.Clone();
        int kind = rng.Next(6);
        switch (kind)
        {
            case 0: // truncate
                return bytes[..rng.Next(bytes.Length)];
            case 1: // a few random bytes anywhere
                for (int k = rng.Next(1, 8); k > 0; k--) bytes[rng.Next(bytes.Length)] = (byte)rng.Next(256);
                break;
            case 2: // structure headers, dictionary and FrameH live near the start
                for (int k = rng.Next(1, 4); k > 0; k--) bytes[40 + rng.Next(Math.Min(4000, bytes.Length - 40))] ^= (byte)(1 << rng.Next(8));
                break;
            case 3: // the FrTOC and FrEndOfFile live near the end
                for (int k = rng.Next(1, 4); k > 0; k--) bytes[bytes.Length - 1 - rng.Next(Math.Min(4000, bytes.Length))] ^= (byte)(1 << rng.Next(8));
                break;
            case 4: // extreme integers over an aligned word
            {
                int at = rng.Next(bytes.Length - 8);
                ulong v = rng.Next(4) switch { 0 => ulong.MaxValue, 1 => 0, 2 => 0x7FFFFFFF, _ => (ulong)rng.NextInt64() };
                BitConverter.TryWriteBytes(bytes.AsSpan(at, 8), v);
                break;
            }
            default: // delete a slice (shifts everything after it)
            {
                int at = rng.Next(bytes.Length - 64), n = rng.Next(1, 64);
                return [.. bytes[..at], .. bytes[(at + n)..]];
            }
        }
        return bytes;
    }
}
