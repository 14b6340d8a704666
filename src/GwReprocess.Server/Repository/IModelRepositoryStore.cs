using System.Text.RegularExpressions;
using GwReprocess.Inference;
using GwReprocess.Models;

namespace GwReprocess.Server.Repository;

/// <summary>Where a Triton-layout repository lives: a local directory now, a bucket (s3://, gs://) once storage plugs in here.</summary>
public interface IModelRepositoryStore
{
    /// <summary>Path or URI, for messages.</summary>
    string Location { get; }

    /// <summary>Model directories holding a config.pbtxt, sorted.</summary>
    Task<IReadOnlyList<string>> ListModelsAsync(CancellationToken cancellationToken);

    /// <summary>Numeric version directories not starting with 0, ascending (Triton's rule).</summary>
    Task<IReadOnlyList<long>> ListVersionsAsync(string model, CancellationToken cancellationToken);

    /// <summary>Text of <c>&lt;model&gt;/&lt;relativePath&gt;</c>.</summary>
    Task<byte[]> ReadFileAsync(string model, string relativePath, CancellationToken cancellationToken);
}

/// <summary>Model names as a path component: letters, digits, '_', '-', '.', not starting with '.', so no name leaves the repository.</summary>
public static partial class ModelNames
{
    [GeneratedRegex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,199}$")]
    private static partial Regex Valid();

    public static bool IsValid(string name) => Valid().IsMatch(name) && !name.Contains("..", StringComparison.Ordinal);
}

/// <summary>A repository in a local directory.</summary>
public sealed class LocalModelRepositoryStore(string root) : IModelRepositoryStore
{
    public string Location { get; } = Path.GetFullPath(root);

    public Task<IReadOnlyList<string>> ListModelsAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<string>>(ModelRepository.ModelNames(Location).Where(ModelNames.IsValid).ToList());

    public Task<IReadOnlyList<long>> ListVersionsAsync(string model, CancellationToken cancellationToken) =>
        Task.FromResult(ModelRepository.Versions(ModelDirectory(model)));

    public async Task<byte[]> ReadFileAsync(string model, string relativePath, CancellationToken cancellationToken)
    {
        string dir = ModelDirectory(model);
        string path = Path.GetFullPath(Path.Combine(dir, relativePath));
        if (!path.StartsWith(dir + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new BadInputException($"{relativePath}: path leaves the model directory of '{model}'");
        try { return await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BadInputException($"{path}: cannot read: {e.Message}", e);
        }
    }

    private string ModelDirectory(string model)
    {
        if (!ModelNames.IsValid(model)) throw new BadInputException($"'{model}': not a valid model name");
        return Path.Combine(Location, model);
    }

    /// <summary>The config file name inside a model directory.</summary>
    public static string ConfigFile => ModelConfigFile.FileName;
}
