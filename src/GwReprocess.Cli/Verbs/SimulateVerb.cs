using GwReprocess.Storage;
using System.Globalization;
using System.Text.Json;
using CommandLine;
using GwReprocess.IO;
using GwReprocess.Simulation;
using GwReprocess.Time;
using Spectre.Console;

namespace GwReprocess.Cli.Verbs;

/// <summary><c>gwrepro simulate</c>: synthetic detector frames with witness couplings and BBH injections.</summary>
public sealed class SimulateVerb : CliVerb
{
    public override string Name => "simulate";
    public override string Summary => "Write synthetic multi-detector frames with witness couplings and BBH injections.";

    /// <summary>Options of <c>gwrepro simulate</c>.</summary>
    public sealed class Options : CommonOptions
    {
        [Option("workflow", HelpText = "Take span, detectors, strain/witness names and [data.simulate] settings from a workflow TOML (source = \"simulated\"); options given here override it.")]
        public string? Workflow { get; set; }

        [Option("start", HelpText = "GPS start (whole seconds) or a UTC time. Default 1000000000.")]
        public string? Start { get; set; }

        [Option("duration", HelpText = "Seconds of data per detector (whole seconds). Default 4096.")]
        public long? Duration { get; set; }

        [Option("ifos", HelpText = "Comma-separated detector prefixes. Default H1,L1.")]
        public string? Ifos { get; set; }

        [Option("frame-length", HelpText = "File length in seconds; files start at GPS multiples of it. Default 4096.")]
        public long? FrameLength { get; set; }

        [Option("frame-duration", HelpText = "Seconds per frame inside a file (memory holds one frame per detector). Default 64.")]
        public int? FrameDuration { get; set; }

        [Option("witnesses", HelpText = "Witness channels per detector (DeepClean's O3 list first: PEM mains monitor, then ASC INMON channels). Default 21.")]
        public int? Witnesses { get; set; }

        [Option("witness-names", HelpText = "Comma-separated witness names without the detector prefix, replacing the default list (order kept).")]
        public string? WitnessNames { get; set; }

        [Option("strain-channel", HelpText = "Strain channel name after the detector prefix. Default GDS-CALIB_STRAIN.")]
        public string? StrainChannel { get; set; }

        [Option("frame-type", HelpText = "Frame type: files are named OBS-IFO_TYPE-GPS-DUR.gwf. Default SIM.")]
        public string? FrameType { get; set; }

        [Option("injection-rate", HelpText = "BBH injections per second (Poisson); 0 for none. Default 0.01.")]
        public double? InjectionRate { get; set; }

        [Option("waveform", HelpText = "Injected waveform family: taylorf2-0pn (0PN inspiral to the ISCO) or phenomb (IMRPhenomB inspiral, merger and ringdown, peak at the injection time). Default taylorf2-0pn.")]
        public string? Waveform { get; set; }

        [Option("seed", HelpText = "Seed of every random stream: the same seed and span give bit-identical files. Default 7.")]
        public long? Seed { get; set; }

        [Option("gaps", HelpText = "Random gaps (10-300 s each) per detector: no frames there, and the segment file omits them. Default 0.")]
        public int? Gaps { get; set; }

        [Option('o', "out", Required = true, HelpText = "Output directory: frames, IFO.lcf caches, IFO-segments.txt, injections.csv, truth.json.")]
        public string Out { get; set; } = "";

        [Option("json", HelpText = "Print a JSON summary of what was written on standard output.")]
        public bool Json { get; set; }
    }

    public override Task<int> RunAsync(string[] args, CancellationToken cancellationToken) =>
        ArgumentParsing.RunAsync<Options>(Name, args, o => RunAsync(o, cancellationToken));

