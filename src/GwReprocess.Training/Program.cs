using System.Globalization;
using GwReprocess;
using GwReprocess.Models;
using GwReprocess.Time;
using GwReprocess.Training;
using GwReprocess.Workflow;

// gwrepro-train: parses options, finds a host LibTorch can run on, and hands a typed request to the training library.
const string Usage = """
usage: gwrepro-train deepclean --workflow W --fit FRAMES|CACHE|DIR --out REPO [options]

Trains DeepClean per detector of the workflow on [--start, --end) of the frames (the last --validation seconds held
out), exports each to the project's ONNX DeepClean and adds it to the model repository REPO as version --version
(deepclean-<ifo>/<version>/model.onnx, written atomically). REPO is a directory or a bucket prefix (s3://BUCKET/PREFIX,
gs://BUCKET/PREFIX; endpoint and credentials from the environment as for gwrepro's other bucket URLs): there the version
is one object put under its final key before the config, so a server polling the bucket never sees part of one.

  --start GPS, --end GPS    span to train and validate on (default: the extent of the frames)
  --validation S            seconds at the end of the span held out for validation (default 64)
  --version N               version written for every detector (default 1; an existing one is refused)
  --band LOW-HIGH           band (Hz) to clean; repeat for several (default: the workflow's [cleaning] band)
  --ensemble-from BASE      write the workflow's ensemble as BASE with its wiener-<ifo> steps running the new
                            deepclean-<ifo> (otherwise <ensemble>-v<version> is written when the ensemble runs them)
  --after-linear yes        with --ensemble-from: train on what the Wiener cleaners leave of the strain; the ensemble's noise
                            is then their estimate plus DeepClean's (a noise-sum model adds them)
  --kernel S, --batch B     the served model's window and batch (default 1 s and the workflow's [inference] batch)
  --epochs N                passes over the training windows at most (default 20)
  --batch-size N            windows per optimiser step (default 16)
  --window S, --stride S    training window length and step, seconds (default 4 and 0.5)
  --lr X                    Adam's learning rate (default 0.01)
  --psd-weight X            weight of the PSD-ratio loss; 1 - X goes to MSE (default 1)
  --fft S, --overlap S      the loss's Welch segment and overlap, seconds (default 1 and 0.5; at most --window)
  --seed N, --threads N     seed and LibTorch threads: a fixed pair gives bit-identical weights (default 1, all cores)
  --report DIR              loss curves, histories and export checks (default: training-report)
  --root DIR                run in this training root (also GWREPRO_TRAINING_ROOT); see training/make-root.sh

usage: gwrepro-train bbhnet --workflow W --fit FRAMES|CACHE|DIR --out REPO [options]

Trains BBHnet on [--start, --end) of injection-free background frames (the last --validation seconds held out): each
detector's strain is cleaned by the linear cleaner the ensemble --ensemble-from runs and whitened by its postproc, exactly
as served; half of every batch carries a source drawn from the simulator's population at a network SNR uniform in
[--snr-min, --snr-max]. The export is added to REPO as bbhnet/<version>, with the ensemble --ensemble scoring with it,
and compared with the ensemble's own detector on the validation windows (efficiency at the same false-alarm probability).

  --start GPS, --end GPS    span of background (default: the extent of the frames)
  --validation S            seconds at the end of the span held out for validation (default 256)
  --version N               version written (default 1; an existing one is refused)
  --ensemble-from BASE      the ensemble whose cleaning and whitening are reproduced (default: the workflow's ensemble)
  --ensemble NAME           the ensemble written: BASE with BBHnet answering score (default: BASE-bbhnet)
  --architecture NAME       bbhnet-deepfiltering (default: fixed 18-409.6 Hz band-pass decimating by 4, conv before pooling)
                            or bbhnet (the paper-era network, max-pool first, after an 18 Hz high-pass)
  --epochs N                epochs at most (default 30)
  --epoch-windows N         windows drawn per epoch, each detector's background at its own random time (default 16384)
  --batch-size N            windows per optimiser step, half injected (default 64)
  --stride S                step between background windows, seconds (default 0.5)
  --snr-min X, --snr-max X  network SNR range of the injected windows (default 6 and 20)
  --injections N            sources rendered for training (default 2048; validation: --validation-injections, 512)
  --waveform NAME           the sources' family: taylorf2-0pn or phenomb (default: the workflow's [data.simulate] waveform)
  --evaluation-sources N    sources the comparison scores, each in every served window holding its merger (default 256)
  --lr X, --dropout X       Adam's learning rate (default 0.001) and the dense blocks' dropout (default 0.1; the paper's 0.5)
  --seed N, --threads N     as for deepclean; --report DIR, --root DIR as for deepclean

usage: gwrepro-train bench [--network deepclean|bbhnet] [--architecture NAME] [--witnesses 21] [--length 4096] [--batch 32] [--steps 10] [--threads N] [--root DIR]
  Times training steps (forward, loss, backward, Adam) on random data: windows per second. DeepClean: PSD-ratio loss
  over witnesses x length; BBHnet (--architecture as for bbhnet): binary cross-entropy over 2 detectors x length (default:
  what a 1 s window leaves after the architecture's fixed input filter, which training applies to the data once: 768
  samples for bbhnet-deepfiltering, which decimates by 4, 3072 for bbhnet).

Exit codes: 0 done, 1 failed, 2 bad input or a host LibTorch cannot run on.
""";

