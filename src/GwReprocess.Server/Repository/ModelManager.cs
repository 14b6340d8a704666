using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Grpc.Core;
using GwReprocess.Inference;
using GwReprocess.Models;
using GwReprocess.Server.Execution;
using GwReprocess.Server.Metrics;
using GwReprocess.Server.Scheduling;
using Inference;
using Microsoft.ML.OnnxRuntime;
using InferenceResult = GwReprocess.Server.Execution.InferenceResult;

namespace GwReprocess.Server.Repository;

/// <summary>Model control as in Triton: <c>none</c> loads everything at start (and follows the repository when polling), <c>explicit</c> loads on request.</summary>
public enum ModelControlMode { None, Explicit }

/// <summary>One row of RepositoryIndex.</summary>
public sealed record ModelIndexEntry(string Name, string Version, string State, string Reason);

/// <summary>The loaded models: loads versions per version_policy, swaps them in on reload without dropping in-flight requests, and routes requests (sequences stay on the version that started them).</summary>
public sealed class ModelManager : IDisposable, IAsyncDisposable
{
    private sealed class ModelEntry(string name, string configText, ModelConfig config, SortedDictionary<long, ModelVersion> versions, string reason)
    {
        public string Name { get; } = name;
        public string ConfigText { get; } = configText;
        public ModelConfig Config { get; } = config;
        public SortedDictionary<long, ModelVersion> Versions { get; } = versions;
        public string Reason { get; } = reason;
        public IReadOnlyList<long> VersionSet { get; init; } = [];
        public ConcurrentDictionary<SequenceId, ModelVersion> Affinity { get; init; } = new();
    }

    private readonly IModelRepositoryStore _store;
    private readonly OnnxSessionSettings _settings;
    private readonly Action<string> _log;
    private readonly ConcurrentDictionary<string, ModelEntry> _models = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _changes = new(1, 1);

    public ModelManager(IModelRepositoryStore store, ModelControlMode mode, OnnxSessionSettings settings, Action<string> log)
    {
        _store = store;
        Mode = mode;
        _settings = settings;
        _log = log;
    }

    public ModelControlMode Mode { get; }

    public IModelRepositoryStore Store => _store;

    /// <summary>Ready model versions (for metrics and statistics).</summary>
    public IEnumerable<ModelVersion> ReadyVersions => _models.Values.SelectMany(m => m.Versions.Values);

    public int ReadyModelCount => _models.Values.Count(m => m.Versions.Count > 0);

    /// <summary>Loads every model of the repository (mode none); ensembles after the models they call.</summary>
    public async Task LoadAllAsync(CancellationToken cancellationToken)
    {
        foreach (var name in await _store.ListModelsAsync(cancellationToken).ConfigureAwait(false))
        {
            try { await LoadAsync(name, cancellationToken).ConfigureAwait(false); }
            catch (Exception e) when (e is InferenceException or BadInputException or OnnxRuntimeException)
            {
                _log($"model '{name}': load failed: {e.Message}");
            }
        }
    }

    /// <summary>(Re)loads a model: unchanged versions are kept, new ones loaded, dropped ones retired once drained.</summary>
    public async Task LoadAsync(string name, CancellationToken cancellationToken)
    {
        if (!ModelNames.IsValid(name)) throw InferenceException.Invalid($"'{name}': not a valid model name");
        await _changes.WaitAsync(cancellationToken).ConfigureAwait(false);
        try { await LoadLockedAsync(name, [], cancellationToken).ConfigureAwait(false); }
        finally { _changes.Release(); }
    }

