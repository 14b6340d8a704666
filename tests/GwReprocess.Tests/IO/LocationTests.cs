using GwReprocess.Data;
using GwReprocess.Frames;
using GwReprocess.Inference;
using GwReprocess.IO;
using GwReprocess.Storage;
using GwReprocess.Time;

namespace GwReprocess.Tests.IO;

public sealed class LocationTests
{
    [Theory]
    // text, scheme, is URL, is local, local path (null: remote)
    [InlineData("frames/H-H1-1-1.gwf", "", false, true, "frames/H-H1-1-1.gwf")]
    [InlineData("/data/frames/", "", false, true, "/data/frames/")]
    [InlineData("file:///data/a%20b.gwf", "file", true, true, "/data/a b.gwf")]
    [InlineData("file://localhost/data/x.gwf", "file", true, true, "/data/x.gwf")]
    [InlineData("FILE://LocalHost/data/x.gwf", "file", true, true, "/data/x.gwf")]
    [InlineData("file://otherhost/data/x.gwf", "file", true, false, null)]
    [InlineData("s3://frames/O3/H1/", "s3", true, false, null)]
    [InlineData("S3://frames", "s3", true, false, null)]
    [InlineData("gs://ligo_o3.frames/H-H1_HOFT_C00-1238166018-4096.gwf", "gs", true, false, null)]
    public void ParsesPathsAndUrls(string text, string scheme, bool isUrl, bool isLocal, string? localPath)
    {
        var location = Location.Parse(text);
        Assert.Equal((scheme, isUrl, isLocal, localPath), (location.Scheme, location.IsUrl, location.IsLocal, location.LocalPath));
        Assert.Equal(text, location.ToString());
        Assert.Equal(location, Location.Parse(location.ToString()));
    }

    [Fact]
    public void SplitsAUrlIntoAuthorityAndPath()
    {
        var s3 = Location.Parse("s3://frames/O3/H1/x.gwf");
        Assert.Equal(("frames", "O3/H1/x.gwf"), (s3.Authority, s3.UrlPath));
        Assert.Equal(("frames", ""), (Location.Parse("gs://frames").Authority, Location.Parse("gs://frames").UrlPath));
        Assert.Equal("", Location.Parse("file:///data/x").Authority);
        Assert.Equal(("", ""), (Location.Parse("data/x").Authority, Location.Parse("data/x").UrlPath));
    }

    [Fact]
    public void ResolvesOnlyRelativePathsAgainstTheBaseDirectory()
    {
        Assert.Equal("/run/outputs/", Location.Parse("outputs/").Resolve("/run").ToString());
        Assert.Equal("/run/../data/x", Location.Parse("../data/x").Resolve("/run").ToString()); // joined, not normalised
        foreach (string unchanged in (string[])["/abs/outputs", "file:///abs/outputs", "file://localhost/abs", "s3://frames/O3/", "gs://frames/x"])
            Assert.Equal(unchanged, Location.Parse(unchanged).Resolve("/run").ToString());
        Assert.True(Location.Parse("/abs").IsRooted);
        Assert.False(Location.Parse("rel").IsRooted);
    }

    [Fact]
    public void EqualityIsTextualSoACacheKeepsItsSpelling()
    {
        Assert.Equal(Location.Parse("s3://frames/x"), Location.Parse("s3://frames/x"));
        // Three spellings of one file: different locations, one local path.
        var spellings = new[] { Location.Parse("/data/x.gwf"), Location.Parse("file:///data/x.gwf"), Location.Parse("file://localhost/data/x.gwf") };
        Assert.Equal(3, spellings.Distinct().Count());
        Assert.Single(spellings.Select(l => l.LocalPath).Distinct());
        Assert.NotEqual(Location.Parse("s3://frames/x"), Location.Parse("s3://frames/x/"));
    }