if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
{
    Console.Out.Write(Usage);
    return args.Length == 0 ? 2 : 0;
}
if (args[0] == "--version")
{
    Console.Out.WriteLine($"gwrepro-train {typeof(DeepCleanTraining).Assembly.GetName().Version} (TorchSharp-cpu 0.107.0, LibTorch 2.10 CPU)");
    return 0;
}
try
{
    if (args[0] is not ("deepclean" or "bbhnet" or "bench")) throw new BadInputException($"unknown verb '{args[0]}' (expected deepclean, bbhnet or bench; see --help)");
    var options = TrainingArguments.Parse(args.AsSpan(1));
    string? root = options.Get("root") ?? Environment.GetEnvironmentVariable(TrainingHost.RootVariable);
    if (TrainingHost.LibTorchProblem() is { } problem)
    {
        if (!TrainingHost.InsideRoot && !string.IsNullOrEmpty(root))
            return TrainingHost.RunInRoot(root, args, options.Paths("workflow", "fit", "out", "report").Where(p => !p.Contains("://", StringComparison.Ordinal)));
        Console.Error.WriteLine(problem);
        return 2;
    }
    if (args[0] == "bench")
    {
        var (witnesses, length, batch, steps, threads) = options.Bench();
        if (options.Get("network") is "bbhnet")
        {
            var plan = options.Architecture();
            // The network proper sees a served 1 s window after its input filter (1025 taps, 'valid', decimating or not).
            if (options.Get("length") is null) length = BbhNetArchitecture.FilteredLength(4096, BbhNetArchitecture.InputFilterTaps, plan.InputStride);
            double bbh = TrainingStepBenchmark.RunBbhNet(plan, length, batch, steps, warmup: 2, threads, seed: 1);
            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"windows/s {bbh:F3} (BBHnet {plan.Name}, 2 detectors x {length} samples, batch {batch}, {threads} threads, {steps} steps)"));
            return 0;
        }
        if (options.Get("network") is not (null or "deepclean")) throw new BadInputException($"--network '{options.Get("network")}' is not deepclean or bbhnet");
        if (options.Get("architecture") is not null) throw new BadInputException("--architecture names a BBHnet layer plan: it needs --network bbhnet");
        double rate = TrainingStepBenchmark.Run(witnesses, length, batch, steps, warmup: 2, threads, seed: 1);
        Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"windows/s {rate:F3} (DeepClean, {witnesses} witnesses x {length} samples, batch {batch}, {threads} threads, {steps} steps)"));
        return 0;
    }
    if (args[0] == "bbhnet")
    {
        var detector = await BbhNetTraining.RunAsync(options.BbhNetRequest(), line => Console.Out.WriteLine(line));
        Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{detector.Model} version {detector.Version}: trained on {detector.Training} in {detector.Seconds:F0} s, best validation loss {detector.History.Min(h => h.ValidationLoss):F4}; ensemble {detector.Ensemble}"));
        return 0;
    }
    var request = options.DeepCleanRequest();
    var trained = await DeepCleanTraining.RunAsync(request, line => Console.Out.WriteLine(line));
    foreach (var t in trained)
        Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{t.Model} version {t.Version}: trained on {t.Training} in {t.Seconds:F0} s, best validation loss {t.History.Min(h => h.ValidationLoss):F4}"));
    return 0;
}
catch (BadInputException e)
{
    Console.Error.WriteLine($"gwrepro-train: {e.Message}");
    return 2;
}
catch (Exception e) when (e is IOException or UnauthorizedAccessException)
{
    Console.Error.WriteLine($"gwrepro-train: {e.Message}");
    return 1;
}

/// <summary>gwrepro-train's options, parsed without touching LibTorch (so a host check can come first).</summary>
internal sealed partial class TrainingArguments
{
    private static readonly HashSet<string> Known = ["workflow", "fit", "start", "end", "validation", "out", "version", "band", "kernel", "batch", "epochs",
        "batch-size", "window", "stride", "lr", "psd-weight", "seed", "threads", "report", "root", "witnesses", "length", "steps", "ensemble-from", "fft", "overlap", "after-linear",
        "ensemble", "snr-min", "snr-max", "injections", "validation-injections", "evaluation-sources", "dropout", "network", "epoch-windows", "waveform", "architecture"];
    private readonly Dictionary<string, List<string>> _values = [];

