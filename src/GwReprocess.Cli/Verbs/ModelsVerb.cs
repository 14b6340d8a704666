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

        [Option("cleaner", Default = CleanerOption.DeepClean, HelpText = "Cleaner in the ensembles: deepclean (untrained, throughput) or wiener (not available yet).")]
        public CleanerOption Cleaner { get; set; }

        [Option("detector", Default = DetectorOption.BbhNet, HelpText = "Detector at the end of gwe2e: bbhnet (untrained, throughput) or templates (not available yet).")]
        public DetectorOption Detector { get; set; }

        [Option("fit", HelpText = "Frames (URI) to fit the Wiener cleaner on (not available yet).")]
        public string? Fit { get; set; }

        [Option("start", HelpText = "GPS start of the fitting span (not available yet).")]
        public string? Start { get; set; }

        [Option("end", HelpText = "GPS end of the fitting span (not available yet).")]
        public string? End { get; set; }

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
        if (o.Fit is not null || o.Start is not null || o.End is not null)
            throw new BadInputException("--fit/--start/--end are not available yet: fitting the Wiener cleaner needs the simulation and DSP work (issue 7, later part)");
        if (!double.TryParse(o.Kernel, NumberStyles.Float, CultureInfo.InvariantCulture, out var kernel) || kernel <= 0)
            throw new BadInputException($"--kernel '{o.Kernel}' is not a positive number of seconds");
        if (o.SampleRate < 1) throw new BadInputException($"--fs {o.SampleRate} must be a positive number of Hz");
        var options = new ModelRepositoryOptions
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
            InstanceKind = o.Kind switch
            {
                KindOption.Cpu => ModelInstanceGroup.Types.Kind.Cpu,
                KindOption.Gpu => ModelInstanceGroup.Types.Kind.Gpu,
                _ => ModelInstanceGroup.Types.Kind.Auto,
            },
        };
        var models = ModelRepositoryBuilder.Build(options);
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