    [Theory]
    [InlineData("", "empty location")]
    [InlineData("   ", "empty location")]
    [InlineData("data/\tx", "control character")]
    [InlineData("s3://", "no bucket name")]
    [InlineData("s3:///key-without-bucket", "no bucket name")]
    [InlineData("gs://", "no bucket name")]
    [InlineData("osdf:///igwn/frames", "unsupported scheme 'osdf://' (use file://, s3:// or gs://)")]
    [InlineData("http://example.org/frames/", "unsupported scheme 'http://'")]
    [InlineData("s3:frames/x", "malformed URI (expected s3://...)")]
    [InlineData("file:/data/x", "malformed URI (expected file://...)")]
    [InlineData("file://", "file URI has no path")]
    [InlineData("file://localhost", "file URI has no path")]
    [InlineData("file://frames", "file URI names host 'frames'")]
    public void RejectsBadInputNamingTheLocation(string text, string reason)
    {
        var e = Assert.Throws<BadInputException>(() => Location.Parse(text));
        Assert.StartsWith($"'{text}': ", e.Message);
        Assert.Contains(reason, e.Message);
        Assert.False(Location.TryParse(text, out _, out string? why));
        Assert.Contains(reason, why);
        Assert.Null(Location.LocalPathOf(text));
    }

    [Fact]
    public void LocalPathOfReadsLalCacheUrlsWithoutThrowing()
    {
        Assert.Equal("/data/a b.gwf", Location.LocalPathOf("file://localhost/data/a%20b.gwf"));
        Assert.Equal("rel/x.gwf", Location.LocalPathOf("rel/x.gwf"));
        Assert.Null(Location.LocalPathOf("osdf:///igwn/x.gwf"));
        Assert.Null(Location.LocalPathOf("gs://frames/x.gwf"));
        Assert.Null(Location.LocalPathOf(null));
    }

    [Fact]
    public void CacheWriterKeepsItsLalSpelling()
    {
        // What FrameCache.FromFiles wrote before Location existed: file://localhost + the full path for paths, URLs verbatim.
        var cache = FrameCache.FromFiles(["/archive/L-L1_HOFT_C00-1238166018-4096.gwf", "rel/H-H1_HOFT_C00-1238178306-4096.gwf",
            "gs://frames/H-H1_HOFT_C00-1238170114-4096.gwf", "file:///archive/H-H1_HOFT_C00-1238174210-4096.gwf"]);
        Assert.Equal(
            "L L1_HOFT_C00 1238166018 4096 file://localhost/archive/L-L1_HOFT_C00-1238166018-4096.gwf\n"
            + "H H1_HOFT_C00 1238170114 4096 gs://frames/H-H1_HOFT_C00-1238170114-4096.gwf\n"
            + "H H1_HOFT_C00 1238174210 4096 file:///archive/H-H1_HOFT_C00-1238174210-4096.gwf\n"
            + "H H1_HOFT_C00 1238178306 4096 file://localhost" + Path.GetFullPath("rel/H-H1_HOFT_C00-1238178306-4096.gwf") + "\n",
            cache.Format());
    }

    [Theory]
    [InlineData("file://localhost/data/x.gwf", "/data/x.gwf")]
    [InlineData("file:///data/x.gwf", "/data/x.gwf")]
    [InlineData("/data/x.gwf", "/data/x.gwf")]
    [InlineData("file://otherhost/data/x.gwf", null)]
    [InlineData("file://localhost", null)]
    [InlineData("osdf:///igwn/x.gwf", null)]
    public void CacheEntriesReadTheirLocalPathThroughLocation(string url, string? path)
    {
        Assert.Equal(path, new FrameCacheEntry("H", "H1_HOFT_C00", new Segment(0, 1), url).LocalPath);
    }

    [Theory]
    [InlineData("frames/x", BucketScheme.File)]
    [InlineData("file://localhost/frames/x", BucketScheme.File)]
    [InlineData("s3://frames/x", BucketScheme.S3)]
    [InlineData("GS://frames/x", BucketScheme.Gs)]
    public void BucketUriTakesItsSchemeFromLocation(string text, BucketScheme scheme)
    {
        Assert.Equal(scheme, BucketUri.Parse(text).Scheme);
        Assert.Equal(Location.Parse(text).IsLocal, BucketUri.Parse(text).IsLocal);
    }

    [Theory]
    [InlineData("127.0.0.1:8001", "http://127.0.0.1:8001")]
    [InlineData("localhost:8001", "http://localhost:8001")]
    [InlineData("[::1]:8001", "http://[::1]:8001")]
    [InlineData("https://server0.example.org:8001", "https://server0.example.org:8001")]
    [InlineData("http://127.0.0.1:8001", "http://127.0.0.1:8001")]
    public void AServerAddressIsNotALocation(string address, string channel)
    {
        Assert.Equal(channel, ServerAddress.ChannelAddress(address));
    }
}
