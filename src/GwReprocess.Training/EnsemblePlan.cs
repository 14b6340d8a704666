using System.Globalization;
using GwReprocess.Models;
using Inference;

namespace GwReprocess.Training;

/// <summary>
/// What a serving ensemble does before its detector, read from its config: which postproc whitens, which cleaner's estimate each
/// detector's strain loses first, and which model answers <c>score</c> — so training data can be prepared exactly as it is served.
/// </summary>
internal sealed class EnsemblePlan
{
    private readonly TrainingRepository _repository;
    private readonly string _ensemble;
    private readonly Dictionary<string, (string Model, long Version)> _cleaners;
    private readonly long _detectorVersion;

    private EnsemblePlan(TrainingRepository repository, string ensemble, byte[] postproc, int kernel, Dictionary<string, (string, long)> cleaners, string detector, long detectorVersion,
        StreamWhitenerSettings? stream)
    {
        Stream = stream;
        _repository = repository;
        _ensemble = ensemble;
        Postproc = postproc;
        Kernel = kernel;
        _cleaners = cleaners;
        DetectorName = detector;
        _detectorVersion = detectorVersion;
    }

    /// <summary>The stream whitener's settings when the detector's input comes from one (<c>architecture: whitener</c>), else null (postproc's fixed FIR).</summary>
    public StreamWhitenerSettings? Stream { get; }

    /// <summary>The postproc (or whitener) version's model.onnx the ensemble runs.</summary>
    public byte[] Postproc { get; }

    /// <summary>Window length K postproc and the detector take.</summary>
    public int Kernel { get; }

    /// <summary>The model answering the ensemble's <c>score</c>.</summary>
    public string DetectorName { get; }

    /// <summary>Reads <paramref name="ensemble"/> of <paramref name="repository"/> for detectors <paramref name="ifos"/>; one line naming the file and what is missing otherwise.</summary>
    public static async Task<EnsemblePlan> ReadAsync(TrainingRepository repository, string ensemble, IReadOnlyList<string> ifos, CancellationToken ct)
    {
        string path = repository.Describe(ensemble);
        var steps = (await ConfigAsync(repository, ensemble, ct).ConfigureAwait(false)
                ?? throw new BadInputException($"{path}: no ensemble '{ensemble}' in the repository")).EnsembleScheduling?.Step
            ?? throw new BadInputException($"{path}: '{ensemble}' is not an ensemble");
        var detector = steps.FirstOrDefault(s => s.OutputMap.TryGetValue(ModelContract.ScoreOutput, out var t) && t == ModelContract.ScoreOutput)
            ?? throw new BadInputException($"{path}: no step of '{ensemble}' answers '{ModelContract.ScoreOutput}'");
        string whitened = detector.InputMap.TryGetValue(ModelContract.DetectorInput, out var w) ? w
            : throw new BadInputException($"{path}: step '{detector.ModelName}' takes no '{ModelContract.DetectorInput}'");
        var postproc = steps.FirstOrDefault(s => s.OutputMap.Values.Contains(whitened) && s.ModelName != detector.ModelName)
            ?? throw new BadInputException($"{path}: no step of '{ensemble}' produces '{whitened}', the input of '{detector.ModelName}'");
        var cleaners = new Dictionary<string, (string, long)>();
        foreach (var ifo in ifos)
        {
            if (!postproc.InputMap.TryGetValue(Postprocessor.NoiseInput(ifo), out var noise)) continue;
            var cleaner = steps.FirstOrDefault(s => s.OutputMap.Values.Contains(noise))
                ?? throw new BadInputException($"{path}: no step produces '{noise}', {ifo}'s noise estimate for '{postproc.ModelName}'");
            cleaners[ifo] = (cleaner.ModelName, cleaner.ModelVersion);
        }
        var postprocConfig = await ConfigAsync(repository, postproc.ModelName, ct).ConfigureAwait(false)
            ?? throw new BadInputException($"{repository.Describe(postproc.ModelName)}: no model '{postproc.ModelName}', which '{ensemble}' runs");
        int kernel = checked((int)postprocConfig.Output[0].Dims[^1]);
        var parameters = postprocConfig.Parameters.ToDictionary(p => p.Key, p => p.Value.StringValue, StringComparer.Ordinal);
        var stream = parameters.TryGetValue("architecture", out var architecture) && architecture == StreamWhitener.Architecture
            ? StreamWhitenerSettings.FromParameters(postproc.ModelName, parameters, kernel) : null;
        byte[] onnx = await VersionFileAsync(repository, postproc.ModelName, postproc.ModelVersion, ct).ConfigureAwait(false);
        return new EnsemblePlan(repository, ensemble, onnx, kernel, cleaners, detector.ModelName, detector.ModelVersion, stream);
    }

