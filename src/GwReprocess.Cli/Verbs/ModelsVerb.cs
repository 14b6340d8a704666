using System.Globalization;
using CommandLine;
using GwReprocess.Models;
using Inference;

namespace GwReprocess.Cli.Verbs;

/// <summary><c>gwrepro models</c>: build and check the Triton-layout model repository.</summary>
public sealed class ModelsVerb : CliVerb
{
    public override string Name => "models";
    public override string Summary => "Build or check a Triton-layout model repository (ONNX).";

    /// <summary>Cleaner choices of <c>--cleaner</c>.</summary>
    public enum CleanerOption { DeepClean, Wiener }

    /// <summary>Detector choices of <c>--detector</c>.</summary>
    public enum DetectorOption { BbhNet, Templates }

    /// <summary>Instance kinds of <c>--kind</c>.</summary>
    public enum KindOption { Auto, Cpu, Gpu }

    [Verb("build", HelpText = "Write the model repository: snapshotters, cleaners (H1, L1), postproc, detector, and the gwe2e and deepclean-stream ensembles.")]
    public sealed class BuildOptions : CommonOptions
    {
        [Option("out", Required = true, HelpText = "Repository directory to write (models inside it are replaced).")]
        public string Out { get; set; } = "";

        [Option("fs", Default = 4096, HelpText = "Processing sample rate in Hz.")]
        public int SampleRate { get; set; }

        [Option("kernel", Default = "1", HelpText = "Window (kernel) length in seconds; fs·kernel must be a whole number of samples, a multiple of 16 for DeepClean.")]
        public string Kernel { get; set; } = "1";

        [Option("stride", Default = 8, HelpText = "Hop between windows in samples (= fs / inference rate; 8 at 4096 Hz is 512 Hz).")]
        public int Stride { get; set; }

        [Option("batch", Default = 64, HelpText = "Windows per request B; each update carries B·stride samples per channel.")]
        public int Batch { get; set; }

        [Option("witnesses", Default = 21, HelpText = "Witness channels per detector.")]
        public int Witnesses { get; set; }

        [Option("cleaner", Default = CleanerOption.DeepClean, HelpText = "Cleaner in the ensembles: deepclean (untrained, throughput) or wiener (fitted on --fit frames).")]
        public CleanerOption Cleaner { get; set; }

        [Option("detector", Default = DetectorOption.BbhNet, HelpText = "Detector at the end of gwe2e: bbhnet (untrained, throughput) or templates (whitened TaylorF2 bank over the injection masses, calibrated on injection-free data of the --fit span; needs --cleaner wiener).")]
        public DetectorOption Detector { get; set; }

        [Option("fit", HelpText = "Frames to fit the Wiener cleaner on: a LAL cache or a frame file holding every detector's strain and witnesses, or a `gwrepro simulate` output directory (its <IFO>.lcf caches).")]
        public string? Fit { get; set; }

        [Option("start", HelpText = "GPS start of the fitting span (default: start of the frames).")]
        public string? Start { get; set; }

        [Option("end", HelpText = "GPS end of the fitting span (default: end of the frames).")]
        public string? End { get; set; }

        [Option("workflow", HelpText = "Workflow whose [detectors] give the strain and witness channels, in model order (needed with --fit).")]
        public string? Workflow { get; set; }

        [Option("taps", Default = 32, HelpText = "Wiener taps per witness (samples at --fs).")]
        public int Taps { get; set; }

        [Option("advance", Default = 0, HelpText = "Future witness samples each Wiener tap set may use (0 = causal).")]
        public int Advance { get; set; }

        [Option("band", Default = "15,500", HelpText = "Band in Hz (low,high) of the strain the Wiener cleaner is fitted to.")]
        public string Band { get; set; } = "15,500";

        [Option("whiten-taps", Default = 1025, HelpText = "With --fit: length (odd) of postproc's whitening FIR, designed from each detector's strain ASD over the fit span; 0 keeps postproc unwhitened. Shorter FIRs let the seismic band through.")]
        public int WhitenTaps { get; set; }

        [Option("seed", Default = 20210826, HelpText = "Seed of the untrained networks' weights.")]
        public int Seed { get; set; }

        [Option("instances", Default = 1, HelpText = "Instances per cleaner, postproc and detector model.")]
        public int Instances { get; set; }

