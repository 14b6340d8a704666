using GwReprocess.Data;
using GwReprocess.Frames;
using GwReprocess.Time;

namespace GwReprocess.Tests.Frames;

public class FrameCacheTests
{
    private const string Cache = """
        H H1_HOFT_C00 1238170114 4096 file://localhost/data/H-H1_HOFT_C00-1238170114-4096.gwf
        # a comment
        H H1_HOFT_C00 1238166018 4096 file://localhost/data/H-H1_HOFT_C00-1238166018-4096.gwf
        H H1_HOFT_C00 1238178306 4096 /data/H-H1_HOFT_C00-1238178306-4096.gwf
        H H1_HOFT_C00 1238182402 4096 gs://bucket/frames/H-H1_HOFT_C00-1238182402-4096.gwf
        """;

    [Fact]
    public void Selects_the_files_covering_a_span_in_time_order()
    {
        var cache = FrameCache.Parse(Cache, "h1.lcf");
        var picked = cache.Select(new Segment(1238170000, 1238170200));
        Assert.Equal(new string?[] { "/data/H-H1_HOFT_C00-1238166018-4096.gwf", "/data/H-H1_HOFT_C00-1238170114-4096.gwf" },
            picked.Select(e => e.LocalPath).ToArray());
        // Half-open: a span starting where a file ends does not need that file.
        Assert.Single(cache.Select(new Segment(1238170114, 1238170115)));
        Assert.Null(cache.Entries[^1].LocalPath);
        Assert.Equal("/data/H-H1_HOFT_C00-1238178306-4096.gwf", cache.Entries[2].LocalPath);
    }

    [Fact]
    public void Reports_gaps()
    {
        var cache = FrameCache.Parse(Cache, "h1.lcf");
        var gaps = cache.Gaps(new Segment(1238160000, 1238190000));
        Assert.Equal("[[1238160000, 1238166018), [1238174210, 1238178306), [1238186498, 1238190000)]", gaps.ToString());
    }

    [Fact]
    public void Round_trips_and_builds_from_file_names()
    {
        var cache = FrameCache.Parse(Cache, "h1.lcf");
        Assert.Equal(cache.Format(), FrameCache.Parse(cache.Format(), "again").Format());
        var fromNames = FrameCache.FromFiles(["/archive/L-L1_HOFT_C00-1238166018-4096.gwf"]);
        Assert.Equal("L L1_HOFT_C00 1238166018 4096 file://localhost/archive/L-L1_HOFT_C00-1238166018-4096.gwf\n", fromNames.Format());
    }

    [Fact]
    public void A_read_cache_takes_relative_paths_from_its_own_directory()
    {
        string dir = Directory.CreateTempSubdirectory("gwrepro-cache-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(dir, "caches"));
            string path = Path.Combine(dir, "caches", "gw.lcf");
            File.WriteAllText(path, "H H1_LOSC_4_V2 1126259446 32 ../gwosc/H-H1_LOSC_4_V2-1126259446-32.gwf\n" +
                                    "L L1_LOSC_4_V2 1126259446 32 file://localhost/abs/L-L1_LOSC_4_V2-1126259446-32.gwf\n");
            var cache = FrameCache.Read(path);
            Assert.Equal(Path.Combine(dir, "gwosc", "H-H1_LOSC_4_V2-1126259446-32.gwf"), cache.Entries[0].LocalPath);
            Assert.Equal("/abs/L-L1_LOSC_4_V2-1126259446-32.gwf", cache.Entries[1].LocalPath);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Theory]
    [InlineData("H H1_HOFT_C00 1238166018 4096\n", "c.lcf:1: expected 'OBS TYPE GPSSTART DURATION URL', found 4 column(s)")]
    [InlineData("\nH H1 x 4096 /a.gwf\n", "c.lcf:2: GPS start 'x' is not a number")]
    [InlineData("H H1 1 -4 /a.gwf\n", "c.lcf:1: duration '-4' is not a positive number")]
    public void Bad_lines_name_file_and_line(string text, string expected)
    {
        var e = Assert.Throws<BadInputException>(() => FrameCache.Parse(text, "c.lcf"));
        Assert.Equal(expected, e.Message);
    }

    [Theory]
    [InlineData("H-H1_HOFT_C00-1238166018-4096.gwf", "H", "H1_HOFT_C00", 1238166018L, 4096L)]
    [InlineData("s3://b/p/H-H1_LOSC_4_V2-1126259446-32.hdf5", "H", "H1_LOSC_4_V2", 1126259446L, 32L)]
    [InlineData("HLV-HW100916-968654552-1.gwf", "HLV", "HW100916", 968654552L, 1L)]
    public void Parses_igwn_file_names(string name, string obs, string type, long start, long duration)
    {
        var f = FrameFileName.TryParse(name)!;
        Assert.Equal((obs, type, start, duration), (f.Observatory, f.FrameType, f.Start.Seconds, (long)f.Duration.TotalSeconds));
        Assert.EndsWith(f.ToString(), name);
    }

    [Theory]
    [InlineData("notes.txt")]
    [InlineData("H-H1-abc-4096.gwf")]
    [InlineData("H-H1_HOFT-1238166018-0.gwf")]
    public void Rejects_other_names(string name) => Assert.Null(FrameFileName.TryParse(name));
}
