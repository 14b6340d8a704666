using System.Globalization;
using Google.Protobuf;
using GwReprocess.Inference;
using GwReprocess.IO;
using GwReprocess.Models.Onnx.Protos;
using Inference;

namespace GwReprocess.Models;

/// <summary>A Triton-layout model repository on disk: <c>&lt;model&gt;/config.pbtxt</c> and <c>&lt;model&gt;/&lt;version&gt;/model.onnx</c>.</summary>
public static class ModelRepository
{
    /// <summary>The ONNX file name Triton's ONNX Runtime backend loads by default.</summary>
    public const string OnnxFileName = "model.onnx";

    /// <summary>Placeholder file of an ensemble's version directory (Triton needs the directory; hermes writes this file).</summary>
    public const string EnsemblePlaceholder = "model.empty";

    /// <summary>Writes every model as version 1; each file is written atomically.</summary>
    public static async Task WriteAsync(string root, IEnumerable<RepositoryModel> models, CancellationToken cancellationToken = default)
    {
        foreach (var m in models)
        {
            string dir = Path.Combine(root, m.Name);
            string version = Path.Combine(dir, "1");
            Directory.CreateDirectory(version);
            if (m.Onnx is { } onnx)
                await AtomicFile.WriteAsync(Path.Combine(version, OnnxFileName), (s, ct) => { onnx.WriteTo(s); return Task.CompletedTask; }, cancellationToken).ConfigureAwait(false);
            else
                await AtomicFile.WriteAllTextAsync(Path.Combine(version, EnsemblePlaceholder), "", cancellationToken).ConfigureAwait(false);
            // The config goes last: a model directory with a config is a complete model.
            await ModelConfigFile.WriteAsync(Path.Combine(dir, ModelConfigFile.FileName), m.Config, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Adds version <paramref name="version"/> of <paramref name="model"/> to the repository at <paramref name="root"/> without a moment in
    /// which a server could load half of it: the ONNX is written into a hidden directory (a name Triton never takes for a
    /// version) and renamed into place, then the config is replaced atomically. An existing version is refused, not overwritten.
    /// </summary>
    public static async Task WriteVersionAsync(string root, RepositoryModel model, long version, CancellationToken cancellationToken = default)
    {
        if (model.Onnx is not { } onnx) throw new ArgumentException($"{model.Name}: only ONNX models take versions here", nameof(model));
        string dir = Path.Combine(root, model.Name);
        string final = Path.Combine(dir, version.ToString(CultureInfo.InvariantCulture));
        if (Directory.Exists(final)) throw new BadInputException($"{final}: version {version} of {model.Name} exists already; choose another version");
        Directory.CreateDirectory(dir);
        // A killed writer of this version may have left its hidden directory (never loadable). Only this version's: training nodes
        // of other spans write other versions of the same model beside this one, and their directories are in progress.
        foreach (var stale in Directory.GetDirectories(dir, $".partial-{version}-*")) Directory.Delete(stale, recursive: true);
        string partial = Path.Combine(dir, $".partial-{version}-{Environment.ProcessId}");
        Directory.CreateDirectory(partial);
        try
        {
            await using (var f = new FileStream(Path.Combine(partial, OnnxFileName), FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
            {
                onnx.WriteTo(f);
                await f.FlushAsync(cancellationToken).ConfigureAwait(false);
                f.Flush(flushToDisk: true);
            }
            Directory.Move(partial, final);
        }
        catch
        {
            if (Directory.Exists(partial)) Directory.Delete(partial, recursive: true);
            throw;
        }
        await ModelConfigFile.WriteAsync(Path.Combine(dir, ModelConfigFile.FileName), model.Config, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Model directories of <paramref name="root"/> (those holding a config.pbtxt), sorted by name.</summary>
    public static IReadOnlyList<string> ModelNames(string root)
    {
        if (!Directory.Exists(root)) throw new BadInputException($"{root}: model repository directory does not exist");
        return Directory.GetDirectories(root)
            .Where(d => File.Exists(Path.Combine(d, ModelConfigFile.FileName)))
            .Select(Path.GetFileName).OfType<string>()
            .Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>Version directories Triton would consider: numeric names not starting with 0, ascending.</summary>
    public static IReadOnlyList<long> Versions(string modelDirectory) =>
        Directory.GetDirectories(modelDirectory).Select(Path.GetFileName).OfType<string>()
            .Where(n => n.Length > 0 && n[0] != '0' && n.All(char.IsAsciiDigit) && long.TryParse(n, NumberStyles.None, CultureInfo.InvariantCulture, out _))
            .Select(n => long.Parse(n, CultureInfo.InvariantCulture)).Order().ToList();

    /// <summary>Reads an ONNX model file.</summary>
    public static ModelProto ReadOnnx(string path)
    {
        try
        {
            using var f = File.OpenRead(path);
            return ModelProto.Parser.ParseFrom(f);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidProtocolBufferException)
        {
            throw new BadInputException($"{path}: not a readable ONNX model: {e.Message}", e);
        }
    }
}
