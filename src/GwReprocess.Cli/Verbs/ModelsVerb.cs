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

    /// <summary>Precisions of <c>--precision</c>.</summary>
    public enum PrecisionOption { Fp32, Fp16 }

    /// <summary>Whitening choices of <c>--whitening</c>.</summary>
    public enum WhiteningOption { Fixed, Stream }

    [Verb("build", HelpText = "Write the model repository: snapshotters, cleaners (H1, L1), postproc, detector, and the gwe2e and deepclean-stream ensembles; with --whitening stream, the strain-only detection repository instead (snapshotter, whitener, bbhnet, ensemble 'search').")]
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

        [Option("workflow", HelpText = "Workflow whose [detectors] give the strain and witness channels, in model order, and whose [cleaning] witness_highpass the witnesses go through before the fit (needed with --fit).")]
        public string? Workflow { get; set; }

        [Option("taps", Default = 32, HelpText = "Wiener taps per witness (samples at --fs).")]
        public int Taps { get; set; }

        [Option("advance", Default = 0, HelpText = "Future witness samples each Wiener tap set may use (0 = causal).")]
        public int Advance { get; set; }

        [Option("band", Default = "15,500", HelpText = "Band in Hz (low,high) of the strain the Wiener cleaner is fitted to.")]
        public string Band { get; set; } = "15,500";

        [Option("whiten-taps", Default = 1025, HelpText = "With --fit: length (odd) of postproc's whitening FIR, designed from each detector's strain ASD over the fit span; 0 keeps postproc unwhitened. Shorter FIRs let the seismic band through.")]
        public int WhitenTaps { get; set; }

        [Option("whitening", Default = WhiteningOption.Fixed, HelpText = "fixed: postproc's FIR designed at build time (--whiten-taps), in gwe2e with cleaners. stream: a strain-only detection repository for workflows without witnesses: snapshotter (strain only, windows of --psd-length + --kernel) -> whitener (each window whitened by the mean Welch PSD of the --psd-length seconds before it, as aframe does) -> bbhnet, ensemble 'search' answering score [B, 1]; no cleaners, nothing fitted.")]
        public WhiteningOption Whitening { get; set; }

        [Option("psd-length", Default = "8", HelpText = "With --whitening stream: seconds of background before each window whose PSD whitens it.")]
        public string PsdLength { get; set; } = "8";

        [Option("psd-segment", Default = "1", HelpText = "With --whitening stream: Welch segment in seconds (Hann, half overlap, mean average).")]
        public string PsdSegment { get; set; } = "1";

        [Option("stream-fir-taps", Default = 0, HelpText = "With --whitening stream: length (odd, shorter than --psd-segment) of the whitening FIR; 0 = one sample less than the segment (4095 at 4096 Hz); it sets the whitened window's delay, half its length.")]
        public int StreamFirTaps { get; set; }

        [Option("low-corner", Default = "10", HelpText = "With --whitening stream: frequencies below this (Hz) are removed by the whitening FIR.")]
        public string LowCorner { get; set; } = "10";

        [Option("seed", Default = 20210826, HelpText = "Seed of the untrained networks' weights.")]
        public int Seed { get; set; }

        [Option("instances", Default = 1, HelpText = "Instances per cleaner, postproc and detector model.")]
        public int Instances { get; set; }

        [Option("streams", Default = 1, HelpText = "Snapshotter instances = concurrent client streams each server can hold.")]
        public int Streams { get; set; }

        [Option("kind", Default = KindOption.Auto, HelpText = "Instance kind written to instance_group (auto lets Triton pick GPU when present).")]
        public KindOption Kind { get; set; }

        [Option("precision", Default = PrecisionOption.Fp32, HelpText = "Precision of DeepClean and BBHnet: fp16 stores float16 weights and computes in float16 behind float32 inputs and outputs (Cast nodes at the boundaries), for GPU instances (the config's 'precision' parameter and description say so); refused with --kind cpu.")]
        public PrecisionOption Precision { get; set; }
    }

    [Verb("check", HelpText = "Check a repository: every config agrees with its ONNX inputs/outputs; ensembles wire up (models exist, maps name real tensors, shapes and types agree). Then tells which streaming contract each ensemble offers (native or hermes) and which --workflow files fit it.")]
    public sealed class CheckOptions : CommonOptions
    {
        [Value(0, MetaName = "DIR", Required = true, HelpText = "Model repository directory.")]
        public string Directory { get; set; } = "";

        [Option("workflow", Separator = ',', HelpText = "Workflow file(s) to fit against the repository: its [inference] ensemble, or each [detectors.XX] ensemble, must take its detectors' channels, and its cleaners must have been fitted with its [cleaning] witness_highpass (comma-separated or repeated).")]
        public IEnumerable<string> Workflows { get; set; } = [];
    }

    public override Task<int> RunAsync(string[] args, CancellationToken cancellationToken) =>
        ArgumentParsing.RunVerbsAsync(Name, args, [typeof(BuildOptions), typeof(CheckOptions)],
            options => options switch
            {
                BuildOptions o => BuildAsync(o, cancellationToken),
                CheckOptions o => CheckAsync(o),
                _ => throw new InvalidOperationException(),
            });

    private static async Task<int> BuildAsync(BuildOptions o, CancellationToken ct)
    {
        var request = Request(o);
        var result = await ModelRepositoryBuild.BuildAsync(request, o.Quiet ? null : Console.Error.WriteLine, ct);
        return Report(result, request.Directory, o.Quiet);
    }

    /// <summary>The options as a typed request; errors name the option.</summary>
    private static ModelRepositoryRequest Request(BuildOptions o)
    {
        bool stream = o.Whitening == WhiteningOption.Stream;
        if (stream && (o.Cleaner == CleanerOption.Wiener || o.Fit is not null || o.Workflow is not null))
            throw new BadInputException("--whitening stream builds a strain-only repository: no cleaner is fitted (drop --cleaner wiener, --fit, --workflow)");
        if (stream && o.Detector == DetectorOption.Templates)
            throw new BadInputException("--whitening stream takes --detector bbhnet: the template bank is calibrated on whitened background, which a strain-only build does not have yet");
        if (o.Cleaner != CleanerOption.Wiener && (o.Fit is not null || o.Workflow is not null))
            throw new BadInputException("--fit and --workflow go with --cleaner wiener");
        bool templates = o.Detector == DetectorOption.Templates;
        if (templates && o.Cleaner != CleanerOption.Wiener)
            throw new BadInputException("--detector templates needs --cleaner wiener --fit FRAMES --workflow W.toml: the bank is whitened with the fit span's strain ASD and calibrated on its cleaned strain");
        if (templates && o.WhitenTaps == 0) throw new BadInputException("--detector templates needs postproc's whitening: --whiten-taps must not be 0");
        var fit = o.Cleaner == CleanerOption.Wiener ? FitRequest(o) : null;
        if (!double.TryParse(o.Kernel, NumberStyles.Float, CultureInfo.InvariantCulture, out var kernel) || kernel <= 0)
            throw new BadInputException($"--kernel '{o.Kernel}' is not a positive number of seconds");
        if (o.SampleRate < 1) throw new BadInputException($"--fs {o.SampleRate} must be a positive number of Hz");
        return new ModelRepositoryRequest
        {
            Directory = o.Out,
            Models = new ModelRepositoryOptions
            {
                SampleRate = o.SampleRate,
                KernelSeconds = kernel,
                Stride = o.Stride,
                Batch = o.Batch,
                Witnesses = o.Witnesses,
                Cleaner = o.Cleaner == CleanerOption.DeepClean ? CleanerKind.DeepClean : CleanerKind.Wiener,
                Detector = o.Detector == DetectorOption.BbhNet ? DetectorKind.BbhNet : DetectorKind.Templates,
                Seed = o.Seed,
                Instances = o.Instances,
                SnapshotterInstances = o.Streams,
                Precision = o.Precision == PrecisionOption.Fp16 ? ModelPrecision.Fp16 : ModelPrecision.Fp32,
                Whitening = stream ? WhiteningMode.Stream : WhiteningMode.Fixed,
                StreamWhitening = new StreamWhiteningOptions
                {
                    BackgroundSeconds = Positive(o.PsdLength, "--psd-length"),
                    SegmentSeconds = Positive(o.PsdSegment, "--psd-segment"),
                    Taps = o.StreamFirTaps,
                    LowCornerHz = Positive(o.LowCorner, "--low-corner", allowZero: true),
                },
                InstanceKind = o.Kind switch
                {
                    KindOption.Cpu => ModelInstanceGroup.Types.Kind.Cpu,
                    KindOption.Gpu => ModelInstanceGroup.Types.Kind.Gpu,
                    _ => ModelInstanceGroup.Types.Kind.Auto,
                },
            },
            Fit = fit,
        };
    }

    private static double Positive(string text, string option, bool allowZero = false) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v) && (v > 0 || (allowZero && v == 0)) ? v
            : throw new BadInputException($"{option} '{text}' is not a {(allowZero ? "non-negative" : "positive")} number");

    private static WienerFitRequest FitRequest(BuildOptions o)
    {
        if (o.Fit is null || o.Workflow is null) throw new BadInputException("--cleaner wiener needs --fit FRAMES and --workflow W.toml (for the channels, in order)");
        var workflow = GwReprocess.Workflow.WorkflowConfig.Load(o.Workflow);
        var band = o.Band.Split(',');
        if (band.Length != 2 || !double.TryParse(band[0], NumberStyles.Float, CultureInfo.InvariantCulture, out double low)
            || !double.TryParse(band[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double high) || !(0 < low && low < high))
            throw new BadInputException($"--band '{o.Band}' is not 'low,high' in Hz");
        return GwReprocess.Workflow.WorkflowModels.WienerFit(workflow, o.Fit) with
        {
            Start = o.Start is null ? null : FrameInput.Gps(o.Start, "--start"),
            End = o.End is null ? null : FrameInput.Gps(o.End, "--end"),
            Taps = o.Taps,
            Advance = o.Advance,
            Band = (low, high),
            WhitenTaps = o.WhitenTaps,
        };
    }

    /// <summary>Prints the check's problems (exit 1), the notes and, unless quiet, what was written; shared with <c>gwrepro run</c>'s build.</summary>
    internal static int Report(ModelRepositoryBuildResult result, string directory, bool quiet)
    {
        foreach (var p in result.Problems) Console.Error.WriteLine($"gwrepro models build: {p}");
        if (result.Problems.Count > 0) return ExitCodes.Failure;
        foreach (var n in result.Notes) Console.Error.WriteLine($"gwrepro models build: {n}");
        if (!quiet)
        {
            foreach (var m in result.Models)
            {
                string flops = m.FlopsPerExample > 0 ? $", {m.FlopsPerExample / 1e6:F1} MFLOP per window" : "";
                Console.Out.WriteLine($"{m.Name,-20} {(m.Onnx is null ? "ensemble" : "onnx"),-8} {Shape(m.Config)}{flops}");
            }
            var options = result.Options;
            Console.Out.WriteLine($"wrote {result.Models.Count} models to {directory} (K = {options.Kernel} samples, stride {options.Stride}, batch {options.Batch}); check passed");
        }
        return ExitCodes.Success;
    }

    private static string Shape(ModelConfig c) =>
        string.Join(", ", c.Input.Select(i => $"{i.Name}[{string.Join(",", i.Dims)}]")) + " -> " +
        string.Join(", ", c.Output.Select(o => $"{o.Name}[{string.Join(",", o.Dims)}]"));

    private static async Task<int> CheckAsync(CheckOptions o)
    {
        var problems = ModelRepositoryCheck.Check(o.Directory);
        foreach (var p in problems) Console.Error.WriteLine($"gwrepro models check: {o.Directory}/{p}");
        if (problems.Count > 0) return ExitCodes.BadInput;
        if (!o.Quiet) Console.Out.WriteLine($"{o.Directory}: {ModelRepository.ModelNames(o.Directory).Count} models, all consistent");
        if (!o.Quiet)
            foreach (var (ensemble, _, description) in await GwReprocess.Jobs.RepositoryContracts.DescribeAsync(o.Directory))
                Console.Out.WriteLine($"ensemble '{ensemble}': {description}");
        int misfits = 0;
        foreach (var path in o.Workflows)
        {
            var workflow = GwReprocess.Workflow.WorkflowConfig.Load(path);
            var detectors = workflow.Detectors.Select(d => (d.Ifo, d.Strain, d.Witnesses, d.Ensemble)).ToList();
            var streamedTo = string.Join(", ", workflow.Detectors.Select(d => $"{d.Ifo} → '{d.Ensemble ?? workflow.Inference.Ensemble}'"));
            if (await GwReprocess.Jobs.RepositoryContracts.MisfitAsync(o.Directory, workflow.Inference.Ensemble, detectors, workflow.Cleaning.WitnessHighpass) is { } why)
            {
                misfits++;
                Console.Error.WriteLine($"gwrepro models check: {path} does not fit ({streamedTo}): {why}");
            }
            else if (!o.Quiet) Console.Out.WriteLine($"{path} fits ({streamedTo})");
        }
        return misfits > 0 ? ExitCodes.BadInput : ExitCodes.Success;
    }
}
