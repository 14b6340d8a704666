using GwReprocess.Data;
using GwReprocess.IO;
using GwReprocess.Storage;
using GwReprocess.Time;

namespace GwReprocess.Frames;

/// <summary>A frame file found in a bucket: its IGWN name (observatory, type, span) and the object holding it.</summary>
public sealed record BucketFrameFile(FrameFileName Name, BucketObject Object, BucketUri Location)
{
    /// <summary>The location as a LAL cache writes it: <c>file://localhost/abs/path</c>, <c>s3://...</c> or <c>gs://...</c> (spaces escaped).</summary>
    public string CacheLocation => (Location.IsLocal ? "file://localhost/" + Location.Key : Location.ToString()).Replace(" ", "%20", StringComparison.Ordinal);
}

/// <summary>What <see cref="BucketFrameSet.DownloadAsync"/> did: the cache of local copies, and how many files it fetched or found already present.</summary>
public sealed record FrameDownload(FrameCache Cache, int Downloaded, int Reused, long BytesDownloaded);

/// <summary>The frame files (<c>*.gwf</c> named OBS-TYPE-GPSSTART-DURATION) under a bucket prefix: how a job finds the data for its span.</summary>
/// <remarks>Discovery reads only the listing (names carry the spans), so finding a job's frames among years of data costs no downloads.</remarks>
public sealed class BucketFrameSet
{
    private readonly IBucket _bucket;

    private BucketFrameSet(IBucket bucket, IReadOnlyList<BucketFrameFile> files)
    {
        _bucket = bucket;
        Files = files;
    }

    /// <summary>The files in time order (then by location).</summary>
    public IReadOnlyList<BucketFrameFile> Files { get; }

    /// <summary>Lists <c>*.gwf</c> files under <paramref name="prefix"/> whose names follow the IGWN convention, optionally of one observatory and frame type.</summary>
    public static async Task<BucketFrameSet> DiscoverAsync(IBucket bucket, string prefix, string? observatory = null, string? frameType = null, CancellationToken cancellationToken = default)
    {
        var files = new List<BucketFrameFile>();
        await foreach (var o in bucket.ListAsync(prefix, cancellationToken).ConfigureAwait(false))
        {
            if (!o.Key.EndsWith(".gwf", StringComparison.OrdinalIgnoreCase)) continue;
            if (FrameFileName.TryParse(o.Key) is not { } name) continue;
            if (observatory is not null && !name.Observatory.Equals(observatory, StringComparison.Ordinal)) continue;
            if (frameType is not null && !name.FrameType.Equals(frameType, StringComparison.Ordinal)) continue;
            files.Add(new BucketFrameFile(name, o, bucket.UriOf(o.Key)));
        }
        return new BucketFrameSet(bucket, Sorted(files));
    }

    private static List<BucketFrameFile> Sorted(List<BucketFrameFile> files)
    {
        files.Sort((a, b) =>
        {
            int c = a.Name.Span.CompareTo(b.Name.Span);
            return c != 0 ? c : string.CompareOrdinal(a.Object.Key, b.Object.Key);
        });
        return files;
    }

    /// <summary>The files overlapping <paramref name="span"/>, in time order.</summary>
    public BucketFrameSet Select(Segment span)
    {
        var selected = new List<BucketFrameFile>();
        foreach (var f in Files)
            if (f.Name.Span.Intersects(span)) selected.Add(f);
        return new BucketFrameSet(_bucket, selected);
    }

    /// <summary>The files as a LAL frame cache pointing at the bucket.</summary>
    public FrameCache ToCache()
    {
        var entries = new List<FrameCacheEntry>(Files.Count);
        foreach (var f in Files) entries.Add(new FrameCacheEntry(f.Name.Observatory, f.Name.FrameType, f.Name.Span, f.CacheLocation));
        return new FrameCache(entries);
    }

    /// <summary>The parts of <paramref name="span"/> that no file covers.</summary>
    public SegmentList Gaps(Segment span) => ToCache().Gaps(span);

    /// <summary>Total bytes of the files.</summary>
    public long TotalBytes
    {
        get
        {
            long n = 0;
            foreach (var f in Files) n += f.Object.Size;
            return n;
        }
    }

    /// <summary>Streams the files into <paramref name="directory"/> (each written atomically; a file already there with the right size is kept) and returns a cache of the local copies.</summary>
    public async Task<FrameDownload> DownloadAsync(string directory, int parallelism = 4, CancellationToken cancellationToken = default)
    {
        string root = Path.GetFullPath(directory);
        Directory.CreateDirectory(root);
        var entries = new FrameCacheEntry[Files.Count];
        int downloaded = 0, reused = 0;
        long bytes = 0;
        await Parallel.ForEachAsync(Enumerable.Range(0, Files.Count),
            new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, parallelism), CancellationToken = cancellationToken },
            async (i, ct) =>
            {
                var f = Files[i];
                string target = Path.Combine(root, f.Name.ToString());
                var existing = new FileInfo(target);
                if (existing.Exists && existing.Length == f.Object.Size)
                {
                    Interlocked.Increment(ref reused);
                }
                else
                {
                    await using var source = await _bucket.OpenReadAsync(f.Object.Key, null, ct).ConfigureAwait(false);
                    long written = 0;
                    await AtomicFile.WriteAsync(target, async (s, c) =>
                    {
                        await source.CopyToAsync(s, 1 << 20, c).ConfigureAwait(false);
                        written = s.Length;
                    }, ct).ConfigureAwait(false);
                    Interlocked.Increment(ref downloaded);
                    Interlocked.Add(ref bytes, written);
                }
                entries[i] = new FrameCacheEntry(f.Name.Observatory, f.Name.FrameType, f.Name.Span, ("file://localhost" + target).Replace(" ", "%20", StringComparison.Ordinal));
            }).ConfigureAwait(false);
        return new FrameDownload(new FrameCache(entries), downloaded, reused, bytes);
    }
}