        [Option("streams", Default = 1, HelpText = "Snapshotter instances = concurrent client streams each server can hold.")]
        public int Streams { get; set; }

        [Option("kind", Default = KindOption.Auto, HelpText = "Instance kind written to instance_group (auto lets Triton pick GPU when present).")]
        public KindOption Kind { get; set; }
    }

    [Verb("check", HelpText = "Check a repository: every config agrees with its ONNX inputs/outputs; ensembles wire up (models exist, maps name real tensors, shapes and types agree).")]
    public sealed class CheckOptions : CommonOptions
    {
        [Value(0, MetaName = "DIR", Required = true, HelpText = "Model repository directory.")]
        public string Directory { get; set; } = "";
    }

    public override Task<int> RunAsync(string[] args, CancellationToken cancellationToken) =>
        ArgumentParsing.RunVerbsAsync(Name, args, [typeof(BuildOptions), typeof(CheckOptions)],
            options => options switch
            {
                BuildOptions o => BuildAsync(o, cancellationToken),
                CheckOptions o => Task.FromResult(Check(o)),
                _ => throw new InvalidOperationException(),
            });

    private static async Task<int> BuildAsync(BuildOptions o, CancellationToken ct)
    {
        if (o.Cleaner != CleanerOption.Wiener && (o.Fit is not null || o.Workflow is not null))
            throw new BadInputException("--fit and --workflow go with --cleaner wiener");
        bool templates = o.Detector == DetectorOption.Templates;
        if (templates && o.Cleaner != CleanerOption.Wiener)
            throw new BadInputException("--detector templates needs --cleaner wiener --fit FRAMES --workflow W.toml: the bank is whitened with the fit span's strain ASD and calibrated on its cleaned strain");
        if (templates && o.WhitenTaps == 0) throw new BadInputException("--detector templates needs postproc's whitening: --whiten-taps must not be 0");
        var fitted = o.Cleaner == CleanerOption.Wiener ? await FitWienerAsync(o, ct) : default;
        var cleaners = fitted.Cleaners;
        if (!double.TryParse(o.Kernel, NumberStyles.Float, CultureInfo.InvariantCulture, out var kernel) || kernel <= 0)
            throw new BadInputException($"--kernel '{o.Kernel}' is not a positive number of seconds");
        if (o.SampleRate < 1) throw new BadInputException($"--fs {o.SampleRate} must be a positive number of Hz");
        var whitening = cleaners is null || o.WhitenTaps == 0 ? null
            : cleaners.Select(c => Array.ConvertAll(GwReprocess.Dsp.Whitening.FirFromAsd(c.StrainAsd, o.SampleRate, o.WhitenTaps, lowCornerHz: 10), v => (float)v)).ToList();
        TemplateBank? bank = null;
        if (templates)
            bank = await TemplatesAsync(o, fitted, whitening!, (int)Math.Round(o.SampleRate * kernel), ct);
        var options = new ModelRepositoryOptions
        {
            SampleRate = o.SampleRate,
            KernelSeconds = kernel,
            Stride = o.Stride,
            Batch = o.Batch,
            Witnesses = cleaners?[0].Witnesses.Count ?? o.Witnesses,
            Detectors = cleaners?.Select(c => c.Ifo).ToList() ?? ["H1", "L1"],
            WienerFilters = cleaners?.ToDictionary(c => c.Ifo, c => c.Fir),
            WhiteningTaps = whitening,
            Templates = bank,
            WhiteningDescription = cleaners is null ? "identity (no reference ASD given)"
                : $"{o.WhitenTaps}-tap whitening FIR from each detector's strain ASD over the --fit span (median Welch, 2 s segments)",
            Cleaner = o.Cleaner == CleanerOption.DeepClean ? CleanerKind.DeepClean : CleanerKind.Wiener,
            Detector = o.Detector == DetectorOption.BbhNet ? DetectorKind.BbhNet : DetectorKind.Templates,
            Seed = o.Seed,
            Instances = o.Instances,
            SnapshotterInstances = o.Streams,
            InstanceKind = o.Kind switch
            {
                KindOption.Cpu => ModelInstanceGroup.Types.Kind.Cpu,
                KindOption.Gpu => ModelInstanceGroup.Types.Kind.Gpu,
                _ => ModelInstanceGroup.Types.Kind.Auto,
            },
        };
        var models = ModelRepositoryBuilder.Build(options);
        foreach (var c in cleaners ?? [])
            c.Annotate(models.Single(m => m.Name == ModelRepositoryBuilder.CleanerName(CleanerKind.Wiener, c.Ifo)).Config);
        await ModelRepository.WriteAsync(o.Out, models, ct);
        var problems = ModelRepositoryCheck.Check(o.Out);
        foreach (var p in problems) Console.Error.WriteLine($"gwrepro models build: {p}");
        if (problems.Count > 0) return ExitCodes.Failure;
        foreach (var m in models)
        {
            var others = ModelRepository.Versions(Path.Combine(o.Out, m.Name)).Where(v => v != 1).ToList();
            if (others.Count > 0)
                Console.Error.WriteLine($"gwrepro models build: note: {m.Name} also has version(s) {string.Join(", ", others)}; Triton's default policy serves the highest, not the 1/ just written");
        }
        if (!o.Quiet)
        {
            foreach (var m in models)
            {
                string flops = m.FlopsPerExample > 0 ? $", {m.FlopsPerExample / 1e6:F1} MFLOP per window" : "";
                Console.Out.WriteLine($"{m.Name,-20} {(m.Onnx is null ? "ensemble" : "onnx"),-8} {Shape(m.Config)}{flops}");
            }
            Console.Out.WriteLine($"wrote {models.Count} models to {o.Out} (K = {options.Kernel} samples, stride {o.Stride}, batch {o.Batch}); check passed");
        }
        return ExitCodes.Success;
    }

