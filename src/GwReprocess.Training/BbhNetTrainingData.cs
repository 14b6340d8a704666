using System.Globalization;
using GwReprocess.Data;
using GwReprocess.Dsp;
using GwReprocess.Models;
using GwReprocess.Simulation;
using GwReprocess.Time;

namespace GwReprocess.Training;

/// <summary>
/// BBHnet's training material, whitened by the repository's postproc: per detector, windows of injection-free background (cleaned
/// as the serving ensemble cleans it), and sets of injection-only windows whose sum with a background window is what the server
/// would whiten (postproc is linear), with each injection's network SNR at a reference distance to scale it to any SNR.
/// </summary>
internal sealed class BbhNetTrainingData
{
    /// <summary>Distance (Mpc) the injection sets are rendered at; scaling the waveform by ρ/ρ_ref gives network SNR ρ.</summary>
    public const double ReferenceDistanceMpc = 1000;

    private BbhNetTrainingData(BbhNetArchitecture architecture, IReadOnlyList<string> ifos, int kernel, float[][] trainNoise, float[][] validationNoise, InjectionSet train, InjectionSet validation,
        InjectionSet served, double inputScale, Segment trainSpan, Segment validationSpan, float[][] validationNetworkNoise)
    {
        Architecture = architecture;
        ServedInjections = served;
        ValidationNetworkNoise = validationNetworkNoise;
        Ifos = ifos;
        Kernel = kernel;
        TrainNoise = trainNoise;
        ValidationNoise = validationNoise;
        TrainInjections = train;
        ValidationInjections = validation;
        InputScale = inputScale;
        TrainSpan = trainSpan;
        ValidationSpan = validationSpan;
    }

    public IReadOnlyList<string> Ifos { get; }

    /// <summary>Processing rate (Hz).</summary>
    public int SampleRate { get; private init; }

    /// <summary>The layer plan whose input filter the windows went through.</summary>
    public BbhNetArchitecture Architecture { get; }

    /// <summary>Window length K (samples).</summary>
    public int Kernel { get; }

    /// <summary>Samples per detector the network proper sees: what K leaves after the fixed input filter, (K − taps) / stride + 1.</summary>
    public int NetworkLength => TrainInjections.Kernel;

    /// <summary>Training background windows as the network proper sees them (whitened, through the input filter): [detector][window · <see cref="NetworkLength"/>].</summary>
    public float[][] TrainNoise { get; }

    /// <summary>Whitened background windows of the validation part, as served to the ONNX model: [detector][window · K].</summary>
    public float[][] ValidationNoise { get; }

    /// <summary><see cref="ValidationNoise"/> through the input filter: [detector][window · <see cref="NetworkLength"/>].</summary>
    public float[][] ValidationNetworkNoise { get; }

    /// <summary>Training sources, through the input filter.</summary>
    public InjectionSet TrainInjections { get; }

    /// <summary>Validation sources, through the input filter.</summary>
    public InjectionSet ValidationInjections { get; }

    /// <summary>Further validation sources, each in every window the server would score with its coalescence inside (the run report's view).</summary>
    public InjectionSet ServedInjections { get; }

    /// <summary>What whitened the windows (the repository's postproc, or the stream whitener and its settings), for the model's description.</summary>
    public string Whitening { get; private init; } = "";

    /// <summary>1 / the standard deviation of the whitened background: the network sees whitened strain times this.</summary>
    public double InputScale { get; }

    public Segment TrainSpan { get; }

    public Segment ValidationSpan { get; }

    /// <summary>Background windows per detector in the training part.</summary>
    public int TrainWindows => TrainNoise[0].Length / NetworkLength;

    /// <summary>Background windows per detector in the validation part.</summary>
    public int ValidationWindows => ValidationNoise[0].Length / Kernel;

