using GwReprocess.Frames;
using GwReprocess.Storage;

namespace GwReprocess.Tests.Frames;

/// <summary>Frame files read from a bucket: fetched whole, fetched again when the transfer breaks, errors naming the object.</summary>
public sealed class BucketFrameOpenerTests
{
    private static readonly string Frame = RealData.PathOf("gwosc/H-H1_LOSC_4_V2-1126259446-32.gwf");

    /// <summary>A bucket serving one local file under every key, whose first <paramref name="broken"/> transfers end in an I/O error halfway.</summary>
    private sealed class FlakyBucket(int broken) : IBucket
    {
        public int Opens { get; private set; }

        public BucketUri Root { get; } = BucketUri.Parse("s3://frames/");

        public Task<Stream> OpenReadAsync(string key, ByteRange? range = null, CancellationToken cancellationToken = default)
        {
            Opens++;
            Stream file = File.OpenRead(Frame);
            return Task.FromResult(Opens <= broken ? new Breaking(file, file.Length / 2) : file);
        }

        public Task<BucketListPage> ListPageAsync(string prefix, string? continuationToken = null, int pageSize = 1000, CancellationToken cancellationToken = default) => throw new NotSupportedException();
        public Task<BucketObject?> StatAsync(string key, CancellationToken cancellationToken = default) => throw new NotSupportedException();
        public Task<BucketObject> WriteAsync(string key, Stream content, CancellationToken cancellationToken = default) => throw new NotSupportedException();
        public Task<bool> PutIfAbsentAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default) => throw new NotSupportedException();
        public Task DeleteAsync(string key, CancellationToken cancellationToken = default) => throw new NotSupportedException();
        public void Dispose() { }
    }

    /// <summary>Reads like the inner stream up to <c>limit</c> bytes, then fails as a reset connection does.</summary>
    private sealed class Breaking(Stream inner, long limit) : Stream
    {
        private long _read;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_read >= limit) throw new IOException("connection reset by peer");
            int n = inner.Read(buffer, offset, (int)Math.Min(count, limit - _read));
            _read += n;
            return n;
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        protected override void Dispose(bool disposing) { if (disposing) inner.Dispose(); base.Dispose(disposing); }
    }

    [Fact]
    public async Task A_transfer_cut_short_is_fetched_again_and_the_frame_reads_as_the_file_does()
    {
        var bucket = new FlakyBucket(broken: 2);
        using var opener = new BucketFrameOpener(_ => bucket);
        var location = "s3://frames/O1/H-H1_LOSC_4_V2-1126259446-32.gwf";
        var source = new FrameSource(new FrameCache([new FrameCacheEntry("H", "H1_LOSC_4_V2", new(1126259446, 1126259478), location)]), opener.SourceOptions());
        var remote = await source.ReadAsync(["H1:LOSC-STRAIN"], new(1126259450, 1126259460));
        var local = await (await FrameSource.FromFilesAsync([Frame])).ReadAsync(["H1:LOSC-STRAIN"], new(1126259450, 1126259460));
        Assert.Equal(3, bucket.Opens);
        Assert.Equal(local.Channels[0].Samples.ToArray(), remote.Channels[0].Samples.ToArray());
    }

    [Fact]
    public async Task A_transfer_that_keeps_breaking_fails_naming_the_object()
    {
        using var opener = new BucketFrameOpener(_ => new FlakyBucket(broken: 10)) { Attempts = 3 };
        var e = await Assert.ThrowsAsync<IOException>(() => opener.OpenAsync("s3://frames/O1/H-H1_LOSC_4_V2-1126259446-32.gwf", CancellationToken.None));
        Assert.Equal("s3://frames/O1/H-H1_LOSC_4_V2-1126259446-32.gwf: frame file not fetched whole after 3 attempts: connection reset by peer", e.Message);
    }
}
