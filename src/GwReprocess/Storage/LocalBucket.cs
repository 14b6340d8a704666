using System.Runtime.InteropServices;
using System.Security.Cryptography;
using GwReprocess.IO;

namespace GwReprocess.Storage;

/// <summary>A directory tree as a bucket: keys are paths relative to <see cref="RootDirectory"/>.</summary>
/// <remarks>
/// Writes go to a hidden temporary file in the target's directory, are fsynced and renamed into place
/// (<see cref="AtomicFile"/>); listings hide such temporary files, so a killed writer leaves nothing
/// that looks like an object. Markers are created by hard-linking a complete temporary file to the
/// key, which fails atomically when the key exists (falling back to an exclusive create where the
/// filesystem has no hard links).
/// </remarks>
public sealed partial class LocalBucket : IBucket
{
    /// <summary>Opens the directory <paramref name="rootDirectory"/> ("/" for the whole filesystem, as file:// URIs use).</summary>
    public LocalBucket(string rootDirectory)
    {
        string full = Path.GetFullPath(rootDirectory);
        RootDirectory = full.Length > 1 ? full.TrimEnd('/') : full;
        Root = BucketUri.ForLocalPath(RootDirectory == "/" ? "/" : RootDirectory + "/");
    }

    /// <summary>The absolute directory keys are relative to.</summary>
    public string RootDirectory { get; }

    public BucketUri Root { get; }

    /// <summary>The local path of a key.</summary>
    public string PathOf(string key)
    {
        if (key.Length == 0 || key[^1] == '/') throw new BadInputException($"{Root.Append(key)}: not an object key (empty or ends with '/')");
        foreach (var part in key.Split('/'))
            if (part is "." or ".." || part.Contains('\0'))
                throw new BadInputException($"{Root.Append(key)}: key has a '.' or '..' component");
        return RootDirectory == "/" ? "/" + key.TrimStart('/') : RootDirectory + "/" + key.TrimStart('/');
    }