    /// <summary>Reads the background, cleans it with <paramref name="cleaners"/> (per detector, or none), whitens it, and renders the injection sets.</summary>
    public static async Task<BbhNetTrainingData> BuildAsync(BbhNetTrainingRequest request, IReadOnlyList<RepositoryCleaner?> cleaners, IWindowWhitener whitener,
        Action<string> log, CancellationToken cancellationToken)
    {
        var o = request.Options;
        var rate = new SampleRate(request.SampleRate);
        var cleaned = new List<double[]>();
        Segment? span = null;
        for (int d = 0; d < request.Detectors.Count; d++)
        {
            var det = request.Detectors[d];
            var frames = await FitFrames.OpenAsync(request.Fit, det.Ifo, request.Start, request.End, cancellationToken).ConfigureAwait(false);
            span ??= frames.Span;
            var names = new List<string> { det.Strain.Value };
            if (cleaners[d] is { } c) names.AddRange(c.Witnesses.Select(w => w.Value));
            log(cleaners[d] is null
                ? $"{det.Ifo}: reading {det.Strain} over {frames.Span}, resampled to {request.SampleRate} Hz"
                : $"{det.Ifo}: reading {det.Strain} and {names.Count - 1} witnesses over {frames.Span}, resampled to {request.SampleRate} Hz and cleaned by {cleaners[d]!.Name}{(cleaners[d]!.Highpass is { } hp ? $" (witnesses high-passed at {hp})" : "")}");
            var data = await frames.Source.ReadAsync(names, frames.Span, cancellationToken).ConfigureAwait(false);
            foreach (var series in data.Channels) TrainingSpanData.RefuseNonFinite(series, "BBHnet");
            cleaned.Add(cleaners[d] is { } cleaner
                ? TemplateDetectorBuild.CleanedStrain(data.Channels, cleaner.Fir, cleaner.Scaling, cleaner.Highpass, rate)
                : data.Channels[0].Resample(rate).Samples.ToArray());
        }
        int n = cleaned.Min(x => x.Length) - whitener.Trail, k = whitener.Kernel;
        int validationStart = n - (int)Math.Round(request.ValidationSeconds * request.SampleRate);
        int stride = Math.Max(1, (int)Math.Round(o.StrideSeconds * request.SampleRate));
        var trainStarts = DeepCleanTrainer.Starts(whitener.Lead, validationStart - whitener.Trail, k, stride);
        var validationStarts = DeepCleanTrainer.Starts(Math.Max(validationStart, whitener.Lead), n, k, stride);
        if (validationStart <= 0 || validationStarts.Count < 4)
            throw new BadInputException(string.Create(CultureInfo.InvariantCulture,
                $"--validation {request.ValidationSeconds} s of {span} leaves {Math.Max(0, validationStarts.Count)} validation windows or nothing to train on"));
        if (trainStarts.Count < o.BatchSize)
            throw new BadInputException(string.Create(CultureInfo.InvariantCulture,
                $"the training part of {span} holds {trainStarts.Count} windows of {k} samples, fewer than one batch of {o.BatchSize}"));
        var trainSpan = new Segment(span!.Value.Start, span.Value.Start + TimeSeries.DurationOf(validationStart, rate));
        var validationSpan = new Segment(trainSpan.End, span.Value.Start + TimeSeries.DurationOf(n, rate));

        log($"whitening {trainStarts.Count} + {validationStarts.Count} background windows per detector with {whitener.Description}");
        whitener.Prepare(cleaned, validationStart, Enumerable.Range(0, 8).Select(i => validationStarts[i * (validationStarts.Count - 1) / 7]).ToList(), log);
        // BBHnet's fixed input filter is linear: applied once to the pools here, it need not run (slowly, as a 1025-tap conv) in every
        // training step. The served validation windows stay unfiltered for the ONNX models the comparison runs.
        var plan = o.Architecture;
        var filter = plan.InputFilter(request.SampleRate);
        int decimation = plan.InputStride;
        log(string.Create(CultureInfo.InvariantCulture, $"filtering the training and validation windows with {plan.Name}'s input filter ({filter.Length} taps, {plan.InputFilterBand(request.SampleRate)})"));
        var trainNoise = Array.ConvertAll(whitener.WhitenBackground(cleaned, trainStarts), x => FixedFilter.Apply(x, k, filter, decimation, o.Threads));
        var validationNoise = whitener.WhitenBackground(cleaned, validationStarts);
        var filteredValidation = Array.ConvertAll(validationNoise, x => FixedFilter.Apply(x, k, filter, decimation, o.Threads));
        double sigma = Deviation(trainNoise);
        if (!(sigma > 0) || !double.IsFinite(sigma)) throw new BadInputException($"the whitened background of {trainSpan} is {sigma} everywhere: no data to train on");

        log(string.Create(CultureInfo.InvariantCulture,
            $"rendering {o.TrainInjections} + {o.ValidationInjections} + {o.EvaluationSources} {Waveforms.Name(o.Population.Waveform)} sources (masses {o.Population.MinMass}-{o.Population.MaxMass} Msun) at {ReferenceDistanceMpc} Mpc"));
        var ifos = request.Detectors.Select(x => x.Ifo).ToList();
        var trainSet = InjectionSet.Render(ifos, o.TrainInjections, o.Population, request.SampleRate, k, whitener, o.Seed * 2 + 1).Filtered(filter, decimation, o.Threads);
        var validationSet = InjectionSet.Render(ifos, o.ValidationInjections, o.Population, request.SampleRate, k, whitener, o.Seed * 2 + 2).Filtered(filter, decimation, o.Threads);
        log(string.Create(CultureInfo.InvariantCulture,
            $"whitened background: standard deviation {sigma:G4} after the input filter; a source at network SNR 12 keeps a median SNR of {WhitenedSnr(trainSet, 12, sigma) * BandOccupancy(plan, request.SampleRate):F1} in its window"));
        var servedSet = InjectionSet.Render(ifos, o.EvaluationSources, o.Population, request.SampleRate, k, whitener, o.Seed * 2 + 3, 1 / request.InferenceRate);
        return new BbhNetTrainingData(plan, ifos, k, trainNoise, validationNoise, trainSet, validationSet, servedSet,
            1 / sigma, trainSpan, validationSpan, filteredValidation) { SampleRate = request.SampleRate, Whitening = whitener.Description };
    }

