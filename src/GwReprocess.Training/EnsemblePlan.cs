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
    private readonly string _repository;
    private readonly string _ensemble;
    private readonly Dictionary<string, (string Model, long Version)> _cleaners;
    private readonly long _detectorVersion;

    private EnsemblePlan(string repository, string ensemble, string postprocPath, int kernel, Dictionary<string, (string, long)> cleaners, string detector, long detectorVersion)
    {
        _repository = repository;
        _ensemble = ensemble;
        PostprocPath = postprocPath;
        Kernel = kernel;
        _cleaners = cleaners;
        DetectorName = detector;
        _detectorVersion = detectorVersion;
    }

    /// <summary>The postproc version's model.onnx the ensemble runs.</summary>
    public string PostprocPath { get; }

    /// <summary>Window length K postproc and the detector take.</summary>
    public int Kernel { get; }

    /// <summary>The model answering the ensemble's <c>score</c>.</summary>
    public string DetectorName { get; }

    /// <summary>Reads <paramref name="ensemble"/> of <paramref name="repository"/> for detectors <paramref name="ifos"/>; one line naming the file and what is missing otherwise.</summary>
    public static EnsemblePlan Read(string repository, string ensemble, IReadOnlyList<string> ifos)
    {
        string path = Path.Combine(repository, ensemble, Inference.ModelConfigFile.FileName);
        if (!File.Exists(path)) throw new BadInputException($"{path}: no ensemble '{ensemble}' in {repository}");
        var steps = Inference.ModelConfigFile.Read(path).EnsembleScheduling?.Step ?? throw new BadInputException($"{path}: '{ensemble}' is not an ensemble");
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
        string postprocPath = VersionFile(repository, postproc.ModelName, postproc.ModelVersion);
        var postprocConfig = Inference.ModelConfigFile.Read(Path.Combine(repository, postproc.ModelName, Inference.ModelConfigFile.FileName));
        int kernel = checked((int)postprocConfig.Input[0].Dims[^1]);
        return new EnsemblePlan(repository, ensemble, postprocPath, kernel, cleaners, detector.ModelName, detector.ModelVersion);
    }

    /// <summary>The linear cleaner whose estimate the ensemble subtracts from <paramref name="detector"/>'s strain, or null when it subtracts none.</summary>
    public RepositoryCleaner? Cleaner(CleanerChannels detector)
    {
        if (!_cleaners.TryGetValue(detector.Ifo, out var c)) return null;
        string onnx = VersionFile(_repository, c.Model, c.Version);
        var config = Inference.ModelConfigFile.Read(Path.Combine(_repository, c.Model, Inference.ModelConfigFile.FileName));
        string why = $"{Path.Combine(_repository, c.Model)}: ensemble '{_ensemble}' cleans {detector.Ifo} with '{c.Model}' before whitening; BBHnet training reproduces a linear (Wiener) cleaner only";
        var (channels, scaling) = WienerCleaner.FromConfig(config) ?? throw new BadInputException(why);
        MultiChannelFir fir;
        try
        {
            fir = WienerFilterNetwork.ReadFir(ModelRepository.ReadOnnx(onnx), onnx);
        }
        catch (BadInputException e)
        {
            throw new BadInputException($"{why} ({e.Message})");
        }
        string version = Path.GetFileName(Path.GetDirectoryName(onnx)!);
        return new RepositoryCleaner($"{c.Model} v{version}", channels, scaling, fir);
    }

    /// <summary>The model the ensemble scores with, at the version it runs.</summary>
    public RepositoryModel ReadDetector()
    {
        string onnx = VersionFile(_repository, DetectorName, _detectorVersion);
        var config = Inference.ModelConfigFile.Read(Path.Combine(_repository, DetectorName, Inference.ModelConfigFile.FileName));
        return new RepositoryModel(DetectorName, config, ModelRepository.ReadOnnx(onnx));
    }

    /// <summary>model.onnx of <paramref name="model"/> at <paramref name="version"/> (−1: its highest).</summary>
    private static string VersionFile(string repository, string model, long version)
    {
        string dir = Path.Combine(repository, model);
        var versions = Directory.Exists(dir) ? ModelRepository.Versions(dir) : [];
        if (versions.Count == 0) throw new BadInputException($"{dir}: model '{model}' has no version in the repository");
        long v = version > 0 ? version : versions[^1];
        string path = Path.Combine(dir, v.ToString(CultureInfo.InvariantCulture), ModelRepository.OnnxFileName);
        if (!File.Exists(path)) throw new BadInputException($"{path}: no such model version");
        return path;
    }
}
