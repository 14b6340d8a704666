using System.Text.Json;
using GwReprocess.Frames.Gwf;

namespace GwReprocess.Tests.Frames;

/// <summary>Runs the built <c>gwrepro frames</c> and checks exit codes, messages and outputs.</summary>
public sealed class FramesCliTests : IDisposable
{
    private const string Gwosc = "gwosc/H-H1_LOSC_4_V2-1126259446-32.gwf";
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "frames-cli-" + Guid.NewGuid().ToString("N")[..8]);

    public FramesCliTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    internal static (int Exit, string Out, string Err) Gwrepro(params string[] args)
    {
        var r = Cli.GwreproProcess.Run(args, TimeSpan.FromSeconds(60));
        return (r.ExitCode, r.StdOut, r.StdErr);
    }

    private static void AssertBadInput((int Exit, string Out, string Err) r, params string[] mentions)
    {
        Assert.Equal(2, r.Exit);
        var lines = r.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith("gwrepro frames: ", lines[0]);
        foreach (var m in mentions) Assert.Contains(m, lines[0]);
        Assert.DoesNotContain("   at ", r.Err);
    }

    [Fact]
    public void InfoListsChannelsAsTextAndJson()
    {
        var text = Gwrepro("frames", "info", RealData.PathOf(Gwosc));
        Assert.Equal(0, text.Exit);
        Assert.Contains("GWF v8, little-endian, written by frameCPP", text.Out);
        Assert.Contains("H1:LOSC-STRAIN", text.Out);
        Assert.Contains("[1126259446, 1126259478)", text.Out);
        Assert.Contains("detector:  LHO_4k (H1)", text.Out);

        var json = Gwrepro("frames", "info", RealData.PathOf("framel/test.gwf"), "--json");
        Assert.Equal(0, json.Exit);
        using var doc = JsonDocument.Parse(json.Out);
        Assert.Equal(10, doc.RootElement.GetProperty("frames").GetArrayLength());
        var adc3 = doc.RootElement.GetProperty("channels").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "Adc3");
        Assert.Equal(200, adc3.GetProperty("sample_rate").GetDouble());
        Assert.Equal("int16", adc3.GetProperty("type").GetString());
        Assert.Equal("zero-suppress-2", adc3.GetProperty("compression").GetString());
        Assert.Equal("Counts.", adc3.GetProperty("unit").GetString());
    }

    [Fact]
    public async Task ExportToGwfReadsBackExactlyAndVerifies()
    {
        string outPath = Path.Combine(_dir, "H-H1_EXPORT-1126259450-10.gwf");
        var r = Gwrepro("frames", "export", RealData.PathOf(Gwosc), "--channel", "H1:LOSC-STRAIN", "--start", "1126259450", "--end", "1126259460", "--out", outPath);
        Assert.True(r.Exit == 0, r.Err);
        await using (var original = await GwfFile.OpenAsync(RealData.PathOf(Gwosc)))
        await using (var copy = await GwfFile.OpenAsync(outPath))
        {
            var span = new GwReprocess.Time.Segment(1126259450, 1126259460);
            var a = await original.ReadAsync("H1:LOSC-STRAIN", span);
            var b = await copy.ReadAsync("H1:LOSC-STRAIN");
            Assert.Equal(a.T0, b.T0);
            Assert.Equal(a.Samples.ToArray(), b.Samples.ToArray());
        }
        var v = Gwrepro("frames", "verify", outPath);
        Assert.Equal(0, v.Exit);
        Assert.Contains("OK", v.Out);

        string h5 = Path.Combine(_dir, "strain.h5");
        Assert.Equal(0, Gwrepro("frames", "export", outPath, "--channel", "H1:LOSC-STRAIN", "--out", h5).Exit);
        var back = await GwReprocess.Frames.Hdf5.Hdf5TimeSeriesReader.ReadAsync(h5);
        Assert.Equal(10 * 4096, back["H1:LOSC-STRAIN"].Length);
    }

    [Fact]
    public void VerifyReportsTheKnownBrokenFile()
    {
        var r = Gwrepro("frames", "verify", RealData.PathOf("lalsuite/H-CAL_FAC-600000000-6000.gwf"));
        Assert.Equal(2, r.Exit);
        Assert.Contains("frame checksum mismatch", r.Err);
        Assert.Equal(0, Gwrepro("frames", "verify", RealData.PathOf("lalsuite/F-TEST-600000000-60.gwf")).Exit);
    }

    [Fact]
    public void TruncatedFileExitsTwo()
    {
        string path = GwfCorruptInputTests.Damaged(_dir, Gwosc, _ => { });
        File.WriteAllBytes(path, File.ReadAllBytes(path)[..500_000]);
        AssertBadInput(Gwrepro("frames", "info", path), path, "truncated");
        AssertBadInput(Gwrepro("frames", "verify", path), path);
    }

    [Fact]
    public async Task FlippedByteAndWrongChecksumExitTwo()
    {
        long payload = await GwfCorruptInputTests.StrainPayloadOffsetAsync();
        string path = GwfCorruptInputTests.Damaged(_dir, Gwosc, b => b[payload + 100] ^= 0x01);
        string outPath = Path.Combine(_dir, "never.h5");
        AssertBadInput(Gwrepro("frames", "export", path, "--channel", "H1:LOSC-STRAIN", "--out", outPath), path, "FrVect", "H1:LOSC-STRAIN", "checksum mismatch");
        AssertBadInput(Gwrepro("frames", "export", path, "--channel", "H1:LOSC-STRAIN", "--out", outPath, "--no-checksums"), path, "H1:LOSC-STRAIN", "zlib");
        Assert.False(File.Exists(outPath));
        Assert.Empty(Directory.GetFiles(_dir, ".*.tmp"));
        var verify = Gwrepro("frames", "verify", path);
        Assert.Equal(2, verify.Exit);
        Assert.Contains("checksum mismatch", verify.Err);
    }

    [Fact]
    public void MissingChannelAndSpanOutsideExitTwo()
    {
        string outPath = Path.Combine(_dir, "x.csv");
        AssertBadInput(Gwrepro("frames", "export", RealData.PathOf(Gwosc), "--channel", "H1:NOPE", "--out", outPath), "H1:NOPE", "no such channel");
        AssertBadInput(Gwrepro("frames", "export", RealData.PathOf(Gwosc), "--channel", "H1:LOSC-STRAIN", "--start", "1126259400", "--end", "1126259410", "--out", outPath), "H1:LOSC-STRAIN", "1126259400");
        AssertBadInput(Gwrepro("frames", "info", Path.Combine(_dir, "absent.gwf")), "absent.gwf", "no such file");
        Assert.False(File.Exists(outPath));
    }
}
