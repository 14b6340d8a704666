using GwReprocess.Storage;

namespace GwReprocess.Tests.Storage;

public sealed class BucketUriTests
{
    [Theory]
    [InlineData("s3://frames/O3/H1/", BucketScheme.S3, "frames", "O3/H1/", "s3://frames/O3/H1/")]
    [InlineData("s3://frames", BucketScheme.S3, "frames", "", "s3://frames/")]
    [InlineData("gs://ligo_o3.frames/H-H1_HOFT_C00-1238166018-4096.gwf", BucketScheme.Gs, "ligo_o3.frames", "H-H1_HOFT_C00-1238166018-4096.gwf", "gs://ligo_o3.frames/H-H1_HOFT_C00-1238166018-4096.gwf")]
    [InlineData("file:///data/frames/", BucketScheme.File, "", "data/frames/", "file:///data/frames/")]
    [InlineData("file://localhost/data/a%20b.gwf", BucketScheme.File, "", "data/a b.gwf", "file:///data/a b.gwf")]
    [InlineData("/data/./frames/../frames/x.gwf", BucketScheme.File, "", "data/frames/x.gwf", "file:///data/frames/x.gwf")]
    public void ParsesSchemesBucketsAndKeys(string text, BucketScheme scheme, string bucket, string key, string canonical)
    {
        var uri = BucketUri.Parse(text);
        Assert.Equal((scheme, bucket, key), (uri.Scheme, uri.Bucket, uri.Key));
        Assert.Equal(canonical, uri.ToString());
        Assert.Equal(uri, BucketUri.Parse(uri.ToString().Replace(" ", "%20")));
    }

    [Fact]
    public void RelativePathsBecomeAbsoluteAndKeepATrailingSlash()
    {
        var uri = BucketUri.Parse("some/dir/");
        Assert.Equal(Path.GetFullPath("some/dir") + "/", uri.LocalPath);
        Assert.True(uri.IsPrefix);
        Assert.Equal("x.gwf", BucketUri.Parse("some/dir/x.gwf").Name);
    }

    [Fact]
    public void AppendJoinsWithOneSlash()
    {
        Assert.Equal("s3://b-1/a/b/c.gwf", BucketUri.Parse("s3://b-1/a/b").Append("c.gwf").ToString());
        Assert.Equal("s3://b-1/a/b/c.gwf", BucketUri.Parse("s3://b-1/a/b/").Append("/c.gwf").ToString());
        Assert.Equal("s3://b-1/c.gwf", BucketUri.Parse("s3://b-1").Append("c.gwf").ToString());
    }

    [Theory]
    [InlineData("", "empty location")]
    [InlineData("osdf:///igwn/frames", "unsupported scheme 'osdf://'")]
    [InlineData("s3://ab/x", "must be 3 to 63 characters")]
    [InlineData("s3://Frames/x", "may contain only lowercase")]
    [InlineData("s3://-frames/x", "must start and end")]
    [InlineData("s3://fr_ames/x", "may contain only lowercase")]
    [InlineData("gs:bucket/x", "malformed URI")]
    [InlineData("file://otherhost/data", "names host 'otherhost'")]
    public void RejectsMalformedLocationsNamingThem(string text, string reason)
    {
        var e = Assert.Throws<BadInputException>(() => BucketUri.Parse(text));
        Assert.Contains(reason, e.Message);
        Assert.StartsWith($"'{text}'", e.Message);
    }

    [Fact]
    public void ChecksumVerificationRejectsCorruptedBytes()
    {
        var good = "H1 strain"u8.ToArray();
        var expected = ObjectChecksum.Md5(System.Security.Cryptography.MD5.HashData(good));
        using (var ok = new ChecksumVerifyingStream(new MemoryStream(good), expected, "s3://b-1/k"))
            ok.CopyTo(Stream.Null);
        var bad = (byte[])good.Clone();
        bad[3] ^= 1;
        using var corrupted = new ChecksumVerifyingStream(new MemoryStream(bad), expected, "s3://b-1/k");
        var e = Assert.Throws<BucketChecksumMismatchException>(() => corrupted.CopyTo(Stream.Null));
        Assert.Contains("s3://b-1/k: checksum mismatch after 9 bytes", e.Message);
    }
}
