using System.Globalization;
using System.Text;
using GwReprocess.Inference;
using GwReprocess.IO;
using GwReprocess.Storage;
using Inference;

namespace GwReprocess.Models;

/// <summary>
/// A copy of an ensemble whose cleaner steps pin one version: <c>&lt;ensemble&gt;-v&lt;K&gt;</c>, how a client job of a trained
/// chunk asks for the cleaners trained for it.
/// </summary>
/// <remarks>
/// <para>A Triton ensemble fixes the version of every step in its config (<c>model_version</c>; -1 = the latest), and a request
/// names the ensemble's version, not its steps'. So a client cannot pick the cleaner's version through one ensemble; each
/// trained chunk gets its own ensemble that pins its cleaners' version K and leaves every other step as it was.</para>
/// <para>A server polling the repository must never see half a model: in a directory the copy is assembled in a hidden
/// temporary directory beside it and renamed into place; in a bucket (where a model is a model once its config.pbtxt
/// exists) the version directory is written first and the config last.</para>
/// <para>Each cleaner must serve K beside the versions other chunks pinned: a latest-N policy (Triton's default, latest 1)
/// would retire K as soon as K+1 is written while chunk k's clients still stream. A cleaner whose policy would not keep K
/// gets <c>version_policy { all {} }</c>, its config replaced in one write.</para>
/// </remarks>
public static class PinnedEnsemble
{
    /// <summary>The name of <paramref name="ensemble"/> pinned to <paramref name="version"/>: <c>gwe2e-v101</c>.</summary>
    public static string NameOf(string ensemble, long version) =>
        $"{ensemble}-v{version.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>
    /// Writes <c>&lt;ensemble&gt;-v&lt;version&gt;</c> into the repository at <paramref name="repository"/> (a directory or a
    /// bucket URL): <paramref name="ensemble"/>'s config with each step running one of <paramref name="cleaners"/> pinned to
    /// <paramref name="version"/>; returns the new model's name. Writing the same copy again changes nothing.
    /// </summary>
    /// <exception cref="BadInputException">The ensemble or a cleaner is missing, a cleaner is no step of the ensemble, a
    /// cleaner has no version directory <paramref name="version"/>, or a different copy of that name already exists.</exception>
    public static Task<string> WriteAsync(string repository, string ensemble, IReadOnlyList<string> cleaners, long version,
        CancellationToken cancellationToken = default) =>
        WriteAsync(repository, ensemble, cleaners.ToDictionary(c => c, c => c), version, NameOf(ensemble, version), cancellationToken);