    private async Task LoadLockedAsync(string name, HashSet<string> loading, CancellationToken cancellationToken)
    {
        if (!loading.Add(name)) throw InferenceException.Invalid($"model '{name}': ensemble steps form a cycle");
        var models = await _store.ListModelsAsync(cancellationToken).ConfigureAwait(false);
        if (!models.Contains(name)) throw InferenceException.NotFound($"failed to load '{name}', failed to poll from model repository");
        string text;
        ModelConfig config;
        try
        {
            text = Encoding.UTF8.GetString(await _store.ReadFileAsync(name, ModelConfigFile.FileName, cancellationToken).ConfigureAwait(false));
            config = ModelConfigFile.Parse(text, $"{_store.Location}/{name}/{ModelConfigFile.FileName}");
        }
        catch (BadInputException e) { throw InferenceException.Invalid(e.Message); }
        if (config.Name.Length > 0 && config.Name != name)
            throw InferenceException.Invalid($"model '{name}': config name '{config.Name}' does not match the directory name");
        Normalize(name, config, _settings.Gpus);
        var available = await _store.ListVersionsAsync(name, cancellationToken).ConfigureAwait(false);
        var wanted = Policy(config.VersionPolicy, available);
        if (wanted.Count == 0)
            throw InferenceException.Invalid($"failed to load '{name}': at least one version must be available under the version policy of model '{name}'");

        if (config.Platform == ModelConfigs.EnsemblePlatform || config.EnsembleScheduling is not null)
            foreach (var step in config.EnsembleScheduling?.Step ?? [])
                if (!_models.TryGetValue(step.ModelName, out var dep) || dep.Versions.Count == 0)
                    await LoadLockedAsync(step.ModelName, loading, cancellationToken).ConfigureAwait(false);

        _models.TryGetValue(name, out var old);
        bool sameConfig = old is not null && old.ConfigText == text;
        if (sameConfig && old!.VersionSet.SequenceEqual(wanted)) return;

        var versions = new SortedDictionary<long, ModelVersion>();
        var failures = new List<string>();
        try
        {
            foreach (var v in wanted)
            {
                if (sameConfig && old!.Versions.TryGetValue(v, out var kept)) { versions[v] = kept; continue; }
                var sw = Stopwatch.StartNew();
                try
                {
                    var mv = await LoadVersionAsync(name, v, config, cancellationToken).ConfigureAwait(false);
                    mv.SequenceFreed += ForgetSequence;
                    mv.Statistics.LoadSeconds = sw.Elapsed.TotalSeconds;
                    versions[v] = mv;
                    string what = mv is OnnxModelVersion o ? $"{config.Platform}, {o.Instances} instance(s) on {o.Device}" : "ensemble";
                    _log($"loaded model '{name}' version {v} ({what}) in {sw.ElapsedMilliseconds} ms");
                    if (mv is OnnxModelVersion placed)
                    {
                        if (placed.Fallback is { } why) _log($"model '{name}' version {v}: KIND_GPU instances run on the CPU (--allow-cpu-fallback): {why}");
                        foreach (var line in placed.DescribeInstances()) _log(line);
                    }
                }
                catch (Exception e) when (e is InferenceException or BadInputException or OnnxRuntimeException)
                {
                    failures.Add($"version {v}: {e.Message}");
                    _log($"model '{name}' version {v}: load failed: {e.Message}");
                }
            }
        }
        catch
        {
            // Cancelled or failed part way: versions loaded here serve nobody, and their instance threads would keep them alive.
            foreach (var (v, mv) in versions)
                if (old is null || !old.Versions.TryGetValue(v, out var kept) || !ReferenceEquals(kept, mv)) mv.Retire();
            throw;
        }
        var entry = new ModelEntry(name, text, config, versions, string.Join("; ", failures))
        {
            VersionSet = wanted,
            Affinity = old?.Affinity ?? new ConcurrentDictionary<SequenceId, ModelVersion>(),
        };
        _models[name] = entry;
        if (old is not null)
            foreach (var (v, mv) in old.Versions)
                if (!entry.Versions.TryGetValue(v, out var now) || !ReferenceEquals(now, mv))
                {
                    mv.Retire();
                    _log($"retired model '{name}' version {v} (in-flight requests and live sequences finish on it)");
                }
        if (versions.Count == 0) throw InferenceException.Invalid($"failed to load '{name}': {entry.Reason}");
    }