    /// <summary>
    /// √ of the fraction of the decimated band the filtered noise fills: √(Σ s²)/σ is the SNR only for white noise, and decimated band-passed
    /// noise is white only over the pass band (1 when the filter does not decimate).
    /// </summary>
    private static double BandOccupancy(BbhNetArchitecture plan, int sampleRate) =>
        plan.LowpassHz(sampleRate) is { } top ? Math.Sqrt((top - plan.HighpassHz) / (sampleRate / (2.0 * plan.InputStride))) : 1;

    /// <summary>Median over the sources of √(Σ s²)/σ of their (filtered) windows, each source scaled to network SNR <paramref name="snr"/>: what a window holds of the optimal SNR (less: signal outside it, the band cut).</summary>
    private static double WhitenedSnr(InjectionSet set, double snr, double sigma)
    {
        int size = set.Windows.Length / set.WindowCount;
        var values = new double[set.Count];
        for (int i = 0; i < set.Count; i++)
        {
            var window = set.Windows.AsSpan(i * set.WindowsPerSource * size, size);
            values[i] = Math.Sqrt(System.Numerics.Tensors.TensorPrimitives.Dot(window, window)) / sigma * snr / set.Injections[i].NetworkSnr;
        }
        Array.Sort(values);
        return values[values.Length / 2];
    }

    /// <summary>Standard deviation over every window of every detector: the scale the network's input is brought to 1 by.</summary>
    private static double Deviation(float[][] windows)
    {
        double sum = 0, squares = 0;
        long count = 0;
        foreach (var x in windows)
        {
            foreach (float v in x) { sum += v; squares += (double)v * v; }
            count += x.Length;
        }
        double mean = sum / count;
        return Math.Sqrt(Math.Max(0, squares / count - mean * mean));
    }
}
