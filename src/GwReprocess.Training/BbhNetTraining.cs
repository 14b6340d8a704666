using System.Diagnostics;
using System.Globalization;
using GwReprocess.Models;
using Inference;

namespace GwReprocess.Training;

/// <summary>Trains BBHnet on whitened background with injections, exports it to ONNX and adds it to a model repository as one version, with an ensemble that scores with it.</summary>
public static class BbhNetTraining
{
    /// <summary>The trained detector's model name.</summary>
    public static readonly string ModelName = ModelRepositoryBuilder.DetectorName(DetectorKind.BbhNet);

    /// <summary>Runs the request; the repository is read and checked before anything is trained, and written only once the export check passed.</summary>
    public static async Task<TrainedDetector> RunAsync(BbhNetTrainingRequest request, Action<string> log, CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        using var repository = TrainingRepository.Open(request.Repository);
        if (await repository.HasVersionAsync(ModelName, request.Version, cancellationToken).ConfigureAwait(false))
            throw new BadInputException($"{repository.Describe(ModelName, request.Version.ToString(CultureInfo.InvariantCulture))}: version {request.Version} exists already; choose another --version");
        if (request.Ensemble == request.EnsembleFrom) throw new BadInputException($"--ensemble {request.Ensemble} would overwrite the ensemble it is made from");
        var plan = await EnsemblePlan.ReadAsync(repository, request.EnsembleFrom, request.Detectors.Select(d => d.Ifo).ToList(), cancellationToken).ConfigureAwait(false);
        if (await repository.ReadConfigAsync(request.Ensemble, cancellationToken).ConfigureAwait(false) is not null)
            throw new BadInputException($"{repository.Describe(request.Ensemble)}: ensemble '{request.Ensemble}' exists already; choose another --ensemble");
        // Before any data is read: the ensemble's window must leave the chosen plan something to convolve.
        if (request.Options.Architecture.RefuseWindow(plan.Kernel) is { } why)
            throw new BadInputException($"{repository.Describe(request.EnsembleFrom)}: {why}; choose --architecture {BbhNetArchitecture.Paper.Name} or a longer window");
        var cleaners = new List<RepositoryCleaner?>();
        foreach (var d in request.Detectors) cleaners.Add(await plan.CleanerAsync(d, cancellationToken).ConfigureAwait(false));
        var detectorModel = await plan.ReadDetectorAsync(cancellationToken).ConfigureAwait(false);

        using IWindowWhitener whitener = plan.Stream is { } stream ? new StreamWindowWhitener(stream, plan.Postproc, request.SampleRate, request.Options.Threads)
            : new PostprocWhitener(plan.Postproc, request.Detectors.Select(d => d.Ifo).ToList(), plan.Kernel);
        var data = await BbhNetTrainingData.BuildAsync(request, cleaners, whitener, log, cancellationToken).ConfigureAwait(false);
        log(string.Create(CultureInfo.InvariantCulture,
            $"bbhnet: training on {data.TrainSpan} ({data.TrainWindows} windows per detector), validating on {data.ValidationSpan} ({data.ValidationWindows}), seed {request.Options.Seed}, {request.Options.Threads} threads"));
        var (net, history) = new BbhNetTrainer(request.Options, log).Train(data);
        using (net)
        {
            var model = BbhNetExport.Build(net, data, ModelName, request);
            Directory.CreateDirectory(request.ReportDirectory);
            string stem = Path.Combine(request.ReportDirectory, $"{ModelName}-v{request.Version}");
            double error = BbhNetExport.CheckAgainstOnnx(net, data, model, stem + "-check.bin");
            log(string.Create(CultureInfo.InvariantCulture, $"{ModelName}: ONNX export matches TorchSharp within {error:E2} of the largest score"));
            if (error > BbhNetExport.Tolerance)
                throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"{ModelName}: the ONNX export differs from TorchSharp by {error:E2} (limit {BbhNetExport.Tolerance:E0})"));
            await TrainingReport.WriteAsync(stem, $"BBHnet {string.Join("+", data.Ifos)}: loss (binary cross-entropy, half the windows injected)", history, cancellationToken).ConfigureAwait(false);

            log($"comparing {ModelName} with the ensemble's {plan.DetectorName} on the validation data");
            var figures = BbhNetEvaluation.Compare(data, [($"{ModelName} v{request.Version}", model), (plan.DetectorName, detectorModel)], slides: 8);
            await BbhNetEvaluation.WriteAsync(stem, figures, request.WindowsPerHour, cancellationToken).ConfigureAwait(false);
            var comparison = new List<string>();
            foreach (var f in figures)
                comparison.Add($"{f.Model}: threshold {f.Threshold.ToString("G4", CultureInfo.InvariantCulture)}; efficiency at network SNR "
                    + string.Join(", ", BbhNetEvaluation.Snrs.Select((s, i) => string.Create(CultureInfo.InvariantCulture, $"{s}: {f.Efficiency[i]:F2}"))));
            foreach (var line in comparison) log(line);

            await repository.WriteVersionAsync(model, request.Version, cancellationToken).ConfigureAwait(false);
            log($"wrote {repository.Describe(ModelName, request.Version.ToString(CultureInfo.InvariantCulture))}");
            string ensemble = await PinnedEnsemble.WriteAsync(request.Repository, request.EnsembleFrom, new Dictionary<string, string> { [plan.DetectorName] = ModelName },
                request.Version, request.Ensemble, cancellationToken).ConfigureAwait(false);
            log($"wrote ensemble {ensemble}: {request.EnsembleFrom} scoring with {ModelName} version {request.Version}");
            return new TrainedDetector(ModelName, request.Version, ensemble, data.TrainSpan, data.ValidationSpan, history, error, clock.Elapsed.TotalSeconds, comparison);
        }
    }
}