    /// <summary>What the Wiener fit read and produced, reused by the template detector's calibration.</summary>
    private readonly record struct Fitted(IReadOnlyList<WienerCleaner>? Cleaners, IReadOnlyDictionary<string, GwReprocess.Frames.FrameSource>? Sources, GwReprocess.Time.Segment Span, GwReprocess.Workflow.WorkflowConfig? Workflow);

    /// <summary>
    /// The calibrated template bank. Background: for a simulated workflow, the simulator's own rendering of the fit span without
    /// injections (the same noise, lines and witnesses as the fit frames); otherwise the fit frames themselves (assumed signal-free).
    /// Either way cleaned by the fitted Wiener filters, then windows of K at the stride, 4 time slides.
    /// </summary>
    private static async Task<TemplateBank> TemplatesAsync(BuildOptions o, Fitted f, IReadOnlyList<float[]> whitening, int kernel, CancellationToken ct)
    {
        var workflow = f.Workflow!;
        var rate = new GwReprocess.Data.SampleRate(o.SampleRate);
        var settings = new TemplateBankSettings { SampleRate = o.SampleRate };
        var background = new List<double[]>();
        string source;
        if (workflow.Data.Simulation is not null)
        {
            var sim = GwReprocess.Simulation.SimulationOptions.FromWorkflow(workflow);
            settings = GwReprocess.Models.TemplateBankSettings.Covering(sim.Injections) with { SampleRate = o.SampleRate };
            source = $"the simulator's injection-free rendering of {f.Span}";
            foreach (var c in f.Cleaners!)
            {
                var rendered = new GwReprocess.Simulation.DetectorSimulator(sim, c.Ifo).Render(f.Span, injections: false);
                var channels = new List<GwReprocess.Data.TimeSeries> { rendered[0] };
                foreach (var w in c.Witnesses)
                    channels.Add(rendered.FirstOrDefault(r => r.Channel == w) ?? throw new BadInputException($"{o.Workflow}: witness {w} is not a channel the simulator writes"));
                background.Add(TemplateDetectorBuild.CleanedStrain(channels, c, rate));
            }
        }
        else
        {
            source = $"the --fit frames over {f.Span} (assumed signal-free)";
            foreach (var (c, d) in f.Cleaners!.Zip(workflow.Detectors))
            {
                var data = await f.Sources![c.Ifo].ReadAsync([d.Strain.Value, .. c.Witnesses.Select(w => w.Value)], f.Span, ct);
                background.Add(TemplateDetectorBuild.CleanedStrain(data.Channels, c, rate));
            }
        }
        if (!o.Quiet) Console.Error.WriteLine($"designing the template bank (masses {settings.MinMass}-{settings.MaxMass} Msun from {settings.LowFrequency} Hz) and calibrating it on {source}");
        var ifos = f.Cleaners!.Select(c => c.Ifo).ToList();
        var (design, calibration, bank) = TemplateDetectorBuild.Make(settings, ifos, whitening, background, kernel, o.Stride, batch: 16, threads: Environment.ProcessorCount);
        if (!o.Quiet)
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"template bank: {design.Templates.Count} templates x {bank.Length} samples at {o.SampleRate / bank.Decimation} Hz, worst grid match {design.WorstMatch:F3}, least SNR kept {design.MinSnrFraction:F2}; {calibration}"));
        return bank;
    }

    private static async Task<Fitted> FitWienerAsync(BuildOptions o, CancellationToken ct)
    {
        if (o.Fit is null || o.Workflow is null) throw new BadInputException("--cleaner wiener needs --fit FRAMES and --workflow W.toml (for the channels, in order)");
        var workflow = GwReprocess.Workflow.WorkflowConfig.Load(o.Workflow);
        var band = o.Band.Split(',');
        if (band.Length != 2 || !double.TryParse(band[0], NumberStyles.Float, CultureInfo.InvariantCulture, out double low)
            || !double.TryParse(band[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double high) || !(0 < low && low < high))
            throw new BadInputException($"--band '{o.Band}' is not 'low,high' in Hz");
        // A directory is a `gwrepro simulate` output: one cache per detector, <dir>/<IFO>.lcf.
        var sources = new Dictionary<string, GwReprocess.Frames.FrameSource>();
        GwReprocess.Time.Segment span = default;
        foreach (var d in workflow.Detectors)
        {
            string input = Directory.Exists(o.Fit) ? Path.Combine(o.Fit, GwReprocess.Simulation.SimulationRun.CacheName(d.Ifo)) : o.Fit;
            if (Directory.Exists(o.Fit) && !File.Exists(input)) throw new BadInputException($"{input}: no {d.Ifo} frame cache in the --fit directory");
            (sources[d.Ifo], span) = await FrameInput.OpenAsync(input, o.Start, o.End, new GwReprocess.Frames.FrameSourceOptions(), ct);
        }
        var cleaners = new List<WienerCleaner>();
        foreach (var d in workflow.Detectors)
        {
            var source = sources[d.Ifo];
            if (!o.Quiet) Console.Error.WriteLine($"fitting the {d.Ifo} Wiener cleaner: {d.Witnesses.Count} witnesses × {o.Taps} taps on {span}, {low}–{high} Hz");
            // A cache may list several detectors' files over the same span (gwrepro run fits on one): each detector reads its own.
            var mine = source.Cache.Entries.Where(e => e.Observatory.Contains(d.Ifo[0], StringComparison.Ordinal)).ToList();
            var own = mine.Count == 0 || mine.Count == source.Cache.Entries.Count ? source
                : new GwReprocess.Frames.FrameSource(new GwReprocess.Frames.FrameCache(mine), new GwReprocess.Frames.FrameSourceOptions());
            cleaners.Add(await WienerCleanerFit.FitAsync(own, d.Ifo, d.Strain, d.Witnesses, span, new GwReprocess.Data.SampleRate(o.SampleRate), o.Taps, o.Advance, (low, high), cancellationToken: ct));
        }
        if (cleaners.Select(c => c.Witnesses.Count).Distinct().Count() != 1)
            throw new BadInputException($"{o.Workflow}: every detector needs the same number of witnesses for the shared snapshotter");
        return new Fitted(cleaners, sources, span, workflow);
    }

    private static string Shape(ModelConfig c) =>
        string.Join(", ", c.Input.Select(i => $"{i.Name}[{string.Join(",", i.Dims)}]")) + " -> " +
        string.Join(", ", c.Output.Select(o => $"{o.Name}[{string.Join(",", o.Dims)}]"));

    private static int Check(CheckOptions o)
    {
        var problems = ModelRepositoryCheck.Check(o.Directory);
        foreach (var p in problems) Console.Error.WriteLine($"gwrepro models check: {o.Directory}/{p}");
        if (problems.Count > 0) return ExitCodes.BadInput;
        if (!o.Quiet) Console.Out.WriteLine($"{o.Directory}: {ModelRepository.ModelNames(o.Directory).Count} models, all consistent");
        return ExitCodes.Success;
    }
}
