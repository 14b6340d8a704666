using GwReprocess.Time;

namespace GwReprocess.Tests.Time;

public class SegmentFileTests
{
    private static SegmentList L(params (long s, long e)[] segs) => new(segs.Select(p => new Segment(p.s, p.e)));

    [Fact]
    public void Reads_plain_segwizard_and_dqsegdb_json()
    {
        var plain = SegmentFile.ParseFlag("# science\n1238166018 1238170114\n\n1238180000 1238190000.5 # trailing comment\n", "plain.txt");
        Assert.Equal("[[1238166018, 1238170114), [1238180000, 1238190000.5)]", plain.Active.ToString());

        var segwizard = SegmentFile.ParseFlag("# seg start stop duration\n0 1238166018 1238170114 4096\n1\t1238180000\t1238190000\t10000\n", "s.seg");
        Assert.Equal(L((1238166018, 1238170114), (1238180000, 1238190000)), segwizard.Active);
        Assert.Equal(SegmentFileFormat.Segwizard, SegmentFile.Detect("0 1 2 1\n"));

        const string json = """
        {"ifo": "H1", "name": "DMT-ANALYSIS_READY", "version": 1,
         "known": [[1238166000, 1238200000]],
         "active": [[1238166018, 1238170114], [1238180000, 1238190000.25]],
         "query_information": {"start": 1238166000}}
        """;
        var flag = SegmentFile.ParseFlag(json, "flag.json");
        Assert.Equal("H1:DMT-ANALYSIS_READY:1", flag.Name);
        Assert.Equal("H1", flag.Ifo);
        Assert.Equal(L((1238166000, 1238200000)), flag.Known);
        Assert.Equal(GpsTime.Parse("1238190000.25"), flag.Active[1].End);
    }

    [Theory]
    [InlineData(SegmentFileFormat.Plain)]
    [InlineData(SegmentFileFormat.Segwizard)]
    [InlineData(SegmentFileFormat.Json)]
    public void Every_format_round_trips(SegmentFileFormat format)
    {
        var segs = new SegmentList([new Segment(GpsTime.Parse("1126259446.5"), GpsTime.Parse("1126259478")), new Segment(1126260000, 1126264096)]);
        var text = SegmentFile.Format(segs, format, "H1:DMT-SCIENCE:2");
        Assert.Equal(format, SegmentFile.Detect(text));
        Assert.Equal(segs, SegmentFile.ParseFlag(text, "x").Active);
    }

    [Theory]
    [InlineData("0 10\n5\n", "bad.txt:2: expected 'start end' or 'index start end duration', found 1 column(s)")]
    [InlineData("0 10\n20 x\n", "bad.txt:2: end 'x' is not a GPS time")]
    [InlineData("\n\n10 5\n", "bad.txt:3: end 5 is before start 10")]
    [InlineData("0 0 10 10\n1 20 30 11\n", "bad.txt:2: duration 11 does not equal end − start = 10")]
    [InlineData("0 10\n0 20 30 10\n", "bad.txt:2: 4 columns where earlier lines have 2")]
    [InlineData("{\"known\": []}", "bad.txt: key 'active' is missing")]
    [InlineData("{\"active\": [[1, 2], [3]]}", "bad.txt: active[1] is not a [start, end] pair")]
    [InlineData("{\"active\": [[1, 2],\n [3, \"a\"]]}", "bad.txt: active[1] holds '\"a\"', not a GPS time")]
    [InlineData("{\"active\": [[1, 2],\n", "bad.txt:2: not valid JSON")]
    public void Bad_files_name_file_and_line(string text, string expected)
    {
        var e = Assert.Throws<BadInputException>(() => SegmentFile.ParseFlag(text, "bad.txt"));
        Assert.StartsWith(expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public async Task Writes_atomically_and_reads_back()
    {
        var dir = Directory.CreateTempSubdirectory("gwrepro-seg-");
        try
        {
            var path = Path.Combine(dir.FullName, "science.json");
            var segs = L((0, 10), (20, 30));
            await SegmentFile.WriteAsync(path, segs, SegmentFile.FormatForPath(path));
            Assert.Equal(segs, SegmentFile.Read(path));
            Assert.Single(Directory.GetFiles(dir.FullName)); // no temporary left behind
        }
        finally { dir.Delete(true); }
    }

    [Fact]
    public void A_missing_file_is_bad_input()
    {
        var e = Assert.Throws<BadInputException>(() => SegmentFile.Read("/nonexistent/segs.txt"));
        Assert.Equal("/nonexistent/segs.txt: no such segment file", e.Message);
    }
}
