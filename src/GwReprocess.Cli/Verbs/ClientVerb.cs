using GwReprocess.Frames.Gwf;
using System.Globalization;
using CommandLine;
using GwReprocess.Frames;
using GwReprocess.Inference;
using GwReprocess.IO;
using GwReprocess.Jobs;
using GwReprocess.Storage;
using GwReprocess.Time;
using GwReprocess.Workflow;
using Spectre.Console;

namespace GwReprocess.Cli.Verbs;

/// <summary><c>gwrepro client</c>: one reprocessing job, as the DAG runs it or as a one-off with flags.</summary>
public sealed class ClientVerb : CliVerb
{
    public override string Name => "client";
    public override string Summary => "Run one client job: read frames, stream to a server, write cleaned strain and scores (scores only for a strain-only workflow).";

    /// <summary>Options of <c>gwrepro client</c>.</summary>
    public sealed class Options : CommonOptions
    {
        [Option("workflow", Required = true, HelpText = "Workflow file (TOML): detectors and channels in model order, data source, model, outputs, [cleaning] and barrier settings. Relative paths in it are relative to its directory.")]
        public string Workflow { get; set; } = "";

        [Option("jobs", HelpText = "The run's jobs.csv (written by gwrepro dag); with --job names the row to run.")]
        public string? Jobs { get; set; }

        [Option("job", HelpText = "Job name: a row of --jobs, or the name of a one-off job given with --start/--end (default: client-<start>).")]
        public string? Job { get; set; }

        [Option("server", Required = true, HelpText = "Inference server: host:port (gRPC), or a server node name (server0, ...) looked up in <outputs>/rendezvous/servers/<name>.")]
        public string Server { get; set; } = "";

        [Option("start", HelpText = "One-off job: GPS start of the segment to clean, in seconds (instead of --jobs).")]
        public string? Start { get; set; }

        [Option("end", HelpText = "One-off job: GPS end (exclusive) of the segment, in seconds.")]
        public string? End { get; set; }

        [Option("padding", HelpText = "One-off job: seconds of data read before and after the segment (default: the workflow's jobs.padding). Must cover the window K/fs, the band-pass margin and 1 s of resampler settling (strain-only workflows: the detection-only ensemble's snapshot L/fs and 1 s of settling before, 1 s and one update after).")]
        public string? Padding { get; set; }

        [Option("sequence-id", HelpText = "One-off job: the stream's sequence id (default: the GPS start second).")]
        public ulong? SequenceId { get; set; }

        [Option("token", HelpText = "Bearer token for the server (also read from GWREPRO_SERVER_TOKEN).")]
        public string? Token { get; set; }

        [Option("token-file", HelpText = "Read the bearer token from this file (surrounding whitespace ignored). Default: the workflow's [inference] token_file.")]
        public string? TokenFile { get; set; }

        [Option("tls", HelpText = "Connect with TLS (https); the server's certificate is checked against the system's trust store, or --tls-ca.")]
        public bool Tls { get; set; }

        [Option("tls-ca", HelpText = "PEM file of the CA certificate(s) that signed the server's TLS certificate, trusted instead of the system's store (a private CA, e.g. for gwrepro serve --tls-cert); implies --tls. Default: the workflow's [inference] tls_ca.")]
        public string? TlsCa { get; set; }

        [Option("no-barrier", HelpText = "Start streaming as soon as the server is ready, without joining the run's start barrier.")]
        public bool NoBarrier { get; set; }

        [Option("strict", HelpText = "Fail (exit 2) when an input GWF structure the data does not depend on (dictionary FrSH/FrSE, FrHistory) fails its checksum, as [data] strict_checksums = true does; without either, one warning line names the file, structure and byte offset and the file is read.")]
        public bool Strict { get; set; }