    private async Task<ModelVersion> LoadVersionAsync(string name, long version, ModelConfig config, CancellationToken cancellationToken)
    {
        if (config.Platform == ModelConfigs.EnsemblePlatform)
        {
            if (config.EnsembleScheduling is null || config.EnsembleScheduling.Step.Count == 0)
                throw InferenceException.Invalid($"ensemble '{name}' has no ensemble_scheduling steps");
            return new EnsembleModelVersion(name, version, config, InferAsync);
        }
        if (config.Platform != ModelConfigs.OnnxPlatform && config.Backend != "onnxruntime")
            throw new InferenceException(StatusCode.Unimplemented, $"model '{name}': platform '{config.Platform}' backend '{config.Backend}' is not served by gwrepro serve (ONNX Runtime and ensembles only)");
        string file = string.IsNullOrEmpty(config.DefaultModelFilename) ? ModelRepository.OnnxFileName : config.DefaultModelFilename;
        var onnx = await _store.ReadFileAsync(name, $"{version}/{file}", cancellationToken).ConfigureAwait(false);
        var initial = new Dictionary<string, byte[]>();
        foreach (var st in config.SequenceBatching?.State ?? [])
            foreach (var init in st.InitialState)
                if (init.StateDataCase == ModelSequenceBatching.Types.InitialState.StateDataOneofCase.DataFile)
                    initial[init.DataFile] = await _store.ReadFileAsync(name, $"initial_state/{init.DataFile}", cancellationToken).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        // On a model thread: ONNX Runtime's intra-op threads are made while the session loads and take that thread's name and priority.
        return await ModelThreads.RunAsync($"load {name} v{version}", () => OnnxModelVersion.Load(name, version, config, onnx, _settings, f => initial[f])).ConfigureAwait(false);
    }

    /// <summary>Triton's defaults, so the ModelConfig RPC returns what Triton would.</summary>
    private static void Normalize(string name, ModelConfig config, GpuEnvironment gpus)
    {
        config.Name = name;
        config.VersionPolicy ??= new ModelVersionPolicy { Latest = new ModelVersionPolicy.Types.Latest { NumVersions = 1 } };
        if (config.Platform == ModelConfigs.OnnxPlatform || config.Backend == "onnxruntime")
        {
            config.Platform = ModelConfigs.OnnxPlatform;
            config.Backend = "onnxruntime";
            if (config.DefaultModelFilename.Length == 0) config.DefaultModelFilename = ModelRepository.OnnxFileName;
            if (config.InstanceGroup.Count == 0) config.InstanceGroup.Add(new ModelInstanceGroup { Count = 1 });
            // Triton's KIND_AUTO: KIND_GPU when it names GPUs or GPUs can be used, else KIND_CPU (PlacementPlan places it the same way).
            for (int i = 0; i < config.InstanceGroup.Count; i++)
            {
                var g = config.InstanceGroup[i];
                if (g.Name.Length == 0) g.Name = config.InstanceGroup.Count == 1 ? name : $"{name}_{i}";
                if (g.Count == 0) g.Count = 1;
                if (g.Kind == ModelInstanceGroup.Types.Kind.Auto)
                    g.Kind = g.Gpus.Count > 0 || gpus.GpusUsable ? ModelInstanceGroup.Types.Kind.Gpu : ModelInstanceGroup.Types.Kind.Cpu;
                // Triton lists the GPUs a KIND_GPU group got when it named none.
                if (g.Kind == ModelInstanceGroup.Types.Kind.Gpu && g.Gpus.Count == 0 && gpus.GpusUsable) g.Gpus.AddRange(Enumerable.Range(0, gpus.Visible.Count));
            }
        }
        if (config.SequenceBatching is { MaxSequenceIdleMicroseconds: 0 } sb) sb.MaxSequenceIdleMicroseconds = 1_000_000;
        if (config.DynamicBatching is { PreferredBatchSize.Count: 0 } db && config.MaxBatchSize > 0) db.PreferredBatchSize.Add(config.MaxBatchSize);
    }

