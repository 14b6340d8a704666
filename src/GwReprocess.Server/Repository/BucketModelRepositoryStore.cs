using System.Globalization;
using GwReprocess.Inference;
using GwReprocess.Storage;

namespace GwReprocess.Server.Repository;

/// <summary>A repository under a bucket prefix (s3://, gs://): one listing per call gives the models and versions; files are read whole.</summary>
public sealed class BucketModelRepositoryStore(IBucket bucket, string prefix) : IModelRepositoryStore, IDisposable
{
    private readonly string _prefix = BucketUri.AsPrefix(prefix);

    public string Location => bucket.UriOf(_prefix).ToString();

    private async Task<List<string>> KeysAsync(string under, CancellationToken cancellationToken)
    {
        var keys = new List<string>();
        await foreach (var o in bucket.ListAsync(_prefix + under, cancellationToken).ConfigureAwait(false)) keys.Add(o.Key[_prefix.Length..]);
        return keys;
    }

    public async Task<IReadOnlyList<string>> ListModelsAsync(CancellationToken cancellationToken)
    {
        var models = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var k in await KeysAsync("", cancellationToken).ConfigureAwait(false))
        {
            var parts = k.Split('/');
            if (parts.Length == 2 && parts[1] == ModelConfigFile.FileName && ModelNames.IsValid(parts[0])) models.Add(parts[0]);
        }
        return [.. models];
    }

    public async Task<IReadOnlyList<long>> ListVersionsAsync(string model, CancellationToken cancellationToken)
    {
        if (!ModelNames.IsValid(model)) throw new BadInputException($"'{model}': not a valid model name");
        var versions = new SortedSet<long>();
        foreach (var k in await KeysAsync(model + "/", cancellationToken).ConfigureAwait(false))
        {
            var parts = k.Split('/');
            // Triton's rule: numeric directory names not starting with 0.
            if (parts.Length >= 3 && parts[1].Length > 0 && parts[1][0] != '0' && parts[1].All(char.IsAsciiDigit)
                && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out long v))
                versions.Add(v);
        }
        return [.. versions];
    }

    public Task<byte[]> ReadFileAsync(string model, string relativePath, CancellationToken cancellationToken)
    {
        if (!ModelNames.IsValid(model)) throw new BadInputException($"'{model}': not a valid model name");
        if (relativePath.Split('/').Any(p => p is "" or "." or ".."))
            throw new BadInputException($"{relativePath}: path leaves the model directory of '{model}'");
        return bucket.ReadAllBytesAsync($"{_prefix}{model}/{relativePath}", cancellationToken);
    }

    public void Dispose() => bucket.Dispose();
}
