using GwReprocess.Time;

namespace GwReprocess.Tests.Cli;

public sealed class SegmentsVerbTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("gwrepro-cli-");

    private string Write(string name, string text)
    {
        var path = Path.Combine(_dir.FullName, name);
        File.WriteAllText(path, text);
        return path;
    }

    public void Dispose() => _dir.Delete(true);

    [Fact]
    public async Task Combine_intersects_files_of_different_formats()
    {
        var a = Write("h1.txt", "0 100\n200 300\n");
        var b = Write("l1.json", """{"ifo":"L1","name":"X","known":[[0,400]],"active":[[50,250]]}""");
        var r = await GwreproProcess.RunAsync("segments", "combine", a, b, "--op", "intersect");
        Assert.Equal(0, r.ExitCode);
        Assert.Equal("50 100\n200 250\n", r.StdOut);

        r = await GwreproProcess.RunAsync("segments", "combine", a, b, "--op", "subtract");
        Assert.Equal("0 50\n250 300\n", r.StdOut);
    }

    [Fact]
    public async Task Chunk_writes_a_segment_file()
    {
        var s = Write("science.txt", $"1000 {1000 + 8 + 4096 + 100 + 8}\n");
        var outPath = Path.Combine(_dir.FullName, "jobs.seg");
        var r = await GwreproProcess.RunAsync("segments", "chunk", s, "--length", "4096", "--min", "300", "--pad", "8", "--out", outPath);
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("1 chunk(s), 4196 s of data owned", r.StdErr);
        Assert.Equal(new SegmentList([new Segment(1008, 1008 + 4196)]), SegmentFile.Read(outPath));
        Assert.Equal(SegmentFileFormat.Segwizard, SegmentFile.Detect(File.ReadAllText(outPath)));

        r = await GwreproProcess.RunAsync("segments", "chunk", s, "--length", "4096", "--min", "300", "--pad", "8", "--padded");
        Assert.Equal($"1000 {1000 + 8 + 4096 + 100 + 8}\n", r.StdOut);
    }

    [Fact]
    public async Task A_bad_file_exits_2_naming_file_and_line()
    {
        var bad = Write("bad.txt", "0 10\n20 oops\n");
        var r = await GwreproProcess.RunAsync("segments", "info", bad);
        Assert.Equal(2, r.ExitCode);
        Assert.Equal($"gwrepro segments: {bad}:2: end 'oops' is not a GPS time\n", r.StdErr);
        Assert.DoesNotContain("   at ", r.StdErr); // no stack trace without --verbose
    }

    [Fact]
    public async Task Usage_errors_exit_2_and_help_exits_0()
    {
        var s = Write("s.txt", "0 10\n");
        var r = await GwreproProcess.RunAsync("segments", "chunk", s);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("Required option 'length' is missing", r.StdErr);

        r = await GwreproProcess.RunAsync("segments", "chunk", s, "--length", "-5");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--length '-5'", r.StdErr);

        r = await GwreproProcess.RunAsync("segments", "chunk", "--help");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("--pad", r.StdOut);

        r = await GwreproProcess.RunAsync("--help");
        Assert.Equal(0, r.ExitCode);
        foreach (var verb in new[] { "run", "dag", "client", "serve", "analyze", "simulate", "models", "frames", "segments" })
            Assert.Contains($"  {verb} ", r.StdOut);

        r = await GwreproProcess.RunAsync("frobnicate");
        Assert.Equal(2, r.ExitCode);
    }
}

public sealed class SegmentsCoverageTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("gwrepro-cov-");

    public void Dispose() => _dir.Delete(true);

    [Fact]
    public async Task Coverage_and_gaps_of_a_cache()
    {
        var cache = Path.Combine(_dir.FullName, "h1.lcf");
        File.WriteAllText(cache, "H H1_HOFT_C00 1000 100 /d/H-H1_HOFT_C00-1000-100.gwf\nH H1_HOFT_C00 1100 100 /d/H-H1_HOFT_C00-1100-100.gwf\nH H1_HOFT_C00 1300 100 /d/H-H1_HOFT_C00-1300-100.gwf\n");
        var r = await GwreproProcess.RunAsync("segments", "coverage", cache);
        Assert.Equal(0, r.ExitCode);
        Assert.Equal("1000 1200\n1300 1400\n", r.StdOut);
        r = await GwreproProcess.RunAsync("segments", "coverage", cache, "--gaps", "--start", "900", "--end", "1350");
        Assert.Equal("900 1000\n1200 1300\n", r.StdOut);
        Assert.Contains("250 s covered, 200 s missing", r.StdErr);
    }

    [Fact]
    public async Task A_bad_cache_line_exits_2_naming_file_and_line()
    {
        var cache = Path.Combine(_dir.FullName, "bad.lcf");
        File.WriteAllText(cache, "H H1_HOFT_C00 1000 100 /d/a.gwf\nH H1_HOFT_C00 1100 /d/b.gwf\n");
        var r = await GwreproProcess.RunAsync("segments", "coverage", cache);
        Assert.Equal(2, r.ExitCode);
        Assert.Equal($"gwrepro segments: {cache}:2: expected 'OBS TYPE GPSSTART DURATION URL', found 4 column(s)\n", r.StdErr);
    }
}