    public static TrainingArguments Parse(ReadOnlySpan<string> args)
    {
        var parsed = new TrainingArguments();
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            if (!a.StartsWith("--", StringComparison.Ordinal)) throw new BadInputException($"unexpected argument '{a}' (see --help)");
            string key = a[2..], value;
            int eq = key.IndexOf('=', StringComparison.Ordinal);
            if (eq >= 0) (key, value) = (key[..eq], key[(eq + 1)..]);
            else if (i + 1 < args.Length) value = args[++i];
            else throw new BadInputException($"--{key} needs a value");
            if (!Known.Contains(key)) throw new BadInputException($"unknown option --{key} (see --help)");
            if (!parsed._values.TryGetValue(key, out var list)) parsed._values[key] = list = [];
            list.Add(value);
        }
        return parsed;
    }

    public string? Get(string key) => _values.TryGetValue(key, out var v) ? v[^1] : null;

    public IEnumerable<string> Paths(params string[] keys) => keys.Select(Get).OfType<string>();

    private string Required(string key) => Get(key) ?? throw new BadInputException($"--{key} is required (see --help)");

    private double Number(string key, double fallback)
    {
        string? v = Get(key);
        if (v is null) return fallback;
        return double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) && double.IsFinite(d) && d > 0 ? d
            : throw new BadInputException($"--{key} '{v}' is not a positive number");
    }

    private int Integer(string key, int fallback)
    {
        string? v = Get(key);
        if (v is null) return fallback;
        return int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0 ? n : throw new BadInputException($"--{key} '{v}' is not a positive integer");
    }

    private GpsTime? Time(string key)
    {
        string? v = Get(key);
        if (v is null) return null;
        return GpsTime.TryParse(v, out var t) ? t : throw new BadInputException($"--{key} '{v}' is neither GPS seconds nor a UTC date-time");
    }

    public (int Witnesses, int Length, int Batch, int Steps, int Threads) Bench() =>
        (Integer("witnesses", 21), Integer("length", 4096), Integer("batch", 32), Integer("steps", 10), Integer("threads", Environment.ProcessorCount));

    public DeepCleanTrainingRequest DeepCleanRequest()
    {
        string workflowPath = Required("workflow");
        var workflow = WorkflowConfig.Load(workflowPath);
        var bands = new List<(double, double)>();
        foreach (var b in _values.GetValueOrDefault("band") ?? [])
        {
            var parts = b.Split('-');
            if (parts.Length != 2 || !double.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out double lo)
                || !double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double hi) || !(lo > 0) || !(hi > lo) || hi >= 2048)
                throw new BadInputException($"--band '{b}' is not LOW-HIGH in Hz with 0 < LOW < HIGH < 2048");
            bands.Add((lo, hi));
        }
        if (bands.Count == 0) bands.Add((workflow.Cleaning.BandLow, workflow.Cleaning.BandHigh));
        var detectors = workflow.Detectors.Select(d => new CleanerChannels(d.Ifo, d.Strain, d.Witnesses)).ToList();
        if (detectors.Any(d => d.Witnesses.Count == 0))
            throw new BadInputException($"{workflowPath}: detector {detectors.First(d => d.Witnesses.Count == 0).Ifo} lists no witnesses; DeepClean needs them");
        return new DeepCleanTrainingRequest
        {
            Detectors = detectors,
            ChannelSource = workflowPath,
            WorkflowName = workflow.Name,
            WitnessHighpass = workflow.Cleaning.WitnessHighpass,
            Ensemble = workflow.Inference.Ensemble,
            EnsembleFrom = Get("ensemble-from"),
            AfterLinear = Get("after-linear") switch
            {
                null or "no" or "false" => false,
                "yes" or "true" => true,
                var v => throw new BadInputException($"--after-linear '{v}' is not yes or no"),
            },
            Fit = Required("fit"),
            Start = Time("start"),
            End = Time("end"),
            ValidationSeconds = Number("validation", 64),
            Repository = Required("out"),
            Version = Integer("version", 1),
            Bands = bands,
            KernelSeconds = Number("kernel", 1),
            Batch = Integer("batch", workflow.Inference.Batch),
            ReportDirectory = Get("report") ?? "training-report",
            Options = new DeepCleanTrainingOptions
            {
                Epochs = Integer("epochs", 20),
                BatchSize = Integer("batch-size", 16),
                WindowSeconds = Number("window", 4),
                StrideSeconds = Number("stride", 0.5),
                LearningRate = Number("lr", 1e-2),
                PsdWeight = Math.Min(1, Number("psd-weight", 1)),
                FftSeconds = Number("fft", 1),
                OverlapSeconds = Get("overlap") is null ? Number("fft", 1) / 2 : Number("overlap", 0.5),
                Seed = Integer("seed", 1),
                Threads = Integer("threads", Environment.ProcessorCount),
            },
        };
    }
}