    /// <summary>The linear cleaner whose estimate the ensemble subtracts from <paramref name="detector"/>'s strain, or null when it subtracts none.</summary>
    public async Task<RepositoryCleaner?> CleanerAsync(CleanerChannels detector, CancellationToken ct)
    {
        if (!_cleaners.TryGetValue(detector.Ifo, out var c)) return null;
        string why = $"{_repository.Describe(c.Model)}: ensemble '{_ensemble}' cleans {detector.Ifo} with '{c.Model}' before whitening; BBHnet training reproduces a linear (Wiener) cleaner only";
        var config = await ConfigAsync(_repository, c.Model, ct).ConfigureAwait(false) ?? throw new BadInputException(why);
        var (channels, scaling) = WienerCleaner.FromConfig(config) ?? throw new BadInputException(why);
        long version = await ResolveAsync(_repository, c.Model, c.Version, ct).ConfigureAwait(false);
        string file = $"{version.ToString(CultureInfo.InvariantCulture)}/{ModelRepository.OnnxFileName}";
        MultiChannelFir fir;
        try
        {
            var onnx = Models.Onnx.Protos.ModelProto.Parser.ParseFrom(await _repository.ReadFileAsync(c.Model, file, ct).ConfigureAwait(false));
            fir = WienerFilterNetwork.ReadFir(onnx, _repository.Describe(c.Model, file));
        }
        catch (Exception e) when (e is BadInputException or Google.Protobuf.InvalidProtocolBufferException)
        {
            throw new BadInputException($"{why} ({e.Message})");
        }
        return new RepositoryCleaner($"{c.Model} v{version.ToString(CultureInfo.InvariantCulture)}", channels, scaling, fir, WienerCleaner.HighpassOf(config));
    }

    /// <summary>The model the ensemble scores with, at the version it runs.</summary>
    public async Task<RepositoryModel> ReadDetectorAsync(CancellationToken ct)
    {
        var config = await ConfigAsync(_repository, DetectorName, ct).ConfigureAwait(false)
            ?? throw new BadInputException($"{_repository.Describe(DetectorName)}: no model '{DetectorName}', which '{_ensemble}' scores with");
        var onnx = Models.Onnx.Protos.ModelProto.Parser.ParseFrom(await VersionFileAsync(_repository, DetectorName, _detectorVersion, ct).ConfigureAwait(false));
        return new RepositoryModel(DetectorName, config, onnx);
    }

    private static async Task<ModelConfig?> ConfigAsync(TrainingRepository repository, string model, CancellationToken ct) =>
        await repository.ReadConfigAsync(model, ct).ConfigureAwait(false) is { } text ? Inference.ModelConfigFile.Parse(text, repository.Describe(model)) : null;

    /// <summary><paramref name="version"/>, or the model's highest when it is −1 (an ensemble step's "latest").</summary>
    private static async Task<long> ResolveAsync(TrainingRepository repository, string model, long version, CancellationToken ct)
    {
        var versions = await repository.VersionsAsync(model, ct).ConfigureAwait(false);
        if (versions.Count == 0) throw new BadInputException($"{repository.Describe(model, "")}: model '{model}' has no version in the repository");
        long v = version > 0 ? version : versions[^1];
        if (!versions.Contains(v)) throw new BadInputException($"{repository.Describe(model, v.ToString(CultureInfo.InvariantCulture))}: no such model version");
        return v;
    }

    private static async Task<byte[]> VersionFileAsync(TrainingRepository repository, string model, long version, CancellationToken ct)
    {
        long v = await ResolveAsync(repository, model, version, ct).ConfigureAwait(false);
        return await repository.ReadFileAsync(model, $"{v.ToString(CultureInfo.InvariantCulture)}/{ModelRepository.OnnxFileName}", ct).ConfigureAwait(false);
    }
}