    /// <summary>
    /// Writes <paramref name="name"/>: <paramref name="ensemble"/>'s config with each step running a key of <paramref name="cleaners"/>
    /// running its value instead, pinned to <paramref name="version"/> (how a trained DeepClean takes the place of the linear
    /// cleaner in an ensemble built around it); returns <paramref name="name"/>. With <paramref name="keepReplacedForLaterSteps"/> each
    /// replaced step stays too, feeding the steps after it (post-processing, a search calibrated on its output) under a renamed tensor,
    /// while the new cleaner answers the ensemble's own output: the cleaned strain comes from the new cleaner and the search stays on
    /// the data its calibration was made on. With <paramref name="sumModel"/> (a <see cref="NoiseSumNetwork"/>) the ensemble's output is
    /// the sum of both estimates instead: a DeepClean trained on what the linear cleaner leaves.
    /// </summary>
    public static async Task<string> WriteAsync(string repository, string ensemble, IReadOnlyDictionary<string, string> cleaners, long version, string name,
        CancellationToken cancellationToken = default, bool keepReplacedForLaterSteps = false, string? sumModel = null)
    {
        if (sumModel is not null) keepReplacedForLaterSteps = true;
        if (version <= 0) throw new ArgumentOutOfRangeException(nameof(version), "versions are positive");
        if (cleaners.Count == 0) throw new ArgumentException("name at least one cleaner", nameof(cleaners));
        var location = Location.Parse(repository);
        IRepositoryFiles files = location.IsUrl ? new BucketFiles(repository) : new DirectoryFiles(location.LocalPath ?? repository);
        using (files as IDisposable)
        {
            var config = Parse(await files.ReadConfigAsync(ensemble, cancellationToken).ConfigureAwait(false), files.Describe(ensemble));
            var steps = config.EnsembleScheduling?.Step
                ?? throw new BadInputException($"{files.Describe(ensemble)}: model '{ensemble}' is not an ensemble (no ensemble_scheduling)");
            foreach (var (replaced, cleaner) in cleaners)
            {
                if (!steps.Any(s => s.ModelName == replaced))
                    throw new BadInputException($"{files.Describe(ensemble)}: ensemble '{ensemble}' has no step running '{replaced}' (steps: {string.Join(", ", steps.Select(s => s.ModelName))})");
                if (!(await files.VersionsAsync(cleaner, cancellationToken).ConfigureAwait(false)).Contains(version))
                    throw new BadInputException($"{files.Describe(cleaner)}: model '{cleaner}' has no version {version} to pin");
            }
            foreach (var step in steps.ToList())
            {
                if (!cleaners.TryGetValue(step.ModelName, out var cleaner)) continue;
                if (keepReplacedForLaterSteps && cleaner != step.ModelName)
                {
                    var trained = step.Clone();
                    trained.ModelName = cleaner;
                    trained.ModelVersion = version;
                    int at = steps.IndexOf(step) + 1;
                    foreach (var key in step.OutputMap.Keys.ToList())
                    {
                        string tensor = step.OutputMap[key], kept = $"{tensor}_{step.ModelName}";
                        step.OutputMap[key] = kept;
                        foreach (var other in steps)
                            foreach (var input in other.InputMap.Where(i => i.Value == tensor).ToList())
                                other.InputMap[input.Key] = kept;
                        if (sumModel is null) continue;
                        // The ensemble's output becomes the sum of both estimates; the later steps keep the linear one alone.
                        string added = $"{tensor}_{cleaner}";
                        trained.OutputMap[key] = added;
                        var sum = new ModelEnsembling.Types.Step { ModelName = sumModel, ModelVersion = -1 };
                        sum.InputMap.Add(NoiseSumNetwork.LinearInput, kept);
                        sum.InputMap.Add(NoiseSumNetwork.NonlinearInput, added);
                        sum.OutputMap.Add(ModelContract.NoiseOutput, tensor);
                        steps.Insert(at, sum);
                    }
                    steps.Insert(at, trained);
                    continue;
                }
                step.ModelName = cleaner;
                step.ModelVersion = version;
            }
            config.Name = name;
            if (cleaners.Any(c => c.Key != c.Value) && config.Parameters.TryGetValue("description", out var description))
                description.StringValue += sumModel is not null
                    ? $" (cleaned output: {string.Join(", ", cleaners.Keys)} plus {string.Join(", ", cleaners.Values)} version {version.ToString(CultureInfo.InvariantCulture)} trained on what they leave, summed by {sumModel}; {string.Join(", ", cleaners.Keys)} alone still feed the steps after them)"
                    : keepReplacedForLaterSteps
                    ? $" (cleaned output from {string.Join(", ", cleaners.Values)} version {version.ToString(CultureInfo.InvariantCulture)}; {string.Join(", ", cleaners.Keys)} still feed the steps after them)"
                    : $" ({string.Join(", ", cleaners.Values)} version {version.ToString(CultureInfo.InvariantCulture)} in place of {string.Join(", ", cleaners.Keys)})";
            string text = ModelConfigFile.Format(config);

            foreach (var cleaner in cleaners.Values.Distinct()) await KeepEveryVersionAsync(files, cleaner, cancellationToken).ConfigureAwait(false);
            if (await files.ReadConfigOrNullAsync(name, cancellationToken).ConfigureAwait(false) is { } existing)
            {
                if (existing == text) return name;
                throw new BadInputException($"{files.Describe(name)}: model '{name}' already exists with another config; remove it or pin another version");
            }
            await files.WriteModelAsync(name, text, cancellationToken).ConfigureAwait(false);
            return name;
        }
    }

    private static async Task KeepEveryVersionAsync(IRepositoryFiles files, string cleaner, CancellationToken ct)
    {
        var config = Parse(await files.ReadConfigAsync(cleaner, ct).ConfigureAwait(false), files.Describe(cleaner));
        if (config.VersionPolicy?.PolicyChoiceCase == ModelVersionPolicy.PolicyChoiceOneofCase.All) return;
        config.VersionPolicy = new ModelVersionPolicy { All = new ModelVersionPolicy.Types.All() };
        await files.ReplaceConfigAsync(cleaner, ModelConfigFile.Format(config), ct).ConfigureAwait(false);
    }

    private static ModelConfig Parse(string text, string source) => ModelConfigFile.Parse(text, source);

    /// <summary>The few repository operations a pinned copy needs, over a directory or a bucket.</summary>
    private interface IRepositoryFiles
    {
        string Describe(string model);
        Task<string?> ReadConfigOrNullAsync(string model, CancellationToken ct);
        Task<IReadOnlyList<long>> VersionsAsync(string model, CancellationToken ct);
        Task ReplaceConfigAsync(string model, string text, CancellationToken ct);
        Task WriteModelAsync(string model, string configText, CancellationToken ct);