    /// <summary>Versions to serve: latest N, all, or the listed ones that exist.</summary>
    public static IReadOnlyList<long> Policy(ModelVersionPolicy? policy, IReadOnlyList<long> available) =>
        policy?.PolicyChoiceCase switch
        {
            ModelVersionPolicy.PolicyChoiceOneofCase.All => [.. available],
            ModelVersionPolicy.PolicyChoiceOneofCase.Specific => [.. available.Where(policy.Specific.Versions.Contains)],
            ModelVersionPolicy.PolicyChoiceOneofCase.Latest => [.. available.TakeLast((int)Math.Max(1, policy.Latest.NumVersions))],
            _ => [.. available.TakeLast(1)],
        };

    public async Task UnloadAsync(string name, CancellationToken cancellationToken)
    {
        await _changes.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_models.TryRemove(name, out var entry)) throw InferenceException.NotFound($"failed to unload '{name}', model is not loaded");
            foreach (var (v, mv) in entry.Versions)
            {
                mv.Retire();
                _log($"unloaded model '{name}' version {v}");
            }
        }
        finally { _changes.Release(); }
    }

    /// <summary>One poll of the repository: new and changed models (re)load, removed ones unload; a failing new version leaves the serving ones in place.</summary>
    public async Task PollAsync(CancellationToken cancellationToken)
    {
        var names = await _store.ListModelsAsync(cancellationToken).ConfigureAwait(false);
        foreach (var name in names)
        {
            if (Mode == ModelControlMode.Explicit && !_models.ContainsKey(name)) continue;
            try { await LoadAsync(name, cancellationToken).ConfigureAwait(false); }
            catch (Exception e) when (e is InferenceException or BadInputException or OnnxRuntimeException)
            {
                _log($"model '{name}': reload failed, still serving what was loaded: {e.Message}");
            }
        }
        foreach (var gone in _models.Keys.Where(k => !names.Contains(k)).ToList())
        {
            try { await UnloadAsync(gone, cancellationToken).ConfigureAwait(false); }
            catch (InferenceException) { }
        }
    }

    public async Task<IReadOnlyList<ModelIndexEntry>> IndexAsync(bool readyOnly, CancellationToken cancellationToken)
    {
        var rows = new List<ModelIndexEntry>();
        foreach (var name in await _store.ListModelsAsync(cancellationToken).ConfigureAwait(false))
        {
            if (_models.TryGetValue(name, out var e))
            {
                foreach (var v in e.Versions.Keys) rows.Add(new(name, v.ToString(CultureInfo.InvariantCulture), "READY", ""));
                if (e.Versions.Count == 0 && !readyOnly) rows.Add(new(name, "", "UNAVAILABLE", e.Reason));
            }
            else if (!readyOnly) rows.Add(new(name, "", "UNAVAILABLE", "unloaded"));
        }
        return rows;
    }

    /// <summary>The config of a known model (NOT_FOUND otherwise).</summary>
    public ModelConfig Config(string name, string version)
    {
        var v = Acquire(name, version, SequenceId.None, false);
        try { return v.Config; }
        finally { v.Release(); }
    }

    /// <summary>Versions of a model ready to serve; NOT_FOUND when the model is unknown.</summary>
    public IReadOnlyList<long> Versions(string name) =>
        _models.TryGetValue(name, out var e) ? [.. e.Versions.Keys] : throw InferenceException.NotFound($"Request for unknown model: '{name}' is not found");

    /// <summary>A sequence freed by its version (END, idle timeout, failed START) no longer routes there; without this an idled-out sequence's pin stayed forever.</summary>
    private void ForgetSequence(ModelVersion version, SequenceId sequence)
    {
        if (_models.TryGetValue(version.Name, out var e)) e.Affinity.TryRemove(KeyValuePair.Create(sequence, version));
    }

    /// <summary>Sequences currently pinned to a version of <paramref name="name"/> (diagnostics and tests).</summary>
    internal int PinnedSequences(string name) => _models.TryGetValue(name, out var e) ? e.Affinity.Count : 0;

    /// <summary>Picks the version for a request and leases it; the caller must Release it.</summary>
    public ModelVersion Acquire(string name, string version, SequenceId sequence, bool start)
    {
        if (!_models.TryGetValue(name, out var entry)) throw InferenceException.NotFound($"Request for unknown model: '{name}' is not found");
        if (version.Length > 0)
        {
            if (!long.TryParse(version, NumberStyles.None, CultureInfo.InvariantCulture, out long v) || !entry.Versions.TryGetValue(v, out var mv) || !mv.TryAcquire())
                throw InferenceException.NotFound($"Request for unknown model: '{name}' version {version} is not found");
            return mv;
        }
        bool stateful = entry.Config.SequenceBatching is not null && !sequence.IsNone;
        if (stateful && !start && entry.Affinity.TryGetValue(sequence, out var pinned) && pinned.TryAcquire())
            return pinned;
        for (int attempt = 0; attempt < 3; attempt++)
        {
            var current = _models.TryGetValue(name, out var e) ? e : entry;
            if (current.Versions.Count == 0) throw InferenceException.Unavailable($"Request for unknown model: '{name}' has no available versions ({current.Reason})");
            var latest = current.Versions.Last().Value;
            if (!latest.TryAcquire()) continue;
            if (stateful) current.Affinity[sequence] = latest;
            return latest;
        }
        throw InferenceException.Unavailable($"model '{name}' is being reloaded, retry");
    }

    /// <summary>Runs a decoded request on the version the policy picks, recording success or failure; ensemble steps come through here.</summary>
    public async Task<InferenceResult> InferAsync(InferenceRequest request, CancellationToken cancellationToken)
    {
        var v = Acquire(request.ModelName, request.ModelVersion, request.Sequence, request.SequenceStart);
        try { return await InferAsync(v, request, cancellationToken).ConfigureAwait(false); }
        finally { v.Release(); }
    }

    /// <summary>Runs a request on an already leased version.</summary>
    public async Task<InferenceResult> InferAsync(ModelVersion v, InferenceRequest request, CancellationToken cancellationToken)
    {
        // Triton counts an ensemble's own request as scheduled at once (its steps are pending in their models).
        if (v is not EnsembleModelVersion) request.EnterPending(v.Statistics);
        try
        {
            var result = await v.InferAsync(request, cancellationToken).ConfigureAwait(false);
            if (request.SequenceEnd && !request.Sequence.IsNone && _models.TryGetValue(v.Name, out var e)) e.Affinity.TryRemove(request.Sequence, out _);
            return result;
        }
        catch (Exception e)
        {
            v.Statistics.RecordFailure(request.ArrivalTimestamp, FailureReasonOf(v, e));
            throw;
        }
        finally
        {
            request.LeavePending();
        }
    }

    /// <summary>Triton's failure reasons: its core reports an ensemble's failures as OTHER whatever the step's reason was.</summary>
    internal static FailureReason FailureReasonOf(ModelVersion v, Exception e) => e switch
    {
        _ when v is EnsembleModelVersion => FailureReason.Other,
        InferenceException { IsRejection: true } => FailureReason.Rejected,
        OperationCanceledException => FailureReason.Canceled,
        InferenceException { IsBackend: true } => FailureReason.Backend,
        _ => FailureReason.Other,
    };

    public void Dispose()
    {
        foreach (var e in _models.Values)
            foreach (var v in e.Versions.Values) v.Dispose();
        _models.Clear();
    }

    /// <summary>Unloads every version and completes once executions running on them have finished and their sessions are gone.</summary>
    public async ValueTask DisposeAsync()
    {
        var versions = _models.Values.SelectMany(e => e.Versions.Values).ToList();
        _models.Clear();
        foreach (var v in versions) await v.DisposeAsync().ConfigureAwait(false);
    }
}
