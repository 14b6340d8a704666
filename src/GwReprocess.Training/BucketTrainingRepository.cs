using System.Globalization;
using System.Text;
using Google.Protobuf;
using GwReprocess.Inference;
using GwReprocess.Models;
using GwReprocess.Storage;

namespace GwReprocess.Training;

/// <summary>A repository under a bucket prefix (s3://, gs://), as gwrepro serve and Triton poll it.</summary>
/// <remarks>
/// <para>A bucket has no rename, so nothing can appear "in one step" but a single object, and every write here is one: a PUT
/// (or a multipart upload's completion) makes an object visible whole or not at all. A poller lists keys: a model is a model
/// once <c>&lt;model&gt;/config.pbtxt</c> exists, and a version once any key lies under <c>&lt;model&gt;/&lt;version&gt;/</c>.
/// A trained version is a single object, <c>&lt;version&gt;/model.onnx</c>, so the order below leaves no moment in which a
/// server could load part of one:</para>
/// <list type="number">
/// <item>the ONNX under its final key, created only if absent (a conditional PUT, so two writers of one version cannot
/// replace each other's): for a model seen before, the version appears here, whole; for a new model it stays invisible;</item>
/// <item>then the config, in one PUT: a new model appears here with its version complete.</item>
/// </list>
/// <para>A writer killed or cut off mid-upload leaves nothing (the PUT never completed), or an ONNX whose model has no config
/// yet, which no server lists; a rerun of the same version deletes that leftover (only its own version's: other spans'
/// training nodes may be writing theirs beside it) and writes again. With a config present, an existing version is refused.</para>
/// </remarks>
internal sealed class BucketTrainingRepository : TrainingRepository
{
    private readonly IBucket _bucket;
    private readonly string _prefix;

    public BucketTrainingRepository(string location)
    {
        (_bucket, var key) = BucketFactory.Open(location);
        _prefix = BucketUri.AsPrefix(key);
    }

    private string Key(string model, string relative) => $"{_prefix}{model}/{relative}";

    public override string Describe(string model, string relative = ModelConfigFile.FileName) => _bucket.UriOf(Key(model, relative)).ToString();

    public override async Task<bool> HasVersionAsync(string model, long version, CancellationToken cancellationToken) =>
        await _bucket.ExistsAsync(Key(model, ModelConfigFile.FileName), cancellationToken).ConfigureAwait(false)
        && await AnyUnderAsync(Key(model, $"{version.ToString(CultureInfo.InvariantCulture)}/"), cancellationToken).ConfigureAwait(false);

    private async Task<bool> AnyUnderAsync(string prefix, CancellationToken ct)
    {
        var page = await _bucket.ListPageAsync(prefix, null, 1, ct).ConfigureAwait(false);
        return page.Objects.Count > 0;
    }

    public override async Task<string?> ReadConfigAsync(string model, CancellationToken cancellationToken)
    {
        string key = Key(model, ModelConfigFile.FileName);
        if (!await Named(key, () => _bucket.ExistsAsync(key, cancellationToken)).ConfigureAwait(false)) return null;
        return Encoding.UTF8.GetString(await Named(key, () => _bucket.ReadAllBytesAsync(key, cancellationToken)).ConfigureAwait(false));
    }

    public override async Task<IReadOnlyList<long>> VersionsAsync(string model, CancellationToken cancellationToken)
    {
        var versions = new SortedSet<long>();
        string under = Key(model, "");
        await foreach (var o in _bucket.ListAsync(under, cancellationToken).ConfigureAwait(false))
        {
            var parts = o.Key[under.Length..].Split('/');
            if (parts.Length >= 2 && parts[0].Length > 0 && parts[0][0] != '0' && parts[0].All(char.IsAsciiDigit)
                && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out long v))
                versions.Add(v);
        }
        return [.. versions];
    }

    public override Task<byte[]> ReadFileAsync(string model, string relative, CancellationToken cancellationToken) =>
        Named(Key(model, relative), () => _bucket.ReadAllBytesAsync(Key(model, relative), cancellationToken));

    public override async Task WriteVersionAsync(RepositoryModel model, long version, CancellationToken cancellationToken)
    {
        if (model.Onnx is not { } onnx) throw new ArgumentException($"{model.Name}: only ONNX models take versions here", nameof(model));
        string dir = $"{version.ToString(CultureInfo.InvariantCulture)}/";
        string onnxKey = Key(model.Name, dir + ModelRepository.OnnxFileName);
        if (!await _bucket.ExistsAsync(Key(model.Name, ModelConfigFile.FileName), cancellationToken).ConfigureAwait(false))
        {
            // No config: whatever lies under this version is a killed writer's leftover, which no server lists.
            var stale = new List<string>();
            await foreach (var o in _bucket.ListAsync(Key(model.Name, dir), cancellationToken).ConfigureAwait(false)) stale.Add(o.Key);
            foreach (var key in stale) await _bucket.DeleteAsync(key, cancellationToken).ConfigureAwait(false);
        }
        if (!await Named(onnxKey, () => _bucket.PutIfAbsentAsync(onnxKey, onnx.ToByteArray(), cancellationToken)).ConfigureAwait(false))
            throw new BadInputException($"{Describe(model.Name, dir)}: version {version} of {model.Name} exists already; choose another version");
        await WriteAsync(Key(model.Name, ModelConfigFile.FileName), Encoding.UTF8.GetBytes(ModelConfigFile.Format(model.Config)), cancellationToken).ConfigureAwait(false);
    }

    public override async Task WriteModelAsync(RepositoryModel model, CancellationToken cancellationToken)
    {
        byte[] content = model.Onnx is { } onnx ? onnx.ToByteArray() : [];
        string file = model.Onnx is null ? ModelRepository.EnsemblePlaceholder : ModelRepository.OnnxFileName;
        await WriteAsync(Key(model.Name, "1/" + file), content, cancellationToken).ConfigureAwait(false);
        await WriteAsync(Key(model.Name, ModelConfigFile.FileName), Encoding.UTF8.GetBytes(ModelConfigFile.Format(model.Config)), cancellationToken).ConfigureAwait(false);
    }

    private Task WriteAsync(string key, byte[] content, CancellationToken ct) => Named(key, () => _bucket.WriteAllBytesAsync(key, content, ct));

    /// <summary>
    /// Runs a store operation on <paramref name="key"/> so that its failure names the object: the store names it in the errors it
    /// translates, but a connection cut mid-request surfaces as the HTTP stack's bare IOException ("The response ended prematurely").
    /// </summary>
    private async Task<T> Named<T>(string key, Func<Task<T>> operation)
    {
        string where = _bucket.UriOf(key).ToString();
        try
        {
            return await operation().ConfigureAwait(false);
        }
        catch (IOException e) when (!e.Message.Contains(where, StringComparison.Ordinal))
        {
            throw new IOException($"{where}: {e.Message}", e);
        }
    }

    public override void Dispose() => _bucket.Dispose();
}