    /// <summary>Builds library options from the command line; bad values throw <see cref="BadInputException"/>.</summary>
    public static SimulationOptions ToSimulationOptions(Options o)
    {
        var options = o.Workflow is null ? new SimulationOptions() : GwReprocess.Workflow.WorkflowSimulation.Options(GwReprocess.Workflow.WorkflowConfig.Load(o.Workflow));
        if (o.Start is not null)
            options = options with { Start = GpsTime.TryParse(o.Start, out var start) ? start : throw new BadInputException($"--start '{o.Start}' is neither GPS seconds nor a UTC time") };
        if (o.Duration is { } duration) options = options with { Duration = duration };
        if (o.Ifos is not null) options = options with { Ifos = o.Ifos.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) };
        if (o.FrameLength is { } frameLength) options = options with { FrameLength = frameLength };
        if (o.FrameDuration is { } frameDuration) options = options with { FrameDuration = frameDuration };
        if (o.Witnesses is { } witnesses) options = options with { Witnesses = witnesses };
        if (o.StrainChannel is not null) options = options with { StrainChannel = o.StrainChannel };
        if (o.FrameType is not null) options = options with { FrameType = o.FrameType };
        if (o.Seed is { } seed) options = options with { Seed = seed };
        if (o.Gaps is { } gaps) options = options with { Gaps = gaps };
        if (o.InjectionRate is { } rate) options = options with { Injections = options.Injections with { Rate = rate } };
        if (o.Waveform is not null)
            options = options with
            {
                Injections = options.Injections with
                {
                    Waveform = Waveforms.TryParse(o.Waveform, out var family) ? family
                        : throw new BadInputException($"--waveform '{o.Waveform}': not one of {string.Join(", ", Waveforms.Names)}"),
                },
            };
        if (o.WitnessNames is not null)
        {
            var names = o.WitnessNames.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            foreach (var n in names)
                if (n.Contains(':')) throw new BadInputException($"--witness-names: '{n}' has a detector prefix; give names without it (the prefix comes from --ifos)");
            options = options with { WitnessNames = names, Witnesses = o.Witnesses ?? names.Length };
        }
        options.Validate();
        return options;
    }

    private static async Task<int> RunAsync(Options o, CancellationToken ct)
    {
        var options = ToSimulationOptions(o);
        ISimulationOutput output;
        IBucket? bucket = null;
        if (Location.TryParse(o.Out, out var outLocation, out _) && outLocation.Scheme is "s3" or "gs")
        {
            (bucket, string prefix) = BucketFactory.Open(o.Out);
            output = new BucketOutput(bucket, prefix);
        }
        else output = new DirectoryOutput(LocalDirectory(o.Out));
        using var ownedBucket = bucket;
        bool interactive = !o.Quiet && !o.Json && !Console.IsErrorRedirected && AnsiConsole.Profile.Capabilities.Interactive;
        var started = DateTime.UtcNow;
        SimulationResult result;
        if (interactive)
        {
            result = null!;
            await AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .StartAsync(async ctx =>
                {
                    var task = ctx.AddTask($"simulating {string.Join("+", options.Ifos)}", maxValue: Math.Max(1, options.Ifos.Count * options.Duration));
                    var progress = new SynchronousProgress(p => task.Value = p.SecondsDone);
                    result = await SimulationRun.RunAsync(options, output, progress, ct);
                });
        }
        else
        {
            // Under HTCondor (no TTY): one log line per file committed, on stderr.
            var progress = new SynchronousProgress(p =>
            {
                if (o.Quiet || o.Json || !p.FileWritten) return;
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{DateTime.UtcNow:yyyy-MM-ddTHH:mm:ssZ} simulate: {p.SecondsDone:F0}/{p.SecondsTotal:F0} s ({100 * p.SecondsDone / Math.Max(1, p.SecondsTotal):F0}%) {p.Ifo} {p.File}"));
            });
            result = await SimulationRun.RunAsync(options, output, progress, ct);
        }
        double wall = (DateTime.UtcNow - started).TotalSeconds;
        // Seconds of multi-detector data (the span minus gaps common to all), as the benchmark counts them.
        double simulated = result.Segments.Values.Aggregate(SegmentList.Empty, (a, b) => a.Union(b)).TotalDuration.TotalSeconds;
        if (o.Json)
        {
            var summary = new
            {
                directory = output is BucketOutput bo ? bo.Location : ((DirectoryOutput)output).Directory,
                files = result.Files.Select(f => new { ifo = f.Ifo, name = f.Name, start = f.Span.Start.Seconds, duration = f.Span.Duration.TotalSeconds }),
                caches = result.Caches,
                segments = result.SegmentFiles,
                injection_table = result.InjectionTable,
                injections = result.Injections.Count,
                seconds_simulated = simulated,
                wall_seconds = wall,
            };
            Console.Out.WriteLine(JsonSerializer.Serialize(summary, new JsonSerializerOptions { WriteIndented = true }));
        }
        else if (!o.Quiet)
        {
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"simulate: wrote {result.Files.Count} frame file(s), {simulated:F0} s of {string.Join("+", options.Ifos)} data, {result.Injections.Count} injection(s) to {(output is BucketOutput b ? b.Location : ((DirectoryOutput)output).Directory)} in {wall:F1} s ({simulated / Math.Max(wall, 1e-9):F0} s of data/s)"));
        }
        return ExitCodes.Success;
    }

    /// <summary>The local directory of <c>--out</c>: a path or a <c>file://</c> URL (s3:// and gs:// go to <see cref="BucketOutput"/>).</summary>
    private static string LocalDirectory(string @out)
    {
        if (!Location.TryParse(@out, out var location, out _))
            throw new BadInputException($"--out '{@out}': not a path, file://, s3:// or gs:// location");
        return location.LocalPath ?? throw new BadInputException($"--out '{@out}': a file:// URL on another host is not a local directory");
    }

    /// <summary>Reports on the calling thread (Progress&lt;T&gt; would post to the thread pool and reorder lines).</summary>
    private sealed class SynchronousProgress(Action<SimulationProgress> report) : IProgress<SimulationProgress>
    {
        private readonly object _gate = new();

        public void Report(SimulationProgress value)
        {
            lock (_gate) report(value);
        }
    }
}
