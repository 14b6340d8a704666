using GwReprocess.IO;
using GwReprocess.Models;

namespace GwReprocess.Training;

/// <summary>The model repository gwrepro-train adds a version to: a directory, or a bucket prefix (s3://, gs://) that servers poll.</summary>
/// <remarks>
/// Both keep gwrepro serve's and Triton's view whole: a server polling the repository sees a new version complete or not at all,
/// and a model only once its config is there. How each gets there differs (a rename in a directory, the order of single-object
/// writes in a bucket); see <see cref="DirectoryTrainingRepository"/> and <see cref="BucketTrainingRepository"/>.
/// </remarks>
internal abstract class TrainingRepository : IDisposable
{
    /// <summary>Opens <paramref name="location"/>: a path or file:// URL is a directory, s3:// and gs:// a bucket prefix. Nothing is created.</summary>
    public static TrainingRepository Open(string location)
    {
        var parsed = Location.Parse(location);
        return parsed.LocalPath is { } path ? new DirectoryTrainingRepository(path) : new BucketTrainingRepository(location);
    }

    /// <summary>Where a file of a model lives, for messages: its config by default.</summary>
    public abstract string Describe(string model, string relative = Inference.ModelConfigFile.FileName);

    /// <summary>True when version <paramref name="version"/> of <paramref name="model"/> is there for a server to load.</summary>
    public abstract Task<bool> HasVersionAsync(string model, long version, CancellationToken cancellationToken);

    /// <summary>The model's config.pbtxt text, or null when the repository has no such model.</summary>
    public abstract Task<string?> ReadConfigAsync(string model, CancellationToken cancellationToken);

    /// <summary>The model's versions, ascending (Triton's rule: numeric names not starting with 0).</summary>
    public abstract Task<IReadOnlyList<long>> VersionsAsync(string model, CancellationToken cancellationToken);

    /// <summary>A file of a model, e.g. <c>3/model.onnx</c>.</summary>
    public abstract Task<byte[]> ReadFileAsync(string model, string relative, CancellationToken cancellationToken);

    /// <summary>Adds version <paramref name="version"/> of an ONNX model and then its config; an existing version is refused.</summary>
    public abstract Task WriteVersionAsync(RepositoryModel model, long version, CancellationToken cancellationToken);

    /// <summary>Writes a whole model as version 1, its config last.</summary>
    public abstract Task WriteModelAsync(RepositoryModel model, CancellationToken cancellationToken);

    public virtual void Dispose() { }
}