        [Option("ensemble", HelpText = "Stream to this ensemble instead of the workflow's [inference] ensemble: the DAG of a workflow with [training] passes each job its chunk's pinned copy (<ensemble>-v<K>), which the job waits for until ready.")]
        public string? Ensemble { get; set; }

        [Option("ready-timeout", Default = 600, HelpText = "Seconds to wait for the server's address and readiness before failing (exit 1).")]
        public int ReadyTimeout { get; set; }
    }

    public override Task<int> RunAsync(string[] args, CancellationToken cancellationToken) =>
        ArgumentParsing.RunAsync<Options>(Name, args, o => RunJobAsync(o, cancellationToken));

    private static async Task<int> RunJobAsync(Options o, CancellationToken ct)
    {
        var workflow = WorkflowConfig.Load(o.Workflow);
        string baseDir = Path.GetDirectoryName(Path.GetFullPath(o.Workflow)) ?? ".";
        var job = ResolveJob(o, workflow);
        string? caFile = o.TlsCa ?? (workflow.Inference.TlsCa is { } ca ? Path.Combine(baseDir, ca) : null);
        var trustedCa = caFile is null ? null : InferenceEndpoint.ReadCaBundle(caFile);
        if (o.Token is not null && o.TokenFile is not null) throw new BadInputException("give either --token or --token-file, not both");
        string? token = o.Token
            ?? (o.TokenFile is { } tf ? TokenFile.Read(tf, "--token-file") : null)
            ?? (workflow.Inference.TokenFile is { } wtf ? TokenFile.Read(Path.Combine(baseDir, wtf), "inference.token_file") : null)
            ?? Environment.GetEnvironmentVariable("GWREPRO_SERVER_TOKEN");
        string outputs = workflow.Outputs.Uri;
        outputs = Location.Parse(outputs).Resolve(baseDir).ToString();
        var (bucket, prefix) = BucketFactory.Open(outputs);
        using var ownedBucket = bucket;
        using var frameOpener = new BucketFrameOpener();
        var gwf = new GwfReadOptions { Strict = o.Strict || workflow.Data.StrictChecksums, Warning = new ChecksumWarningPrinter("client").Report };
        var detectors = await WorkflowClientJob.DetectorInputsAsync(workflow, baseDir, job, frameOpener, ct, gwf);

        bool interactive = !o.Quiet && !Console.IsErrorRedirected && AnsiConsole.Profile.Capabilities.Interactive;
        var reporter = new Reporter(job.Name, o.Quiet);
        var deadline = TimeSpan.FromSeconds(o.ReadyTimeout);
        string rendezvous = BucketUri.AsPrefix(Location.Parse(outputs).IsUrl ? outputs : outputs.TrimEnd('/')) + "rendezvous";
        string address;
        try { address = await ServerAddress.ResolveAsync(o.Server, rendezvous, deadline, ct); }
        catch (InferenceStreamException e) { throw new ClientJobFailedException(e.Message, e); }
        if (address != o.Server) reporter.Info($"server {o.Server} is {address}");
        var endpoint = new InferenceEndpoint(address, token, o.Tls || trustedCa is not null)
        {
            TrustedCa = trustedCa,
        };

        var settings = WorkflowClientJob.Settings(workflow, job, detectors, bucket, prefix, endpoint, o.Server,
            o.NoBarrier || o.Jobs is null ? null : WorkflowClientJob.Barrier(workflow, o.Jobs), o.Ensemble) with
        {
            ReadyDeadline = deadline,
            ResolveAddress = ServerAddress.IsHostPort(o.Server) ? null : token => ServerAddress.ResolveAsync(o.Server, rendezvous, deadline, token),
        };
        var clientJob = new ClientJob(settings, reporter);
        reporter.ScoresOnly = () => clientJob.Layout?.DetectionOnly == true;
        ClientJobResult result;
        try
        {
            if (interactive)
            {
                result = null!;
                await AnsiConsole.Progress()
                    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                    .StartAsync(async ctx =>
                    {
                        var task = ctx.AddTask($"{job.Name}: {job.Core.Duration} s", maxValue: job.Core.Duration.TotalSeconds);
                        reporter.Progress = (frame, rate) => { task.Value = (frame.End - job.Core.Start).TotalSeconds; task.Description = $"{job.Name}: {rate:F1} s/s"; };
                        result = await clientJob.RunAsync(ct);
                    });
            }
            else result = await clientJob.RunAsync(ct);
        }
        catch (InferenceStreamException e)
        {
            throw new ClientJobFailedException($"{job.Name}: {e.Message}", e);
        }
        if (!o.Quiet && !result.AlreadyDone)
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{Stamp()} client {job.Name}: done: {result.FramesWritten} {(reporter.ScoresOnly() ? "score file(s) (no cleaned frames)" : "frame(s)")} written, {result.FramesSkipped} already committed, {result.Retries} retr{(result.Retries == 1 ? "y" : "ies")}, " +
                $"{result.DataSeconds:F0} s of data in {result.WallSeconds:F1} s ({result.DataSeconds / Math.Max(1e-9, result.WallSeconds):F1} s/s)"));
        return ExitCodes.Success;
    }

    private static JobSpec ResolveJob(Options o, WorkflowConfig workflow)
    {
        if (o.Jobs is not null)
        {
            if (o.Start is not null || o.End is not null) throw new BadInputException("give either --jobs/--job or --start/--end, not both");
            if (o.Job is null) throw new BadInputException("--jobs needs --job NAME");
            return JobPlan.ReadJob(o.Jobs, o.Job);
        }
        if (o.Start is null || o.End is null) throw new BadInputException("give --jobs jobs.csv --job NAME, or --start and --end for a one-off job");
        var start = FrameInput.Gps(o.Start, "--start");
        var end = FrameInput.Gps(o.End, "--end");
        if (end <= start) throw new BadInputException($"--end {end} is not after --start {start}");
        var padding = workflow.Jobs.Padding;
        if (o.Padding is not null && (!GpsDuration.TryParse(o.Padding, out padding) || padding < GpsDuration.Zero))
            throw new BadInputException($"--padding '{o.Padding}' is not a non-negative number of seconds");
        var core = new Segment(start, end);
        return new JobSpec(o.Job ?? $"client-{start}", core, core.Protract(padding), 0, o.SequenceId ?? (ulong)Math.Max(1, start.Seconds));
    }

    private static string Stamp() => DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

    /// <summary>Log lines on stderr (one per committed frame), or a progress bar when on a terminal.</summary>
    private sealed class Reporter(string job, bool quiet) : IClientJobReporter
    {
        /// <summary>Fault injection for tests: <c>GWREPRO_CLIENT_KILL_AFTER_FRAMES=N</c> kills this process (SIGKILL) right after its N-th committed frame, as a preempted job dies.</summary>
        private readonly int _killAfter = int.TryParse(Environment.GetEnvironmentVariable("GWREPRO_CLIENT_KILL_AFTER_FRAMES"), out int n) ? n : 0;
        private int _committed;

        public Action<Segment, double>? Progress { get; set; }

        /// <summary>True once the job streams to a detection-only ensemble: what it commits are score files, not frames.</summary>
        public Func<bool> ScoresOnly { get; set; } = () => false;

        public void Info(string line)
        {
            if (!quiet) Console.Error.WriteLine($"{Stamp()} client {job}: {line}");
        }

        public void FrameCommitted(Segment frame, int index, int total, double rate)
        {
            if (Progress is { } p) p(frame, rate);
            else if (!quiet)
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{Stamp()} client {job}: committed {(ScoresOnly() ? "scores" : "frame")} {index + 1}/{total} [{frame.Start}, {frame.End}) ({rate:F1} s of data per s)"));
            if (++_committed == _killAfter) System.Diagnostics.Process.GetCurrentProcess().Kill();
        }
    }
}
