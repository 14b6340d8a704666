using System.Runtime.CompilerServices;

namespace GwReprocess.Storage;

/// <summary>An object store: a local directory tree, an S3 bucket or a Cloud Storage bucket, behind one asynchronous interface.</summary>
/// <remarks>
/// Keys are '/'-separated; prefixes are plain string prefixes as in S3 ("frames/H-" matches "frames/H-H1...").
/// Every write is atomic: an object appears complete under its key or not at all, also when the
/// write is cancelled or the process dies. Errors a user can fix (missing bucket or object, denied
/// credentials) are <see cref="BadInputException"/>s whose one-line message names the location.
/// </remarks>
public interface IBucket : IDisposable
{
    /// <summary>The bucket itself (empty key): <c>s3://name/</c>, <c>gs://name/</c> or <c>file:///</c>.</summary>
    BucketUri Root { get; }

    /// <summary>The full URI of a key in this bucket.</summary>
    BucketUri UriOf(string key) => Root.Append(key);

    /// <summary>One page of the objects whose keys start with <paramref name="prefix"/>, in ascending key order.</summary>
    Task<BucketListPage> ListPageAsync(string prefix, string? continuationToken = null, int pageSize = 1000, CancellationToken cancellationToken = default);

    /// <summary>All objects under <paramref name="prefix"/>, in ascending key order, fetched page by page.</summary>
    async IAsyncEnumerable<BucketObject> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        string? token = null;
        do
        {
            var page = await ListPageAsync(prefix, token, 1000, cancellationToken).ConfigureAwait(false);
            foreach (var o in page.Objects) yield return o;
            token = page.ContinuationToken;
        } while (token is not null);
    }

    /// <summary>Size, time and checksum of an object, or null when there is none under <paramref name="key"/>.</summary>
    Task<BucketObject?> StatAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>True when an object exists under <paramref name="key"/>.</summary>
    async Task<bool> ExistsAsync(string key, CancellationToken cancellationToken = default) =>
        await StatAsync(key, cancellationToken).ConfigureAwait(false) is not null;

    /// <summary>Opens an object (or a range of it) for reading; a whole-object read verifies the store's checksum when it reports one.</summary>
    /// <exception cref="BucketNotFoundException">No such object or bucket.</exception>
    Task<Stream> OpenReadAsync(string key, ByteRange? range = null, CancellationToken cancellationToken = default);

    /// <summary>Reads a whole object into memory.</summary>
    async Task<byte[]> ReadAllBytesAsync(string key, CancellationToken cancellationToken = default)
    {
        await using var s = await OpenReadAsync(key, null, cancellationToken).ConfigureAwait(false);
        var ms = new MemoryStream();
        await s.CopyToAsync(ms, 1 << 20, cancellationToken).ConfigureAwait(false);
        return ms.ToArray();
    }

    /// <summary>Reads <paramref name="buffer"/>.Length bytes from <paramref name="offset"/>; returns the count read (short only at the end of the object).</summary>
    async Task<int> ReadRangeAsync(string key, long offset, Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.Length == 0) return 0;
        await using var s = await OpenReadAsync(key, new ByteRange(offset, buffer.Length), cancellationToken).ConfigureAwait(false);
        return await s.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes everything <paramref name="content"/> yields to <paramref name="key"/>, atomically (large objects go up in parts); replaces an existing object.</summary>
    Task<BucketObject> WriteAsync(string key, Stream content, CancellationToken cancellationToken = default);

    /// <summary>Writes bytes atomically.</summary>
    Task<BucketObject> WriteAllBytesAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default) =>
        WriteAsync(key, new ReadOnlyMemoryStream(content), cancellationToken);

    /// <summary>Creates <paramref name="key"/> with <paramref name="content"/> only if no object exists there; true when this call created it.</summary>
    /// <remarks>
    /// The primitive for done markers and locks: of any number of concurrent callers exactly one gets true, and the object
    /// never appears partly written. Give each writer distinct content (host, job id): when a retried request finds an
    /// object with exactly its own bytes, it counts the earlier, lost-answer attempt as its win.
    /// </remarks>
    Task<bool> PutIfAbsentAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default);

    /// <summary>Deletes an object; deleting a missing object is not an error.</summary>
    Task DeleteAsync(string key, CancellationToken cancellationToken = default);
}

/// <summary>A read-only, seekable stream over memory the caller owns.</summary>
internal sealed class ReadOnlyMemoryStream(ReadOnlyMemory<byte> memory) : Stream
{
    private int _position;

    public override bool CanRead => true;
    public override bool CanSeek => true;
    public override bool CanWrite => false;
    public override long Length => memory.Length;
    public override long Position { get => _position; set => _position = (int)Math.Clamp(value, 0, memory.Length); }

    public override int Read(Span<byte> buffer)
    {
        int n = Math.Min(buffer.Length, memory.Length - _position);
        memory.Span.Slice(_position, n).CopyTo(buffer);
        _position += n;
        return n;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(Read(buffer.Span));
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override long Seek(long offset, SeekOrigin origin)
    {
        Position = origin switch { SeekOrigin.Begin => offset, SeekOrigin.Current => _position + offset, _ => memory.Length + offset };
        return _position;
    }

    public override void Flush() { }
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
