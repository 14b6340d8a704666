using GwReprocess.Frames.Gwf;
using GwReprocess.IO;
using GwReprocess.Storage;

namespace GwReprocess.Analysis;

/// <summary>Read access to what a run wrote under its workflow's <c>[outputs] uri</c> (a local directory or a bucket prefix).</summary>
public sealed class RunOutputs : IDisposable
{
    private readonly IBucket _bucket;
    private readonly string _root;

    private RunOutputs(IBucket bucket, string root)
    {
        _bucket = bucket;
        _root = root;
    }

    /// <summary>Opens <paramref name="location"/>: a bucket URI, an absolute path, or a path relative to <paramref name="runDirectory"/>.</summary>
    public static RunOutputs Open(string location, string runDirectory)
    {
        location = Location.Parse(location).Resolve(Path.GetFullPath(runDirectory)).ToString();
        var (bucket, prefix) = BucketFactory.Open(location);
        return new RunOutputs(bucket, BucketUri.AsPrefix(prefix));
    }

    /// <summary>The URI of <paramref name="relative"/> under the outputs, for messages.</summary>
    public string UriOf(string relative) => _bucket.UriOf(_root + relative).ToString();

    /// <summary>
    /// Where <paramref name="relative"/> is, as a frame cache writes it: <c>file://localhost/abs/path</c> for local outputs
    /// (as <c>FrameCache.FromFiles</c> writes), the bucket URL otherwise.
    /// </summary>
    public string LocationOf(string relative) =>
        _bucket is LocalBucket local ? "file://localhost" + Path.GetFullPath(local.PathOf(_root + relative)) : UriOf(relative);

    /// <summary>Writes <paramref name="text"/> under the outputs in one atomic put (readers see the old file or the new one, never a part).</summary>
    public async Task WriteTextAsync(string relative, string text, CancellationToken cancellationToken) =>
        await _bucket.WriteAllBytesAsync(_root + relative, System.Text.Encoding.UTF8.GetBytes(text), cancellationToken).ConfigureAwait(false);

    /// <summary>Keys (relative to the outputs) under <paramref name="relativePrefix"/> that end with <paramref name="suffix"/>, sorted.</summary>
    public async Task<IReadOnlyList<string>> ListAsync(string relativePrefix, string suffix, CancellationToken cancellationToken)
    {
        var keys = new List<string>();
        await foreach (var o in _bucket.ListAsync(_root + relativePrefix, cancellationToken).ConfigureAwait(false))
            if (o.Key.EndsWith(suffix, StringComparison.Ordinal)) keys.Add(o.Key[_root.Length..]);
        keys.Sort(StringComparer.Ordinal);
        return keys;
    }

    /// <summary>Opens a GWF file of the outputs (read in place when local, fetched into memory from a bucket).</summary>
    public async Task<GwfFile> OpenGwfAsync(string relative, CancellationToken cancellationToken)
    {
        if (_bucket is LocalBucket local) return await GwfFile.OpenAsync(local.PathOf(_root + relative), cancellationToken: cancellationToken).ConfigureAwait(false);
        var bytes = await _bucket.ReadAllBytesAsync(_root + relative, cancellationToken).ConfigureAwait(false);
        return await GwfFile.OpenAsync(new MemoryStream(bytes, writable: false), UriOf(relative), cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Runs <paramref name="read"/> on a local path holding the object (HDF5 readers need a seekable file):
    /// the file itself when local, else a temporary copy deleted afterwards.
    /// </summary>
    public async Task<T> WithLocalFileAsync<T>(string relative, Func<string, T> read, CancellationToken cancellationToken)
    {
        if (_bucket is LocalBucket local) return read(local.PathOf(_root + relative));
        string temp = Path.Combine(Path.GetTempPath(), $"gwrepro-{Guid.NewGuid():N}-{Path.GetFileName(relative)}");
        try
        {
            await File.WriteAllBytesAsync(temp, await _bucket.ReadAllBytesAsync(_root + relative, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
            return read(temp);
        }
        finally
        {
            try { File.Delete(temp); } catch (IOException) { }
        }
    }

    public void Dispose() => _bucket.Dispose();
}
