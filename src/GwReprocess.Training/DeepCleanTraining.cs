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
        using var repository = TrainingRepository.Open(request.Repository);
        foreach (var d in request.Detectors)
        {
            string name = ModelRepositoryBuilder.CleanerName(CleanerKind.DeepClean, d.Ifo);
            if (await repository.HasVersionAsync(name, request.Version, cancellationToken).ConfigureAwait(false))
                throw new BadInputException($"{repository.Describe(name, request.Version.ToString(CultureInfo.InvariantCulture))}: version {request.Version} exists already; choose another --version");
        }
        // A version pinned into an ensemble that already sums a linear cleaner's estimate and DeepClean's (the demo's, a DAG node's) must
        // learn what the linear cleaner leaves, as the version it succeeds did: otherwise the pinned copy subtracts the linear part twice.
        bool sums = request.EnsembleFrom is null && await SumsWithLinearAsync(repository, request.Ensemble, cancellationToken).ConfigureAwait(false);
        if (request.AfterLinear && request.EnsembleFrom is null && !sums)
            throw new BadInputException("--after-linear needs --ensemble-from (the ensemble whose Wiener cleaners it adds to)");
        bool afterLinear = request.AfterLinear || sums;
        if (sums) log($"ensemble '{request.Ensemble}' adds DeepClean's estimate to its Wiener cleaners' ({NoiseSumName}): training on what they leave");
        if (request.EnsembleFrom is { } from && await repository.ReadConfigAsync(from, cancellationToken).ConfigureAwait(false) is null)
            throw new BadInputException($"--ensemble-from {from}: no such model in {request.Repository}");
        var spans = new List<TrainingSpanData>();
        foreach (var d in request.Detectors)
        {
            var frames = await FitFrames.OpenAsync(request.Fit, d.Ifo, request.Start, request.End, cancellationToken).ConfigureAwait(false);
            log($"{d.Ifo}: reading {d.Witnesses.Count} witnesses and {d.Strain} over {frames.Span}, resampled to {request.SampleRate} Hz");
            var shared = await SharedScalingAsync(request, repository, d, log, cancellationToken).ConfigureAwait(false);
            var linear = afterLinear ? await LinearCleanerAsync(repository, d, cancellationToken).ConfigureAwait(false) : null;
            spans.Add(await TrainingSpanData.ReadAsync(frames.Source, d, frames.Span, request.SampleRate, request.Bands, cancellationToken,
                shared, linear, request.WitnessHighpass).ConfigureAwait(false));
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
                await TrainingReport.WriteAsync(stem, $"DeepClean {data.Ifo}: loss (cleaned/raw PSD in band)", history, cancellationToken).ConfigureAwait(false);
                models.Add((model, new TrainedCleaner(data.Ifo, name, request.Version, trainSpan, validationSpan, history, error, clock.Elapsed.TotalSeconds)));
            }
        }
        foreach (var (model, _) in models)
        {
            await repository.WriteVersionAsync(model, request.Version, cancellationToken).ConfigureAwait(false);
            log($"wrote {repository.Describe(model.Name, request.Version.ToString(CultureInfo.InvariantCulture))}");
        }
        await WriteEnsembleAsync(request, repository, log, cancellationToken).ConfigureAwait(false);
        return models.Select(m => m.Result).ToList();
    }

    /// <summary>
    /// The ensemble a client of this version asks for: with --ensemble-from, the workflow's ensemble as a copy of that one running the
    /// new cleaners; otherwise, when the workflow's ensemble runs them, its copy pinned to the new version (<c>&lt;ensemble&gt;-v&lt;K&gt;</c>).
    /// </summary>
    private static async Task WriteEnsembleAsync(DeepCleanTrainingRequest request, TrainingRepository repository, Action<string> log, CancellationToken ct)
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
                if (await repository.ReadConfigAsync(sum, ct).ConfigureAwait(false) is null)
                {
                    var model = NoiseSumNetwork.Build(sum, (int)Math.Round(request.KernelSeconds * request.SampleRate), request.Batch);
                    await repository.WriteModelAsync(model, ct).ConfigureAwait(false);
                }
            }
            name = await PinnedEnsemble.WriteAsync(request.Repository, from, replacing, request.Version, request.Ensemble, ct, keepReplacedForLaterSteps: true, sumModel: sum).ConfigureAwait(false);
        }
        else
        {
            string? config = request.Ensemble.Length == 0 ? null : await repository.ReadConfigAsync(request.Ensemble, ct).ConfigureAwait(false);
            if (config is null)
            {
                log($"no ensemble '{request.Ensemble}' in {request.Repository} to pin the new cleaners in (--ensemble-from BASE makes one from an ensemble built around Wiener cleaners)");
                return;
            }
            var steps = Inference.ModelConfigFile.Parse(config, repository.Describe(request.Ensemble)).EnsembleScheduling?.Step.Select(s => s.ModelName).ToHashSet() ?? [];
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
    /// The client-side standardisation the new cleaner must take, or null when it carries its own (built into its network). With
    /// --ensemble-from, the Wiener cleaner it runs beside feeds on the same witness tensor, standardised by the client with the
    /// Wiener's scales: the new cleaner is trained on those scales. Otherwise the versions of a model share one config, so a new
    /// version takes what the earlier ones take: where their config carries client-side scales (they were trained beside a Wiener
    /// cleaner, as the demo's are, and a pinned copy of that ensemble runs this version), the new one is trained on them too.
    /// </summary>
    private static async Task<IReadOnlyList<Dsp.ChannelScaling>?> SharedScalingAsync(DeepCleanTrainingRequest request, TrainingRepository repository, CleanerChannels d,
        Action<string> log, CancellationToken ct)
    {
        bool beside = request.EnsembleFrom is not null;
        string model = ModelRepositoryBuilder.CleanerName(beside ? CleanerKind.Wiener : CleanerKind.DeepClean, d.Ifo);
        string? text = await repository.ReadConfigAsync(model, ct).ConfigureAwait(false);
        if (text is null)
            return beside ? throw new BadInputException($"{repository.Describe(model)}: --ensemble-from needs {d.Ifo}'s Wiener cleaner, whose witness scales the new cleaner shares") : null;
        var config = Inference.ModelConfigFile.Parse(text, repository.Describe(model));
        if (WienerCleaner.FromConfig(config) is not { } found)
            return beside ? throw new BadInputException($"{repository.Describe(model)}: no {WienerCleaner.ScalingParameter} to share") : null;
        var (channels, scaling) = found;
        if (!beside && scaling.All(s => s == Dsp.ChannelScaling.Identity)) return null;
        if (!channels.SequenceEqual(d.Witnesses))
            throw new BadInputException($"{repository.Describe(model)}: witnesses {string.Join(",", channels)} differ from the workflow's {d.Ifo} witnesses (order matters)");
        // Those scales were fitted on witnesses through the model's own high-pass: the new cleaner can share them only through the same one.
        if (WienerCleaner.HighpassOf(config) is var fitted && fitted != request.WitnessHighpass)
            throw new BadInputException($"{repository.Describe(model)}: fitted on witnesses {(fitted is null ? "without a high-pass" : $"high-passed at {fitted}")}, the workflow's [cleaning] witness_highpass gives {(request.WitnessHighpass is { } h ? $"high-passed at {h}" : "none")}; rebuild it with this workflow");
        if (!beside) log($"{d.Ifo}: {model}'s versions take the witnesses standardised by the client ({repository.Describe(model)}); trained on those scales");
        return scaling;
    }

    /// <summary>True when <paramref name="ensemble"/> has a <see cref="NoiseSumName"/> step adding a linear cleaner's estimate to DeepClean's.</summary>
    private static async Task<bool> SumsWithLinearAsync(TrainingRepository repository, string ensemble, CancellationToken ct)
    {
        if (ensemble.Length == 0 || await repository.ReadConfigAsync(ensemble, ct).ConfigureAwait(false) is not { } text) return false;
        var steps = Inference.ModelConfigFile.Parse(text, repository.Describe(ensemble)).EnsembleScheduling?.Step;
        return steps is not null && steps.Any(s => s.ModelName == NoiseSumName);
    }

    /// <summary>The taps of the Wiener cleaner (its highest version) a DeepClean trained with --after-linear learns the residual of.</summary>
    private static async Task<MultiChannelFir> LinearCleanerAsync(TrainingRepository repository, CleanerChannels d, CancellationToken ct)
    {
        string model = ModelRepositoryBuilder.CleanerName(CleanerKind.Wiener, d.Ifo);
        var versions = await repository.VersionsAsync(model, ct).ConfigureAwait(false);
        if (versions.Count == 0) throw new BadInputException($"{repository.Describe(model, "")}: --after-linear needs {d.Ifo}'s Wiener cleaner");
        string file = $"{versions[^1].ToString(CultureInfo.InvariantCulture)}/{ModelRepository.OnnxFileName}";
        string path = repository.Describe(model, file);
        Models.Onnx.Protos.ModelProto onnx;
        try
        {
            onnx = Models.Onnx.Protos.ModelProto.Parser.ParseFrom(await repository.ReadFileAsync(model, file, ct).ConfigureAwait(false));
        }
        catch (Google.Protobuf.InvalidProtocolBufferException e)
        {
            throw new BadInputException($"{path}: not a readable ONNX model: {e.Message}", e);
        }
        return WienerFilterNetwork.ReadFir(onnx, path);
    }

    internal static string Bands(IReadOnlyList<(double Low, double High)> bands) =>
        string.Join(", ", bands.Select(b => string.Create(CultureInfo.InvariantCulture, $"{b.Low}-{b.High}")));
}
