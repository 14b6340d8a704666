using System.Buffers.Binary;
using System.Globalization;
using GwReprocess.Frames.Gwf;
using GwReprocess.Time;

namespace GwReprocess.Tests.Frames;

/// <summary>A bad checksum in a structure the data does not depend on (dictionary, history) is a warning, or an error with --strict; in data it is always an error.</summary>
public sealed class GwfChecksumWarningTests : IDisposable
{
    private const string Channel = "H1:TEST-STRAIN";
    private static readonly GpsTime Start = GpsTime.FromSeconds(1_000_000_000);
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "gwf-warn-" + Guid.NewGuid().ToString("N")[..8]);

    public GwfChecksumWarningTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static double[] Samples() => Enumerable.Range(0, 256 * 4).Select(i => Math.Sin(i * 0.01) + i * 1e-3).ToArray();

    /// <summary>A v8 file written by GwfWriter with a FrHistory, and the offset of the first structure of <paramref name="structure"/> in it.</summary>
    private async Task<(string Path, long Offset)> DamagedAsync(string structure)
    {
        string path = Path.Combine(_dir, $"H-H1_TEST-{Start.Seconds}-4.gwf");
        var frame = new GwfFrameData(Start, GpsDuration.FromSeconds(4), [new GwfChannelData(Channel, GwfChannelKind.Proc, 256, Samples())])
        {
            History = [new GwfHistory("GwReprocess", 1_000_000_000, "written for a checksum test")],
        };
        await GwfWriter.WriteFileAsync(path, [frame]);
        return (path, await DamageFirstAsync(path, structure));
    }

    /// <summary>Flips one byte in the body of the first <paramref name="structure"/> of a little-endian v8 file; returns the structure's offset.</summary>
    internal static async Task<long> DamageFirstAsync(string path, string structure)
    {
        var bytes = await File.ReadAllBytesAsync(path);
        long offset = 40;
        await using (var file = await GwfFile.OpenAsync(path))
        {
            while (true)
            {
                long length = (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan((int)offset));
                string cls = bytes[offset + 9] switch { 1 => "FrSH", 2 => "FrSE", var id => file.ClassNames.GetValueOrDefault(id, "?") };
                if (cls == structure)
                {
                    // A byte in the middle of the structure's body: its CRC fails, every length and pointer stays intact.
                    int at = (int)(offset + 14 + (length - 14 - 4) / 2);
                    bytes[at] ^= 0x20;
                    break;
                }
                offset += length;
            }
        }
        await File.WriteAllBytesAsync(path, bytes);
        return offset;
    }

    [Theory]
    [InlineData("FrSE")]
    [InlineData("FrSH")]
    [InlineData("FrHistory")]
    public async Task The_reader_warns_once_and_reads_the_data_or_fails_when_strict(string structure)
    {
        var (path, offset) = await DamagedAsync(structure);
        var seen = new List<GwfChecksumWarning>();
        await using (var file = await GwfFile.OpenAsync(path, new GwfReadOptions { Warning = seen.Add }))
        {
            Assert.Equal(Samples(), (await file.ReadAsync(Channel)).Samples.ToArray());
            await file.GetFrameDetailsAsync(0);
            var w = Assert.Single(seen);
            Assert.Equal(new GwfChecksumWarning(path, structure, offset, w.Stored, w.Computed), w);
            Assert.NotEqual(w.Stored, w.Computed);
            Assert.Equal([w], file.ChecksumWarnings);
            Assert.StartsWith($"{path}: {structure} at byte {offset}: checksum mismatch (stored 0x", w.ToString());
        }
        var e = await Assert.ThrowsAsync<GwfFormatException>(() => GwfFile.OpenAsync(path, new GwfReadOptions { Strict = true }));
        Assert.Equal(structure, e.Structure);
        Assert.Equal(offset, e.Offset);
        Assert.Contains("checksum mismatch", e.Message);
    }

    [Theory]
    [InlineData("FrSE")]
    [InlineData("FrHistory")]
    public async Task A_file_without_a_table_of_contents_is_checked_by_its_scan(string structure)
    {
        // Without a TOC the reader indexes the file by scanning every structure header, and checks these on the way. (Not FrSH:
        // the scan needs the class names it defines, and the byte this test flips in the first one renames a class.)
        var (path, offset) = await DamagedAsync(structure);
        await WithoutTocAsync(path);
        var seen = new List<GwfChecksumWarning>();
        await using (var file = await GwfFile.OpenAsync(path, new GwfReadOptions { Warning = seen.Add }))
        {
            Assert.False(file.HasTableOfContents);
            Assert.Equal(Samples(), (await file.ReadAsync(Channel)).Samples.ToArray());
            var w = Assert.Single(seen);
            Assert.Equal((path, structure, offset), (w.File, w.Structure, w.Offset));
        }
        var e = await Assert.ThrowsAsync<GwfFormatException>(() => GwfFile.OpenAsync(path, new GwfReadOptions { Strict = true }));
        Assert.Equal((structure, offset), (e.Structure, e.Offset));
    }

    /// <summary>Zeroes the FrEndOfFile's seekTOC of a little-endian v8 file (and renews that structure's checksum), so readers scan it.</summary>
    private static async Task WithoutTocAsync(string path)
    {
        var bytes = await File.ReadAllBytesAsync(path);
        int eof = bytes.Length - 46;
        // FrEndOfFile v8: common header (14), nFrames (4), nBytes (8), seekTOC (8), chkSumFrHeader (4), chkSum (4), chkSumFile (4).
        bytes.AsSpan(eof + 26, 8).Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(eof + 42), 0); // no file checksum once a byte has changed
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(eof + 38), GwfChecksum.Compute(bytes.AsSpan(eof, 38)));
        await File.WriteAllBytesAsync(path, bytes);
    }

    [Fact]
    public async Task Frames_export_prints_one_warning_line_and_writes_the_data_and_strict_exits_2()
    {
        var (path, offset) = await DamagedAsync("FrSE");
        string csv = Path.Combine(_dir, "out.csv");
        var r = FramesCliTests.Gwrepro("frames", "export", path, "--channel", Channel, "--out", csv);
        Assert.True(r.Exit == 0, r.Err);
        var line = Assert.Single(r.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.StartsWith("gwrepro frames:", StringComparison.Ordinal));
        Assert.Matches($@"^gwrepro frames: warning: {System.Text.RegularExpressions.Regex.Escape(path)}: FrSE at byte {offset}: checksum mismatch \(stored 0x[0-9A-F]{{8}}, computed 0x[0-9A-F]{{8}}\); the data does not depend on it and was read$", line);
        var values = File.ReadLines(csv).Skip(1).Select(l => double.Parse(l.Split(',')[1], CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(Samples(), values);

        File.Delete(csv);
        var strict = FramesCliTests.Gwrepro("frames", "export", path, "--channel", Channel, "--out", csv, "--strict");
        Assert.Equal(2, strict.Exit);
        var error = Assert.Single(strict.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Matches($@"^gwrepro frames: {System.Text.RegularExpressions.Regex.Escape(path)}: FrSE at byte {offset}: checksum mismatch \(stored 0x[0-9A-F]{{8}}, computed 0x[0-9A-F]{{8}}\); the file is corrupt$", error);
        Assert.False(File.Exists(csv));

        var info = FramesCliTests.Gwrepro("frames", "info", path, "--strict");
        Assert.Equal(2, info.Exit);
        Assert.Equal(error, Assert.Single(info.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
    }

    [Fact]
    public async Task A_bad_checksum_in_a_data_vector_stays_an_error_with_or_without_strict()
    {
        var (path, offset) = await DamagedAsync("FrVect");
        string csv = Path.Combine(_dir, "out.csv");
        foreach (var args in new[] { Array.Empty<string>(), ["--strict"] })
        {
            var r = FramesCliTests.Gwrepro(["frames", "export", path, "--channel", Channel, "--out", csv, .. args]);
            Assert.Equal(2, r.Exit);
            var line = Assert.Single(r.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.StartsWith($"gwrepro frames: {path}: FrVect at byte {offset}, channel {Channel}: checksum mismatch", line);
            Assert.False(File.Exists(csv));
        }
    }
}
