using GwReprocess.Data;
using GwReprocess.IO;
using GwReprocess.Storage;

namespace GwReprocess.Frames;

/// <summary>Opens frame files named by s3://, gs:// or local locations for a <see cref="FrameSource"/>: a bucket object is fetched whole into memory.</summary>
/// <remarks>
/// GWF reading seeks (table of contents at the end, then the requested channels), which an object's response stream cannot do,
/// so each object is fetched in one verified GET and read from memory; with <see cref="FrameSourceOptions.PrefetchFiles"/> the
/// next file is fetched while the current one is decoded. A body cut short mid-transfer (or failing its checksum) is fetched
/// again, up to <see cref="Attempts"/> times (the bucket retries failed requests itself). One bucket client per bucket, shared by all opens.
/// </remarks>
public sealed class BucketFrameOpener(BucketOptions? options = null) : IDisposable
{
    private readonly Dictionary<string, IBucket> _buckets = new(StringComparer.Ordinal);
    private readonly Func<BucketUri, IBucket>? _open;

    /// <summary>Opens buckets with <paramref name="open"/> instead of <see cref="BucketFactory"/> (tests).</summary>
    internal BucketFrameOpener(Func<BucketUri, IBucket> open) : this((BucketOptions?)null) => _open = open;

    /// <summary>Whole-object fetches per file before a broken transfer is reported.</summary>
    public int Attempts { get; init; } = 3;

    /// <summary>Frame source options that read through this opener, fetching <paramref name="prefetch"/> files ahead.</summary>
    public FrameSourceOptions SourceOptions(int prefetch = 1) => new() { Opener = OpenAsync, PrefetchFiles = prefetch };

    /// <summary>Opens <paramref name="location"/>: local paths and file:// URLs as files, bucket objects fetched into memory.</summary>
    /// <exception cref="BadInputException">No such object or bucket, or access denied (the message names the location).</exception>
    /// <exception cref="IOException">The object could not be fetched whole after <see cref="Attempts"/> tries (the message names it).</exception>
    public async Task<Stream> OpenAsync(string location, CancellationToken cancellationToken)
    {
        if (Location.LocalPathOf(location) is not null)
            return await FrameSource.OpenLocalAsync(location, cancellationToken).ConfigureAwait(false);
        // Cache files escape spaces as %20 (BucketFrameFile.CacheLocation).
        var uri = BucketUri.Parse(location.Replace("%20", " ", StringComparison.Ordinal));
        var bucket = BucketOf(uri);
        for (int attempt = 1; ; attempt++)
        {
            // The request itself is retried by the bucket; a body cut short afterwards is fetched again here.
            await using var body = await bucket.OpenReadAsync(uri.Key, null, cancellationToken).ConfigureAwait(false);
            var memory = new MemoryStream();
            try
            {
                await body.CopyToAsync(memory, 1 << 20, cancellationToken).ConfigureAwait(false);
                memory.Position = 0;
                return memory;
            }
            catch (Exception e) when (e is IOException or HttpRequestException && !cancellationToken.IsCancellationRequested)
            {
                if (attempt >= Attempts) throw new IOException($"{uri}: frame file not fetched whole after {attempt} attempts: {e.Message.Split('\n')[0]}", e);
            }
        }
    }

    private IBucket BucketOf(BucketUri uri)
    {
        string root = $"{uri.Scheme}:{uri.Bucket}";
        lock (_buckets)
        {
            if (!_buckets.TryGetValue(root, out var bucket)) _buckets[root] = bucket = _open?.Invoke(uri) ?? BucketFactory.Open(uri, options);
            return bucket;
        }
    }

    public void Dispose()
    {
        lock (_buckets)
        {
            foreach (var b in _buckets.Values) b.Dispose();
            _buckets.Clear();
        }
    }
}
