using System.Security.Cryptography;
using System.Text;
using GwReprocess.Frames;
using GwReprocess.IO;
using GwReprocess.Storage;
using GwReprocess.Time;

namespace GwReprocess.Tests.Storage;

/// <summary>One behavioural suite every <see cref="IBucket"/> must pass; concrete classes run it against a directory and against a real S3 server.</summary>
public abstract class BucketBehaviourTests : IDisposable
{
    private IBucket? _bucket;

    /// <summary>A prefix no other test uses, so tests share one bucket without seeing each other.</summary>
    protected string Prefix { get; } = $"t-{Guid.NewGuid():N}/";

    /// <summary>Opens the bucket under test (skips the test when its store is unavailable).</summary>
    protected abstract IBucket OpenBucket();

    protected IBucket Bucket => _bucket ??= OpenBucket();

    /// <summary>What a write in progress or an abandoned one left behind under the prefix (temporary files, open multipart uploads).</summary>
    protected abstract Task<IReadOnlyList<string>> LeftoversAsync(string prefix);

    public virtual void Dispose()
    {
        _bucket?.Dispose();
        GC.SuppressFinalize(this);
    }

    private static byte[] Deterministic(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    private static async Task<byte[]> HashOfStreamAsync(Stream s)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 20];
        int n;
        while ((n = await s.ReadAsync(buffer)) > 0) sha.AppendData(buffer, 0, n);
        return sha.GetHashAndReset();
    }

    [SkippableTheory]
    [InlineData(0)]
    [InlineData(1)]
    public async Task SmallObjectRoundTripsExactly(int length)
    {
        var data = Deterministic(length, 7);
        string key = Prefix + $"small-{length}.bin";
        var written = await Bucket.WriteAllBytesAsync(key, data);
        Assert.Equal(length, written.Size);
        Assert.Equal(data, await Bucket.ReadAllBytesAsync(key));
        var stat = await Bucket.StatAsync(key);
        Assert.NotNull(stat);
        Assert.Equal(length, stat.Size);
        var listed = Assert.Single(await ListAll(Prefix));
        Assert.Equal((key, (long)length), (listed.Key, listed.Size));
    }

    [SkippableFact]
    public async Task HundredMegabyteObjectRoundTripsThroughStreams()
    {
        var data = Deterministic(100 << 20, 11);
        string key = Prefix + "big/H-H1_TEST-1000000000-4096.gwf";
        var written = await Bucket.WriteAsync(key, new MemoryStream(data, writable: false));
        Assert.Equal(data.Length, written.Size);
        var stat = await Bucket.StatAsync(key);
        Assert.Equal(data.Length, stat!.Size);
        await using (var read = await Bucket.OpenReadAsync(key))
            Assert.Equal(SHA256.HashData(data), await HashOfStreamAsync(read));
        // A range from the middle of the last part.
        var slice = new byte[1000];
        int got = await Bucket.ReadRangeAsync(key, data.Length - 1500, slice);
        Assert.Equal(1000, got);
        Assert.Equal(data.AsSpan(data.Length - 1500, 1000).ToArray(), slice);
    }

    [SkippableFact]
    public async Task RangesReadTheRightBytesAndStopAtTheEnd()
    {
        var data = Deterministic(1000, 3);
        string key = Prefix + "range.bin";
        await Bucket.WriteAllBytesAsync(key, data);
        var buffer = new byte[50];
        Assert.Equal(50, await Bucket.ReadRangeAsync(key, 100, buffer));
        Assert.Equal(data[100..150], buffer);
        await using (var tail = await Bucket.OpenReadAsync(key, new ByteRange(990, 100)))
        {
            var ms = new MemoryStream();
            await tail.CopyToAsync(ms);
            Assert.Equal(data[990..], ms.ToArray());
        }
        await using (var open = await Bucket.OpenReadAsync(key, new ByteRange(995)))
        {
            var ms = new MemoryStream();
            await open.CopyToAsync(ms);
            Assert.Equal(data[995..], ms.ToArray());
        }
        Assert.Equal(0, await Bucket.ReadRangeAsync(key, 1000, buffer));
    }

    [SkippableFact]
    public async Task StatReportsSizeAndAChecksumOfTheContent()
    {
        string key = Prefix + "stat.txt";
        Assert.Null(await Bucket.StatAsync(key));
        Assert.False(await Bucket.ExistsAsync(key));
        var data = Encoding.UTF8.GetBytes("H1:GDS-CALIB_STRAIN 16384 Hz\n");
        await Bucket.WriteAllBytesAsync(key, data);
        var stat = await Bucket.StatAsync(key);
        Assert.NotNull(stat);
        Assert.Equal(data.Length, stat.Size);
        Assert.True(await Bucket.ExistsAsync(key));
        var checksum = Assert.IsType<ObjectChecksum>(stat.Checksum);
        Assert.Equal(ExpectedChecksum(checksum.Algorithm, data), checksum.Value);
        Assert.True(stat.LastModified > DateTimeOffset.UtcNow.AddMinutes(-10));
    }

    /// <summary>The checksum of <paramref name="data"/> as the store would write it.</summary>
    protected static string ExpectedChecksum(string algorithm, byte[] data) => algorithm switch
    {
        "MD5" => Convert.ToHexStringLower(MD5.HashData(data)),
        "SHA256" => Convert.ToBase64String(SHA256.HashData(data)),
        "CRC32" => Convert.ToBase64String(Crc32BigEndian(data)),
        _ => throw new Xunit.Sdk.XunitException($"unexpected checksum algorithm {algorithm}"),
    };

    // IEEE CRC-32 (zlib's), written independently of any library the code under test uses; S3 sends it big-endian, base64.
    private static byte[] Crc32BigEndian(byte[] data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
        }
        crc ^= 0xFFFFFFFF;
        return [(byte)(crc >> 24), (byte)(crc >> 16), (byte)(crc >> 8), (byte)crc];
    }

    [SkippableFact]
    public async Task ListingOf2500ObjectsComesInSortedPagesWithoutGapsOrRepeats()
    {
        var keys = new List<string>();
        for (int i = 0; i < 2400; i++) keys.Add($"{Prefix}obj-{i:D5}");
        for (int i = 0; i < 100; i++) keys.Add($"{Prefix}sub/dir/leaf-{i:D3}");
        var shuffled = keys.OrderBy(k => k.GetHashCode(StringComparison.Ordinal)).ToList();
        await Parallel.ForEachAsync(shuffled, new ParallelOptions { MaxDegreeOfParallelism = 16 },
            async (k, ct) => await Bucket.WriteAllBytesAsync(k, Encoding.UTF8.GetBytes(k), ct));
        keys.Sort(StringComparer.Ordinal);

        var pages = new List<int>();
        var listed = new List<string>();
        string? token = null;
        do
        {
            var page = await Bucket.ListPageAsync(Prefix, token, 1000);
            pages.Add(page.Objects.Count);
            listed.AddRange(page.Objects.Select(o => o.Key));
            token = page.ContinuationToken;
        } while (token is not null && pages.Count < 10);
        Assert.Equal([1000, 1000, 500], pages);
        Assert.Equal(keys, listed);

        var all = await ListAll(Prefix);
        Assert.Equal(keys, all.Select(o => o.Key));
        Assert.All(all, o => Assert.Equal(Encoding.UTF8.GetByteCount(o.Key), o.Size));
        // A prefix is a string prefix, not a directory: obj-0001 matches obj-00010 ... obj-00019.
        var narrow = await ListAll(Prefix + "obj-0001");
        Assert.Equal(Enumerable.Range(10, 10).Select(i => $"{Prefix}obj-{i:D5}"), narrow.Select(o => o.Key));
        Assert.Equal(100, (await ListAll(Prefix + "sub/")).Count);
        Assert.Empty(await ListAll(Prefix + "nothing-here/"));
    }

    [SkippableFact]
    public async Task OfTwentyConcurrentPutIfAbsentExactlyOneWinsAndItsContentIsWhole()
    {
        string key = Prefix + "markers/segment-1000000000-1000004096.done";
        using var start = new ManualResetEventSlim(false);
        var tasks = Enumerable.Range(0, 20).Select(i => Task.Run(async () =>
        {
            start.Wait();
            return await Bucket.PutIfAbsentAsync(key, Encoding.UTF8.GetBytes($"writer {i:D2} " + new string('x', 4000)));
        })).ToArray();
        start.Set();
        var results = await Task.WhenAll(tasks);
        Assert.Equal(1, results.Count(r => r));
        int winner = Array.IndexOf(results, true);
        Assert.Equal($"writer {winner:D2} " + new string('x', 4000), Encoding.UTF8.GetString(await Bucket.ReadAllBytesAsync(key)));
        Assert.False(await Bucket.PutIfAbsentAsync(key, "late"u8.ToArray()));
        Assert.Single(await ListAll(Prefix + "markers/"));
    }

    [SkippableTheory]
    [InlineData(1 << 20)]   // below the multipart threshold
    [InlineData(40 << 20)]  // in the middle of a multipart upload
    public async Task CancelledWriteLeavesNoVisibleObject(int cancelAfterBytes)
    {
        string key = Prefix + "cancelled/H-H1_TEST-1000000000-64.gwf";
        using var cts = new CancellationTokenSource();
        var source = new CancellingStream(cancelAfterBytes, 200 << 20, cts);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Bucket.WriteAsync(key, source, cts.Token));
        Assert.True(source.Produced >= cancelAfterBytes);
        Assert.Null(await Bucket.StatAsync(key));
        Assert.Empty(await ListAll(Prefix + "cancelled/"));
        Assert.Empty(await LeftoversAsync(Prefix + "cancelled/"));
        await Assert.ThrowsAsync<BucketNotFoundException>(() => Bucket.OpenReadAsync(key));
    }

    [SkippableFact]
    public async Task OverwriteReplacesAndDeleteRemoves()
    {
        string key = Prefix + "replace.txt";
        await Bucket.WriteAllBytesAsync(key, "first version"u8.ToArray());
        await Bucket.WriteAllBytesAsync(key, "second"u8.ToArray());
        Assert.Equal("second"u8.ToArray(), await Bucket.ReadAllBytesAsync(key));
        await Bucket.DeleteAsync(key);
        Assert.Null(await Bucket.StatAsync(key));
        await Bucket.DeleteAsync(key); // deleting what is gone is not an error
        Assert.Empty(await ListAll(Prefix + "replace"));
    }

    [SkippableFact]
    public async Task ReadingAMissingObjectSaysWhichInOneLine()
    {
        string key = Prefix + "absent/H-H1_HOFT_C00-1238166018-4096.gwf";
        var e = await Assert.ThrowsAsync<BucketNotFoundException>(() => Bucket.OpenReadAsync(key));
        Assert.Contains(key, e.Message);
        Assert.Contains("no such object", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.IsAssignableFrom<BadInputException>(e);
    }

    [SkippableFact]
    public async Task FrameDiscoveryBuildsTheCacheForASpanAndFetchesOnlyItsFiles()
    {
        // Five 4096 s H1 files with a gap after the third, an L1 file, and objects that are not frames.
        long t0 = 1_238_166_018;
        long[] starts = [t0, t0 + 4096, t0 + 8192, t0 + 16384, t0 + 20480];
        foreach (long s in starts)
            await Bucket.WriteAllBytesAsync($"{Prefix}O3/H1/H-H1_HOFT_C00-{s}-4096.gwf", Encoding.ASCII.GetBytes($"frame {s}"));
        await Bucket.WriteAllBytesAsync($"{Prefix}O3/L1/L-L1_HOFT_C00-{t0}-4096.gwf", "L1 frame"u8.ToArray());
        await Bucket.WriteAllBytesAsync($"{Prefix}O3/H1/README.txt", "not a frame"u8.ToArray());
        await Bucket.WriteAllBytesAsync($"{Prefix}O3/H1/H-H1_HOFT_C00-bad-name.gwf", "no span"u8.ToArray());

        var all = await BucketFrameSet.DiscoverAsync(Bucket, Prefix + "O3/");
        Assert.Equal(6, all.Files.Count);
        var h1 = await BucketFrameSet.DiscoverAsync(Bucket, Prefix + "O3/", observatory: "H", frameType: "H1_HOFT_C00");
        Assert.Equal(5, h1.Files.Count);

        // A job's padded span [t0+4000, t0+17000) needs the 2nd, 3rd and 4th files; [t0+12288, t0+16384) is a gap.
        var span = new Segment(t0 + 4000, t0 + 17000);
        var selected = h1.Select(span);
        Assert.Equal([t0, t0 + 4096, t0 + 8192, t0 + 16384], selected.Files.Select(f => f.Name.Start.Seconds));
        Assert.Equal([new Segment(t0 + 12288, t0 + 16384)], selected.Gaps(span));
        var cache = selected.ToCache();
        Assert.Equal(4, cache.Entries.Count);
        Assert.Equal(Bucket.UriOf($"{Prefix}O3/H1/H-H1_HOFT_C00-{t0 + 4096}-4096.gwf").ToString().Replace("file:///", "file://localhost/"),
            cache.Entries[1].Location);
        // The cache text is valid LAL cache text.
        var reparsed = FrameCache.Parse(cache.Format(), "test.lcf");
        Assert.Equal(cache.Entries, reparsed.Entries);

        string dir = Path.Combine(Path.GetTempPath(), "gwrepro-frames-" + Guid.NewGuid().ToString("N"));
        try
        {
            var fetched = await selected.DownloadAsync(dir);
            Assert.Equal(4, fetched.Downloaded);
            Assert.Equal(4, Directory.GetFiles(dir).Length);
            foreach (var e in fetched.Cache.Entries)
                Assert.Equal($"frame {e.Span.Start.Seconds}", File.ReadAllText(e.LocalPath!));
            var again = await selected.DownloadAsync(dir);
            Assert.Equal((0, 4), (again.Downloaded, again.Reused));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    protected async Task<List<BucketObject>> ListAll(string prefix)
    {
        var list = new List<BucketObject>();
        await foreach (var o in Bucket.ListAsync(prefix)) list.Add(o);
        return list;
    }

    /// <summary>An endless-looking source that cancels the write once it has produced a given number of bytes, as a killed job would stop mid-upload.</summary>
    private sealed class CancellingStream(long cancelAfter, long length, CancellationTokenSource cts) : Stream
    {
        public long Produced { get; private set; }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => Produced; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            int n = (int)Math.Min(buffer.Length, Math.Min(length - Produced, 256 << 10));
            buffer[..n].Fill(0x5a);
            Produced += n;
            if (Produced >= cancelAfter) cts.Cancel();
            return n;
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await Task.Yield();
            return Read(buffer.Span);
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

/// <summary>The behavioural suite on a directory.</summary>
public sealed class LocalBucketBehaviourTests : BucketBehaviourTests
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "gwrepro-bucket-" + Guid.NewGuid().ToString("N"));

    protected override IBucket OpenBucket()
    {
        Directory.CreateDirectory(_root);
        return new LocalBucket(_root);
    }

    protected override Task<IReadOnlyList<string>> LeftoversAsync(string prefix)
    {
        string dir = Path.Combine(_root, prefix);
        IReadOnlyList<string> files = Directory.Exists(dir) ? Directory.GetFiles(dir, "*", SearchOption.AllDirectories) : [];
        return Task.FromResult(files);
    }

    [Fact]
    public async Task TemporaryFilesOfAKilledWriterAreNotObjects()
    {
        string key = Prefix + "H-H1_TEST-1000000000-4.gwf";
        string path = ((LocalBucket)Bucket).PathOf(key);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        // What AtomicFile leaves when the process is killed between create and rename.
        string temp = AtomicFile.TemporaryNameFor(path);
        await File.WriteAllTextAsync(temp, "half a frame");
        Assert.Empty(await ListAll(Prefix));
        Assert.Null(await Bucket.StatAsync(key));
        await Bucket.WriteAllBytesAsync(key, "whole"u8.ToArray());
        Assert.Equal([key], (await ListAll(Prefix)).Select(o => o.Key));
    }

    [Fact]
    public void KeysCannotEscapeTheRoot()
    {
        var e = Assert.Throws<BadInputException>(() => ((LocalBucket)Bucket).PathOf("a/../../etc/passwd"));
        Assert.Contains("'..'", e.Message);
    }

    public override void Dispose()
    {
        base.Dispose();
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }
}
