using System.Diagnostics;
using System.Globalization;
using GwReprocess.Models;
using GwReprocess.Time;
using TorchSharp;

namespace GwReprocess.Training;

/// <summary>Trains DeepClean per detector on a span, exports each to ONNX and adds it to a model repository as one version.</summary>
public static class DeepCleanTraining
{
    /// <summary>The model adding a linear cleaner's estimate and the DeepClean trained on its residual (--after-linear).</summary>
    public const string NoiseSumName = "noise-sum";

    /// <summary>Runs the request; every input is read and checked before anything is trained, and nothing is written to the repository unless every detector trained.</summary>
    public static async Task<IReadOnlyList<TrainedCleaner>> RunAsync(DeepCleanTrainingRequest request, Action<string> log, CancellationToken cancellationToken = default)
    {
        int kernel = (int)Math.Round(request.KernelSeconds * request.SampleRate);
        if (kernel % 16 != 0) throw new BadInputException($"--kernel {request.KernelSeconds} s is {kernel} samples, not a multiple of 16");
        foreach (var d in request.Detectors)
        {
            string dir = Path.Combine(request.Repository, ModelRepositoryBuilder.CleanerName(CleanerKind.DeepClean, d.Ifo));
            string version = Path.Combine(dir, request.Version.ToString(CultureInfo.InvariantCulture));
            if (Directory.Exists(version)) throw new BadInputException($"{version}: version {request.Version} exists already; choose another --version");
        }
        if (request.AfterLinear && request.EnsembleFrom is null) throw new BadInputException("--after-linear needs --ensemble-from (the ensemble whose Wiener cleaners it adds to)");
        if (request.EnsembleFrom is { } from && !File.Exists(Path.Combine(request.Repository, from, Inference.ModelConfigFile.FileName)))
            throw new BadInputException($"--ensemble-from {from}: no such model in {request.Repository}");
        var spans = new List<TrainingSpanData>();
        foreach (var d in request.Detectors)
        {
            var frames = await FitFrames.OpenAsync(request.Fit, d.Ifo, request.Start, request.End, cancellationToken).ConfigureAwait(false);
            log($"{d.Ifo}: reading {d.Witnesses.Count} witnesses and {d.Strain} over {frames.Span}, resampled to {request.SampleRate} Hz");
            spans.Add(await TrainingSpanData.ReadAsync(frames.Source, d, frames.Span, request.SampleRate, request.Bands, cancellationToken,
                SharedScaling(request, d), request.AfterLinear ? LinearCleaner(request, d) : null, request.WitnessHighpass).ConfigureAwait(false));
        }

        Directory.CreateDirectory(request.ReportDirectory);
        var models = new List<(RepositoryModel Model, TrainedCleaner Result)>();
        foreach (var data in spans)
        {
            var clock = Stopwatch.StartNew();
            int validationStart = data.Length - (int)Math.Round(request.ValidationSeconds * request.SampleRate);
            if (validationStart <= 0)
                throw new BadInputException(string.Create(CultureInfo.InvariantCulture, $"--validation {request.ValidationSeconds} s leaves nothing of {data.Span} to train on"));
            var trainSpan = new Segment(data.Span.Start, data.Span.Start + Data.TimeSeries.DurationOf(validationStart, new Data.SampleRate(request.SampleRate)));
            var validationSpan = new Segment(trainSpan.End, data.Span.End);
            log($"{data.Ifo}: training on {trainSpan}, validating on {validationSpan}, bands {Bands(request.Bands)} Hz, seed {request.Options.Seed}, {request.Options.Threads} threads");
            var (net, history) = new DeepCleanTrainer(request.Options, log).Train(data, validationStart, request.Bands);
            using (net)
            {
                string name = ModelRepositoryBuilder.CleanerName(CleanerKind.DeepClean, data.Ifo);
                var model = DeepCleanExport.Build(net, data, name, kernel, request, trainSpan);
                string stem = Path.Combine(request.ReportDirectory, $"{name}-v{request.Version}");
                double error = DeepCleanExport.CheckAgainstOnnx(net, data, model, kernel, stem + "-check.bin");
                log(string.Create(CultureInfo.InvariantCulture, $"{name}: ONNX export matches TorchSharp within {error:E2} of the peak"));
                if (error > DeepCleanExport.Tolerance)
                    throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"{name}: the ONNX export differs from TorchSharp by {error:E2} of the peak (limit {DeepCleanExport.Tolerance:E0})"));
                await TrainingReport.WriteAsync(stem, data.Ifo, history, cancellationToken).ConfigureAwait(false);
                models.Add((model, new TrainedCleaner(data.Ifo, name, request.Version, trainSpan, validationSpan, history, error, clock.Elapsed.TotalSeconds)));
            }
        }
        foreach (var (model, _) in models)
        {
            await ModelRepository.WriteVersionAsync(request.Repository, model, request.Version, cancellationToken).ConfigureAwait(false);
            log($"wrote {Path.Combine(request.Repository, model.Name, request.Version.ToString(CultureInfo.InvariantCulture))}");
        }
        await WriteEnsembleAsync(request, log, cancellationToken).ConfigureAwait(false);
        return models.Select(m => m.Result).ToList();
    }

    /// <summary>
    /// The ensemble a client of this version asks for: with --ensemble-from, the workflow's ensemble as a copy of that one running the
    /// new cleaners; otherwise, when the workflow's ensemble runs them, its copy pinned to the new version (<c>&lt;ensemble&gt;-v&lt;K&gt;</c>).
    /// </summary>
    private static async Task WriteEnsembleAsync(DeepCleanTrainingRequest request, Action<string> log, CancellationToken ct)
    {
        var cleaners = request.Detectors.Select(d => ModelRepositoryBuilder.CleanerName(CleanerKind.DeepClean, d.Ifo)).ToList();
        string name;
        if (request.EnsembleFrom is { } from)
        {
            var replacing = request.Detectors.ToDictionary(d => ModelRepositoryBuilder.CleanerName(CleanerKind.Wiener, d.Ifo), d => ModelRepositoryBuilder.CleanerName(CleanerKind.DeepClean, d.Ifo));
            // The base ensemble's later steps (post-processing, a search calibrated on the linear cleaner's output) keep that output.
            string? sum = null;
            if (request.AfterLinear)
            {
                sum = NoiseSumName;
                if (!File.Exists(Path.Combine(request.Repository, sum, Inference.ModelConfigFile.FileName)))
                {
                    var model = NoiseSumNetwork.Build(sum, (int)Math.Round(request.KernelSeconds * request.SampleRate), request.Batch);
                    await ModelRepository.WriteAsync(request.Repository, [model], ct).ConfigureAwait(false);
                }
            }
            name = await PinnedEnsemble.WriteAsync(request.Repository, from, replacing, request.Version, request.Ensemble, ct, keepReplacedForLaterSteps: true, sumModel: sum).ConfigureAwait(false);
        }
        else
        {
            string config = Path.Combine(request.Repository, request.Ensemble, Inference.ModelConfigFile.FileName);
            if (request.Ensemble.Length == 0 || !File.Exists(config))
            {
                log($"no ensemble '{request.Ensemble}' in {request.Repository} to pin the new cleaners in (--ensemble-from BASE makes one from an ensemble built around Wiener cleaners)");
                return;
            }
            var steps = Inference.ModelConfigFile.Read(config).EnsembleScheduling?.Step.Select(s => s.ModelName).ToHashSet() ?? [];
            if (!cleaners.All(steps.Contains))
            {
                log($"ensemble '{request.Ensemble}' does not run {string.Join(", ", cleaners)}; no pinned copy written (--ensemble-from {request.Ensemble} makes one that does)");
                return;
            }
            name = await PinnedEnsemble.WriteAsync(request.Repository, request.Ensemble, cleaners, request.Version, ct).ConfigureAwait(false);
        }
        log($"wrote ensemble {name}: {string.Join(", ", cleaners)} at version {request.Version}");
    }

    /// <summary>
    /// With --ensemble-from, the Wiener cleaner the new one runs beside feeds on the same witness tensor, standardised by the client
    /// with the Wiener's scales: the new cleaner is trained on those scales and takes the same input. Otherwise null (own scales, built in).
    /// </summary>
    private static IReadOnlyList<Dsp.ChannelScaling>? SharedScaling(DeepCleanTrainingRequest request, CleanerChannels d)
    {
        if (request.EnsembleFrom is null) return null;
        string config = Path.Combine(request.Repository, ModelRepositoryBuilder.CleanerName(CleanerKind.Wiener, d.Ifo), Inference.ModelConfigFile.FileName);
        if (!File.Exists(config)) throw new BadInputException($"{config}: --ensemble-from needs {d.Ifo}'s Wiener cleaner, whose witness scales the new cleaner shares");
        var wiener = Inference.ModelConfigFile.Read(config);
        var (channels, scaling) = WienerCleaner.FromConfig(wiener)
            ?? throw new BadInputException($"{config}: no {WienerCleaner.ScalingParameter} to share");
        if (!channels.SequenceEqual(d.Witnesses))
            throw new BadInputException($"{config}: witnesses {string.Join(",", channels)} differ from the workflow's {d.Ifo} witnesses (order matters)");
        // Its scales were fitted on witnesses through its own high-pass: the new cleaner can share them only through the same one.
        if (WienerCleaner.HighpassOf(wiener) is var fitted && fitted != request.WitnessHighpass)
            throw new BadInputException($"{config}: fitted on witnesses {(fitted is null ? "without a high-pass" : $"high-passed at {fitted}")}, the workflow's [cleaning] witness_highpass gives {(request.WitnessHighpass is { } h ? $"high-passed at {h}" : "none")}; rebuild it with this workflow");
        return scaling;
    }

    /// <summary>The taps of the Wiener cleaner (its highest version) a DeepClean trained with --after-linear learns the residual of.</summary>
    private static MultiChannelFir LinearCleaner(DeepCleanTrainingRequest request, CleanerChannels d)
    {
        string dir = Path.Combine(request.Repository, ModelRepositoryBuilder.CleanerName(CleanerKind.Wiener, d.Ifo));
        var versions = Directory.Exists(dir) ? ModelRepository.Versions(dir) : [];
        if (versions.Count == 0) throw new BadInputException($"{dir}: --after-linear needs {d.Ifo}'s Wiener cleaner");
        string path = Path.Combine(dir, versions[^1].ToString(CultureInfo.InvariantCulture), ModelRepository.OnnxFileName);
        return WienerFilterNetwork.ReadFir(ModelRepository.ReadOnnx(path), path);
    }

    internal static string Bands(IReadOnlyList<(double Low, double High)> bands) =>
        string.Join(", ", bands.Select(b => string.Create(CultureInfo.InvariantCulture, $"{b.Low}-{b.High}")));
}