        async Task<string> ReadConfigAsync(string model, CancellationToken ct) =>
            await ReadConfigOrNullAsync(model, ct).ConfigureAwait(false) ?? throw new BadInputException($"{Describe(model)}: no such model (no {ModelConfigFile.FileName})");
    }

    private sealed class DirectoryFiles(string root) : IRepositoryFiles
    {
        public string Describe(string model) => Path.Combine(root, model, ModelConfigFile.FileName);

        public async Task<string?> ReadConfigOrNullAsync(string model, CancellationToken ct)
        {
            string path = Describe(model);
            return File.Exists(path) ? await File.ReadAllTextAsync(path, ct).ConfigureAwait(false) : null;
        }

        public Task<IReadOnlyList<long>> VersionsAsync(string model, CancellationToken ct) =>
            Task.FromResult(Directory.Exists(Path.Combine(root, model)) ? ModelRepository.Versions(Path.Combine(root, model)) : (IReadOnlyList<long>)[]);

        public Task ReplaceConfigAsync(string model, string text, CancellationToken ct) => AtomicFile.WriteAllTextAsync(Describe(model), text, ct);

        public async Task WriteModelAsync(string model, string configText, CancellationToken ct)
        {
            // Hidden (a leading '.' is no model name) and unique, beside the target so the rename stays on one filesystem.
            string temp = Path.Combine(root, $".{model}.partial-{Environment.ProcessId}-{Guid.NewGuid():N}");
            try
            {
                Directory.CreateDirectory(Path.Combine(temp, "1"));
                await File.WriteAllTextAsync(Path.Combine(temp, "1", ModelRepository.EnsemblePlaceholder), "", ct).ConfigureAwait(false);
                await File.WriteAllTextAsync(Path.Combine(temp, ModelConfigFile.FileName), configText, ct).ConfigureAwait(false);
                Directory.Move(temp, Path.Combine(root, model));
            }
            catch (IOException) when (File.Exists(Describe(model)) && File.ReadAllText(Describe(model)) == configText)
            {
                // Another writer of the same copy won the rename: the model is there, as wanted.
            }
            finally
            {
                if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
            }
        }
    }

    private sealed class BucketFiles : IRepositoryFiles, IDisposable
    {
        private readonly IBucket _bucket;
        private readonly string _prefix;

        public BucketFiles(string location)
        {
            (_bucket, var key) = BucketFactory.Open(location);
            _prefix = BucketUri.AsPrefix(key);
        }

        public string Describe(string model) => _bucket.UriOf($"{_prefix}{model}/{ModelConfigFile.FileName}").ToString();

        public async Task<string?> ReadConfigOrNullAsync(string model, CancellationToken ct)
        {
            string key = $"{_prefix}{model}/{ModelConfigFile.FileName}";
            if (!await _bucket.ExistsAsync(key, ct).ConfigureAwait(false)) return null;
            return Encoding.UTF8.GetString(await _bucket.ReadAllBytesAsync(key, ct).ConfigureAwait(false));
        }

        public async Task<IReadOnlyList<long>> VersionsAsync(string model, CancellationToken ct)
        {
            var versions = new SortedSet<long>();
            string under = $"{_prefix}{model}/";
            await foreach (var o in _bucket.ListAsync(under, ct).ConfigureAwait(false))
            {
                string first = o.Key[under.Length..].Split('/')[0];
                // Triton's rule: numeric names not starting with 0, and a directory (something below it).
                if (o.Key.Length > under.Length + first.Length && first.Length > 0 && first[0] != '0' && first.All(char.IsAsciiDigit)
                    && long.TryParse(first, NumberStyles.None, CultureInfo.InvariantCulture, out long v))
                    versions.Add(v);
            }
            return [.. versions];
        }

        public Task ReplaceConfigAsync(string model, string text, CancellationToken ct) =>
            _bucket.WriteAllBytesAsync($"{_prefix}{model}/{ModelConfigFile.FileName}", Encoding.UTF8.GetBytes(text), ct);

        public async Task WriteModelAsync(string model, string configText, CancellationToken ct)
        {
            // A bucket model exists once its config does: the version directory goes first.
            await _bucket.WriteAllBytesAsync($"{_prefix}{model}/1/{ModelRepository.EnsemblePlaceholder}", ReadOnlyMemory<byte>.Empty, ct).ConfigureAwait(false);
            await _bucket.WriteAllBytesAsync($"{_prefix}{model}/{ModelConfigFile.FileName}", Encoding.UTF8.GetBytes(configText), ct).ConfigureAwait(false);
        }

        public void Dispose() => _bucket.Dispose();
    }
}
