using System.Globalization;
using GwReprocess.Inference;
using GwReprocess.Models;

namespace GwReprocess.Training;

/// <summary>A repository directory: a new version is written in a hidden directory and renamed into place (<see cref="ModelRepository.WriteVersionAsync"/>).</summary>
internal sealed class DirectoryTrainingRepository(string root) : TrainingRepository
{
    public override string Describe(string model, string relative = ModelConfigFile.FileName) => Path.Combine(root, model, relative);

    public override Task<bool> HasVersionAsync(string model, long version, CancellationToken cancellationToken) =>
        Task.FromResult(Directory.Exists(Path.Combine(root, model, version.ToString(CultureInfo.InvariantCulture))));

    public override async Task<string?> ReadConfigAsync(string model, CancellationToken cancellationToken)
    {
        string path = Describe(model);
        return File.Exists(path) ? await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false) : null;
    }

    public override Task<IReadOnlyList<long>> VersionsAsync(string model, CancellationToken cancellationToken)
    {
        string dir = Path.Combine(root, model);
        return Task.FromResult(Directory.Exists(dir) ? ModelRepository.Versions(dir) : (IReadOnlyList<long>)[]);
    }

    public override Task<byte[]> ReadFileAsync(string model, string relative, CancellationToken cancellationToken) =>
        File.ReadAllBytesAsync(Describe(model, relative), cancellationToken);

    public override Task WriteVersionAsync(RepositoryModel model, long version, CancellationToken cancellationToken) =>
        ModelRepository.WriteVersionAsync(root, model, version, cancellationToken);

    public override Task WriteModelAsync(RepositoryModel model, CancellationToken cancellationToken) =>
        ModelRepository.WriteAsync(root, [model], cancellationToken);
}