    public Task<BucketListPage> ListPageAsync(string prefix, string? continuationToken = null, int pageSize = 1000, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pageSize, 1);
        if (!Directory.Exists(RootDirectory)) throw new BucketNotFoundException($"{Root}: no such directory");
        // Directory walks have no order or resume point: collect, sort like S3 (ordinal), and resume after the token key.
        var all = new List<BucketObject>();
        prefix = prefix.TrimStart('/');
        int cut = prefix.LastIndexOf('/');
        string startRelative = cut < 0 ? "" : prefix[..(cut + 1)];
        string startDirectory = startRelative.Length == 0 ? RootDirectory : Path.Combine(RootDirectory, startRelative);
        if (Directory.Exists(startDirectory)) Walk(new DirectoryInfo(startDirectory), startRelative, prefix, all, 0, cancellationToken);
        all.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        int first = 0;
        if (continuationToken is not null)
        {
            // The token is the last key returned; binary search for the first key after it.
            int lo = 0, hi = all.Count;
            while (lo < hi)
            {
                int mid = (lo + hi) >>> 1;
                if (string.CompareOrdinal(all[mid].Key, continuationToken) <= 0) lo = mid + 1; else hi = mid;
            }
            first = lo;
        }
        int count = Math.Min(pageSize, all.Count - first);
        var page = all.GetRange(first, count);
        string? next = first + count < all.Count ? page[^1].Key : null;
        return Task.FromResult(new BucketListPage(page, next));
    }

    private static void Walk(DirectoryInfo directory, string relative, string prefix, List<BucketObject> into, int depth, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        if (depth > 64) return; // a symlink loop
        var options = new EnumerationOptions { RecurseSubdirectories = false, IgnoreInaccessible = true, AttributesToSkip = 0, ReturnSpecialDirectories = false };
        foreach (var entry in directory.EnumerateFileSystemInfos("*", options))
        {
            string key = relative + entry.Name;
            if (entry is DirectoryInfo sub)
            {
                string dirKey = key + "/";
                // Enter only directories that can hold keys with the prefix.
                if (dirKey.StartsWith(prefix, StringComparison.Ordinal) || prefix.StartsWith(dirKey, StringComparison.Ordinal))
                    Walk(sub, dirKey, prefix, into, depth + 1, ct);
            }
            else if (entry is FileInfo file && key.StartsWith(prefix, StringComparison.Ordinal) && !AtomicFile.IsTemporaryName(entry.Name))
            {
                long size;
                try { size = file.Length; } catch (FileNotFoundException) { continue; } // deleted or a dangling link
                into.Add(new BucketObject(key, size, file.LastWriteTimeUtc));
            }
        }
    }

    /// <summary>True when a file exists under <paramref name="key"/> (no hashing, unlike <see cref="StatAsync"/>).</summary>
    public Task<bool> ExistsAsync(string key, CancellationToken cancellationToken = default) =>
        Task.FromResult(File.Exists(PathOf(key)));

    /// <summary>Size, time and the MD5 of the content; the MD5 is computed by reading the file (a filesystem keeps none).</summary>
    public async Task<BucketObject?> StatAsync(string key, CancellationToken cancellationToken = default)
    {
        string path = PathOf(key);
        var info = new FileInfo(path);
        if (!info.Exists) return null;
        // A filesystem keeps no checksum: compute the MD5 that an S3 ETag of a single-part upload would show.
        await using var stream = OpenFile(path, key);
        byte[] md5 = await MD5.HashDataAsync(stream, cancellationToken).ConfigureAwait(false);
        return new BucketObject(key, info.Length, info.LastWriteTimeUtc, ObjectChecksum.Md5(md5));
    }

    public Task<Stream> OpenReadAsync(string key, ByteRange? range = null, CancellationToken cancellationToken = default)
    {
        string path = PathOf(key);
        var stream = OpenFile(path, key);
        if (range is not ByteRange r) return Task.FromResult<Stream>(stream);
        long length = stream.Length;
        long start = Math.Min(r.Offset, length);
        long count = Math.Min(r.Length ?? long.MaxValue, length - start);
        stream.Position = start;
        return Task.FromResult<Stream>(new BoundedReadStream(stream, count));
    }

    private FileStream OpenFile(string path, string key)
    {
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new BucketNotFoundException($"{UriOf(key)}: no such object");
        }
        catch (UnauthorizedAccessException)
        {
            throw new BucketAccessDeniedException($"{UriOf(key)}: permission denied");
        }
    }

    private BucketUri UriOf(string key) => Root.Append(key);

    public async Task<BucketObject> WriteAsync(string key, Stream content, CancellationToken cancellationToken = default)
    {
        string path = PathOf(key);
        using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        long size = 0;
        try
        {
            await AtomicFile.WriteAsync(path, async (target, ct) =>
            {
                byte[] buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(1 << 20);
                try
                {
                    int n;
                    while ((n = await content.ReadAsync(buffer.AsMemory(0, 1 << 20), ct).ConfigureAwait(false)) > 0)
                    {
                        md5.AppendData(buffer, 0, n);
                        await target.WriteAsync(buffer.AsMemory(0, n), ct).ConfigureAwait(false);
                        size += n;
                    }
                }
                finally { System.Buffers.ArrayPool<byte>.Shared.Return(buffer); }
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (UnauthorizedAccessException)
        {
            throw new BucketAccessDeniedException($"{UriOf(key)}: permission denied");
        }
        return new BucketObject(key, size, File.GetLastWriteTimeUtc(path), ObjectChecksum.Md5(md5.GetHashAndReset()));
    }

    public async Task<bool> PutIfAbsentAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        string path = PathOf(key);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        if (File.Exists(path)) return false;
        string temp = AtomicFile.TemporaryNameFor(path);
        try
        {
            await using (var s = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 4096, FileOptions.Asynchronous))
            {
                await s.WriteAsync(content, cancellationToken).ConfigureAwait(false);
                await s.FlushAsync(cancellationToken).ConfigureAwait(false);
                s.Flush(flushToDisk: true);
            }
            cancellationToken.ThrowIfCancellationRequested();
            // link(2) publishes the complete file under the key, or fails with EEXIST when another writer got there first.
            if (Link(temp, path) == 0) return true;
            int errno = Marshal.GetLastPInvokeError();
            if (errno == EEXIST) return false;
            if (errno is EPERM or ENOTSUP or ENOSYS or EXDEV) return await CreateExclusiveAsync(path, content, cancellationToken).ConfigureAwait(false);
            throw new IOException($"{UriOf(key)}: cannot create marker (errno {errno})");
        }
        catch (IOException e) when (e is not FileWriteException && FileWriteException.IsOutOfSpace(e))
        {
            throw FileWriteException.OutOfSpace(path, e);
        }
        finally
        {
            AtomicFile.TryDelete(temp);
        }
    }

    // Filesystems without hard links: an exclusive create is still atomic about who wins, though a reader may briefly see it short.
    private static async Task<bool> CreateExclusiveAsync(string path, ReadOnlyMemory<byte> content, CancellationToken ct)
    {
        try
        {
            await using var s = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 4096, FileOptions.Asynchronous);
            await s.WriteAsync(content, ct).ConfigureAwait(false);
            s.Flush(flushToDisk: true);
            return true;
        }
        catch (IOException) when (File.Exists(path))
        {
            return false;
        }
    }

    public Task DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        try { File.Delete(PathOf(key)); }
        catch (DirectoryNotFoundException) { }
        catch (UnauthorizedAccessException) { throw new BucketAccessDeniedException($"{UriOf(key)}: permission denied"); }
        return Task.CompletedTask;
    }

    public void Dispose() { }

    public override string ToString() => Root.ToString();

    private const int EPERM = 1, EXDEV = 18, EEXIST = 17, ENOSYS = 38, ENOTSUP = 95;

    [LibraryImport("libc", EntryPoint = "link", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Link(string oldPath, string newPath);
}

/// <summary>Reads at most a given number of bytes from an inner stream, then reports the end; disposes the inner stream.</summary>
internal sealed class BoundedReadStream(Stream inner, long length) : Stream
{
    private readonly long _length = length;
    private long _remaining = length;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => _length;
    public override long Position { get => _length - _remaining; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (_remaining <= 0) return 0;
        int n = inner.Read(buffer[..(int)Math.Min(buffer.Length, _remaining)]);
        _remaining -= n;
        return n;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_remaining <= 0) return 0;
        int n = await inner.ReadAsync(buffer[..(int)Math.Min(buffer.Length, _remaining)], cancellationToken).ConfigureAwait(false);
        _remaining -= n;
        return n;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    protected override void Dispose(bool disposing)
    {
        if (disposing) inner.Dispose();
        base.Dispose(disposing);
    }

    public override ValueTask DisposeAsync() => inner.DisposeAsync();

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
