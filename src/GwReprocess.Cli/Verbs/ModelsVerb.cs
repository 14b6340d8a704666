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

        [Option("detector", Default = DetectorOption.BbhNet, HelpText = "Detector at the end of gwe2e: bbhnet (untrained, throughput) or templates (not available yet).")]
        public DetectorOption Detector { get; set; }

        [Option("fit", HelpText = "Frames to fit the Wiener cleaner on: a LAL cache or a frame file holding every detector's strain and witnesses.")]
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

        [Option("whiten-taps", Default = 257, HelpText = "With --fit: length (odd) of postproc's whitening FIR, designed from each detector's strain ASD over the fit span; 0 keeps postproc unwhitened.")]
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
        var cleaners = o.Cleaner == CleanerOption.Wiener ? await FitWienerAsync(o, ct) : null;
        if (!double.TryParse(o.Kernel, NumberStyles.Float, CultureInfo.InvariantCulture, out var kernel) || kernel <= 0)
            throw new BadInputException($"--kernel '{o.Kernel}' is not a positive number of seconds");
        if (o.SampleRate < 1) throw new BadInputException($"--fs {o.SampleRate} must be a positive number of Hz");
        var options = new ModelRepositoryOptions
        {
            SampleRate = o.SampleRate,
            KernelSeconds = kernel,
            Stride = o.Stride,
            Batch = o.Batch,
            Witnesses = cleaners?[0].Witnesses.Count ?? o.Witnesses,
            Detectors = cleaners?.Select(c => c.Ifo).ToList() ?? ["H1", "L1"],
            WienerFilters = cleaners?.ToDictionary(c => c.Ifo, c => c.Fir),
            WhiteningTaps = cleaners is null || o.WhitenTaps == 0 ? null
                : cleaners.Select(c => Array.ConvertAll(GwReprocess.Dsp.Whitening.FirFromAsd(c.StrainAsd, o.SampleRate, o.WhitenTaps, lowCornerHz: 10), v => (float)v)).ToList(),
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

    private static async Task<IReadOnlyList<WienerCleaner>> FitWienerAsync(BuildOptions o, CancellationToken ct)
    {
        if (o.Fit is null || o.Workflow is null) throw new BadInputException("--cleaner wiener needs --fit FRAMES and --workflow W.toml (for the channels, in order)");
        var workflow = GwReprocess.Workflow.WorkflowConfig.Load(o.Workflow);
        var band = o.Band.Split(',');
        if (band.Length != 2 || !double.TryParse(band[0], NumberStyles.Float, CultureInfo.InvariantCulture, out double low)
            || !double.TryParse(band[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double high) || !(0 < low && low < high))
            throw new BadInputException($"--band '{o.Band}' is not 'low,high' in Hz");
        var (source, span) = await FrameInput.OpenAsync(o.Fit, o.Start, o.End, new GwReprocess.Data.FrameSourceOptions(), ct);
        var cleaners = new List<WienerCleaner>();
        foreach (var d in workflow.Detectors)
        {
            if (!o.Quiet) Console.Error.WriteLine($"fitting the {d.Ifo} Wiener cleaner: {d.Witnesses.Count} witnesses × {o.Taps} taps on {span}, {low}–{high} Hz");
            // A cache may list several detectors' files over the same span (gwrepro run fits on one): each detector reads its own.
            var mine = source.Cache.Entries.Where(e => e.Observatory.Contains(d.Ifo[0], StringComparison.Ordinal)).ToList();
            var own = mine.Count == 0 || mine.Count == source.Cache.Entries.Count ? source
                : new GwReprocess.Data.FrameSource(new GwReprocess.Data.FrameCache(mine), new GwReprocess.Data.FrameSourceOptions());
            cleaners.Add(await WienerCleanerFit.FitAsync(own, d.Ifo, d.Strain, d.Witnesses, span, new GwReprocess.Data.SampleRate(o.SampleRate), o.Taps, o.Advance, (low, high), cancellationToken: ct));
        }
        if (cleaners.Select(c => c.Witnesses.Count).Distinct().Count() != 1)
            throw new BadInputException($"{o.Workflow}: every detector needs the same number of witnesses for the shared snapshotter");
        return cleaners;
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
