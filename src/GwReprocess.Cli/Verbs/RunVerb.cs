using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using CommandLine;
using GwReprocess.IO;
using GwReprocess.Models;
using GwReprocess.Simulation;
using GwReprocess.Workflow;
using Spectre.Console;

namespace GwReprocess.Cli.Verbs;

/// <summary><c>gwrepro run</c>: the whole chain on one machine — data, models, the DAG, its nodes as local processes, the report.</summary>
public sealed class RunVerb : CliVerb
{
    public override string Name => "run";
    public override string Summary => "Run a workflow (TOML) end to end on this machine: data, models, server, clients, report.";

    /// <summary>The workflow <c>gwrepro run</c> runs when given none (workflows/local-demo.toml, embedded).</summary>
    public const string DefaultWorkflow = "workflows/local-demo.toml";

    /// <summary>Options of <c>gwrepro run</c>.</summary>
    public sealed class Options : CommonOptions
    {
        [Value(0, MetaName = "WORKFLOW", HelpText = "Workflow file (TOML). Default: the embedded workflows/local-demo.toml (two detectors, one hour of simulated data).")]
        public string? Workflow { get; set; }

        [Option('o', "out", HelpText = "Run directory (created if missing; default runs/<run name>). Frames, models and outputs go where the workflow says, relative to it.")]
        public string? Out { get; set; }

        [Option("dag", HelpText = "Run the nodes of an existing DAG (e.g. RUNDIR/reprocess.dag written by gwrepro dag) instead of a workflow: no simulation, model build or report.")]
        public string? Dag { get; set; }

        [Option("prepare-only", HelpText = "Only simulate the data and build the models when missing, then stop (a pool run then writes its run directory with gwrepro dag and submits it).")]
        public bool PrepareOnly { get; set; }

        [Option("no-rescue", HelpText = "Ignore rescue DAGs (reprocess.dag.rescueNNN) instead of resuming from the highest, like condor_submit_dag -f.")]
        public bool NoRescue { get; set; }

        [Option("stop-grace", Default = 30.0, HelpText = "Seconds the servers get to stop by themselves after the FINAL node before they are killed.")]
        public double StopGrace { get; set; }

        [Option("server-timeout", Default = 600.0, HelpText = "Seconds a PROVISIONER node may take to become ready (gwrepro serve: to publish its address).")]
        public double ServerTimeout { get; set; }
    }

    public override Task<int> RunAsync(string[] args, CancellationToken cancellationToken) =>
        ArgumentParsing.RunAsync<Options>(Name, args, o => RunAsync(o, cancellationToken));

    private static async Task<int> RunAsync(Options o, CancellationToken ct)
    {
        if (!(o.StopGrace >= 0)) throw new BadInputException($"--stop-grace {o.StopGrace}: must be a non-negative number of seconds");
        if (!(o.ServerTimeout > 0)) throw new BadInputException($"--server-timeout {o.ServerTimeout}: must be a positive number of seconds");
        var ui = new RunConsole(o.Quiet);
        var clock = Stopwatch.StartNew();
        if (o.Dag is not null)
        {
            if (o.Workflow is not null || o.Out is not null) throw new BadInputException("--dag runs an existing DAG: give no WORKFLOW or --out with it");
            var dagResult = await ExecuteAsync(o.Dag, ServeCommand.OfRunDirectory(o.Dag), o, ui, ct);
            return ui.Summary(dagResult, null, clock.Elapsed);
        }

        var run = await CreateRunAsync(o, ct);
        var w = run.Workflow;
        ui.Line($"workflow {w.Name} ({w.SourcePath}): {w.IfoTag} [{w.Data.Span.Start}, {w.Data.Span.End}), run directory {run.Directory}");

        if (run.NeedsSimulation())
        {
            var started = Stopwatch.StartNew();
            var sim = await ui.SimulateAsync(run, ct);
            ui.Line(string.Create(CultureInfo.InvariantCulture, $"simulated {sim.Files.Count} frame file(s) into {run.FramesDirectory} in {started.Elapsed.TotalSeconds:F1} s"));
        }
        else if (run.FramesDirectory is not null) ui.Line($"frames: {run.FramesDirectory} (present)");

        // The run directory's copy of the workflow reads data.cache from there: a cache beside the workflow (or here) is copied in.
        if (run.Inputs.FindCache() is { } cache && await run.Inputs.CopyCacheAsync(cache, ct))
            ui.Line($"frames: cache {Path.GetFullPath(cache)} copied to {run.Cache} (its relative file names made absolute)");

        if (run.NeedsModels())
        {
            var started = Stopwatch.StartNew();
            // A repository that already serves this workflow (the committed demo one, next to the workflow or here) is copied.
            if (run.Inputs.FindCompatibleRepository() is { } existing)
            {
                run.CopyRepository(existing);
                ui.Line($"models: copied {existing} (it takes this workflow's channels, window hop and batch)");
            }
            else if (w.StrainOnly)
            {
                // The repository gwrepro run builds fits Wiener cleaners to witnesses; a strain-only workflow has none to fit.
                throw new BadInputException($"{w.SourcePath}: strain-only workflow (no witnesses): {run.ModelRepository} has no ensemble '{w.Inference.Ensemble}' and gwrepro run builds cleaning repositories only; put a detection-only one there (input [1, {w.Detectors.Count}, B·stride] of the strains, output 'score' only)");
            }
            else
            {
                await ui.StatusAsync($"building the model repository {run.ModelRepository}", () => BuildModelsAsync(run, o.Verbose, ct));
                ui.Line(string.Create(CultureInfo.InvariantCulture, $"models: built {run.ModelRepository} in {started.Elapsed.TotalSeconds:F1} s"));
            }
        }
        else ui.Line($"models: {run.ModelRepository} (present)");
        if (o.PrepareOnly)
        {
            Console.Out.WriteLine($"run: prepared {run.Directory} (frames and models); write its DAG with: gwrepro dag {run.Workflow.SourcePath} --out {run.Directory}");
            return ExitCodes.Success;
        }

        var (plan, written) = await run.WriteDagAsync(DagExecutable(w), ct);
        ui.Line($"dag: {written.DagFile}: {plan.Jobs.Count} client job(s){(written.JobsDone > 0 ? $" ({written.JobsDone} already done)" : "")}, {plan.DataDuration} s of data, {w.Inference.ServerCount} server(s)");

        if (!o.NoRescue)
        {
            var rescue = run.ReconcileRescues();
            if (rescue.Disagreement is not null)
                ui.Line($"rescue: {rescue.Disagreement}; set aside {rescue.SetAside.Count} rescue DAG(s) as .old, as condor_submit_dag -force does (the DAG just written from the committed outputs is where this run resumes)");
            else if (rescue.Applies is not null)
                ui.Line($"rescue: resuming from {Path.GetFileName(rescue.Applies)} (it agrees with the committed outputs)");
        }
        int stale = await run.ResetRendezvousAsync(ct);
        if (stale > 0) ui.Line($"rendezvous: removed {stale} object(s) a previous run left (stop marker, server addresses, barrier)");
        var result = await ExecuteAsync(written.DagFile, ServeCommand.For(w), o, ui, ct);
        return ui.Summary(result, run.ReportDirectory, clock.Elapsed, w.StrainOnly);
    }

    /// <summary>The run directory: --out, else runs/&lt;name&gt;; with no workflow given, the embedded demo is written into it first.</summary>
    private static async Task<LocalRun> CreateRunAsync(Options o, CancellationToken ct)
    {
        if (o.Workflow is not null)
        {
            string @out = o.Out ?? Path.Combine("runs", WorkflowConfig.Load(o.Workflow).Name);
            return LocalRun.Create(o.Workflow, @out);
        }
        using var stream = typeof(RunVerb).Assembly.GetManifestResourceStream(DefaultWorkflow)
            ?? throw new InvalidOperationException($"embedded {DefaultWorkflow} is missing from the build");
        string text = await new StreamReader(stream).ReadToEndAsync(ct);
        string dir = o.Out ?? Path.Combine("runs", WorkflowConfig.Parse(text, DefaultWorkflow).Name);
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, "workflow.toml");
        if (!File.Exists(path) || await File.ReadAllTextAsync(path, ct) != text)
            await GwReprocess.IO.AtomicFile.WriteAllTextAsync(path, text, ct);
        return LocalRun.Create(path, dir);
    }

    /// <summary>
    /// The one place <c>gwrepro run</c> builds a missing model repository, through the same library call as <c>gwrepro models build</c>,
    /// with the run's own request (<see cref="LocalRun.ModelRepositoryRequestAsync"/>); its output only with --verbose.
    /// </summary>
    internal static async Task BuildModelsAsync(LocalRun run, bool verbose, CancellationToken ct)
    {
        var request = await run.ModelRepositoryRequestAsync(ct);
        var result = await ModelRepositoryBuild.BuildAsync(request, verbose ? Console.Error.WriteLine : null, ct);
        int code = ModelsVerb.Report(result, request.Directory, quiet: !verbose);
        if (code != ExitCodes.Success) throw new BadInputException($"building the model repository {request.Directory} failed: {result.Problems[0]}");
    }

    /// <summary>The gwrepro the DAG names: condor.executable when set, else this binary (the apphost beside gwrepro.dll under dotnet).</summary>
    private static string DagExecutable(WorkflowConfig w)
    {
        if (w.Condor.Executable != LocalExecutable.GwreproName) return w.Condor.Executable;
        string? self = Environment.ProcessPath;
        if (self is not null && Path.GetFileName(self) == LocalExecutable.GwreproName) return self;
        string apphost = Path.Combine(AppContext.BaseDirectory, LocalExecutable.GwreproName);
        return File.Exists(apphost) ? apphost : LocalExecutable.GwreproName;
    }

    /// <summary>This gwrepro as a program to start: the binary itself, or <c>dotnet gwrepro.dll</c>.</summary>
    internal static LocalExecutable Self()
    {
        string self = Environment.ProcessPath ?? throw new InvalidOperationException("no process path");
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            // Under `dotnet gwrepro.dll` (a framework-dependent build); a published binary is its own process.
            return new LocalExecutable(self, [Path.Combine(AppContext.BaseDirectory, "gwrepro.dll")]);
        }
        return new LocalExecutable(self, []);
    }

    private static Task<LocalDagResult> ExecuteAsync(string dag, ServeCommand? serve, Options o, RunConsole ui, CancellationToken ct)
    {
        var options = new LocalDagOptions
        {
            Executable = Self(),
            ProvisionerReady = (node, command, token) => ServerPublishedAsync(serve, node, command, token),
            ProvisionerTimeout = TimeSpan.FromSeconds(o.ServerTimeout),
            StopGrace = TimeSpan.FromSeconds(o.StopGrace),
            UseRescue = !o.NoRescue,
        };
        return ui.ExecuteAsync(dag, options, ct);
    }

    /// <summary>
    /// A server node (gwrepro serve) is ready once it has published rendezvous/servers/&lt;name&gt;, through the server's own
    /// Rendezvous code (a PROVISIONER on a pool also runs condor_chirp, which needs a schedd). Where and under which name
    /// come from the typed command the DAG was written from, never from the node's argv.
    /// </summary>
    private static async Task<bool> ServerPublishedAsync(ServeCommand? serve, DagNode node, LocalCommand command, CancellationToken ct)
    {
        if (serve is null || node.SubmitFile != ServeCommand.SubmitFile) return true; // not a gwrepro server: running is all we can know
        string location = serve.Rendezvous;
        string server = serve.NameFor(node.Name);
        var rendezvousLocation = Location.Parse(location).Resolve(command.WorkingDirectory);
        location = rendezvousLocation.ToString();
        if (!rendezvousLocation.IsUrl && !Directory.Exists(location)) return false;
        using var rendezvous = Server.Hosting.Rendezvous.Open(location);
        return (await rendezvous.ServersAsync(ct)).ContainsKey(server);
    }

    /// <summary>Progress bars on a terminal, plain timestamped lines otherwise (logs, CI).</summary>
    private sealed class RunConsole(bool quiet)
    {
        private readonly bool _interactive = !quiet && !Console.IsErrorRedirected && AnsiConsole.Profile.Capabilities.Interactive;
        private readonly object _gate = new();

        public void Line(string text)
        {
            if (quiet) return;
            lock (_gate)
            {
                if (_interactive) AnsiConsole.MarkupLine(Markup.Escape(text));
                else Console.Error.WriteLine($"{DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)} gwrepro run: {text}");
            }
        }

        public async Task<SimulationResult> SimulateAsync(LocalRun run, CancellationToken ct)
        {
            var options = WorkflowSimulation.Options(run.Workflow);
            double total = Math.Max(1, options.Ifos.Count * options.Duration);
            if (!_interactive)
            {
                Line($"simulating {string.Join("+", options.Ifos)} [{options.Span.Start}, {options.Span.End}) into {run.FramesDirectory}");
                return await run.SimulateAsync(new Sync<SimulationProgress>(p =>
                {
                    if (p.FileWritten) Line(string.Create(CultureInfo.InvariantCulture, $"simulate: {100 * p.SecondsDone / total:F0}% {p.Ifo} {p.File}"));
                }), ct);
            }
            SimulationResult result = null!;
            await AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .StartAsync(async ctx =>
                {
                    var task = ctx.AddTask($"simulating {string.Join("+", options.Ifos)}", maxValue: total);
                    result = await run.SimulateAsync(new Sync<SimulationProgress>(p => task.Value = p.SecondsDone), ct);
                    task.Value = total;
                });
            return result;
        }

        public async Task StatusAsync(string text, Func<Task> work)
        {
            if (!_interactive) { Line(text); await work(); return; }
            await AnsiConsole.Status().StartAsync(Markup.Escape(text), _ => work());
        }

        public async Task<LocalDagResult> ExecuteAsync(string dagPath, LocalDagOptions options, CancellationToken ct)
        {
            if (!_interactive)
                return await LocalDagExecutor.RunAsync(dagPath, options with { Progress = new Sync<LocalDagEvent>(Log) }, ct);
            var dag = DagFile.Load(dagPath);
            LocalDagResult result = null!;
            await AnsiConsole.Progress()
                .AutoClear(false)
                .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn { Width = 16 }, new ElapsedTimeColumn(), new SpinnerColumn())
                .StartAsync(async ctx =>
                {
                    int width = dag.Nodes.Max(n => n.Name.Length);
                    string Label(string node, string state, bool escape = true) =>
                        $"{Markup.Escape(node.PadRight(width))} {(escape ? Markup.Escape(state) : state)}";
                    var jobs = dag.Nodes.Where(n => n.Kind == DagNodeKind.Job && !NodeNames.IsTraining(n.Name)).ToList();
                    var overall = ctx.AddTask(Label("client jobs", ""), maxValue: Math.Max(1, jobs.Count));
                    var tasks = new Dictionary<string, ProgressTask>(StringComparer.Ordinal);
                    foreach (var n in dag.Nodes.Where(n => n.Kind != DagNodeKind.Job || NodeNames.IsTraining(n.Name)))
                        tasks[n.Name] = ctx.AddTask(Label(n.Name, "waiting"), autoStart: false, maxValue: 1);
                    foreach (var n in jobs) tasks[n.Name] = ctx.AddTask(Label(n.Name, "waiting"), autoStart: false, maxValue: 1);
                    var progress = new Sync<LocalDagEvent>(e =>
                    {
                        var t = tasks[e.Node.Name];
                        switch (e.Kind)
                        {
                            case LocalDagEventKind.Started:
                                if (!t.IsStarted) t.StartTask();
                                t.IsIndeterminate = true;
                                t.Description = Label(e.Node.Name, e.Attempt > 1 ? $"running (try {e.Attempt})" : "running");
                                break;
                            case LocalDagEventKind.Ready:
                                t.Description = Label(e.Node.Name, "[green]serving[/]", escape: false);
                                break;
                            case LocalDagEventKind.Retrying:
                                t.Description = Label(e.Node.Name, $"retrying (exit {e.ExitCode})");
                                break;
                            case LocalDagEventKind.Restarted:
                                t.Description = Label(e.Node.Name, $"restarted (exit {e.ExitCode})");
                                break;
                            default:
                                t.IsIndeterminate = false;
                                t.Value = 1;
                                string state = e.Kind switch
                                {
                                    LocalDagEventKind.Succeeded => "[green]done[/]",
                                    LocalDagEventKind.Skipped => "[grey]done before[/]",
                                    LocalDagEventKind.Failed => e.ExitCode is int code ? $"[red]failed[/] (exit {code})" : "[red]failed[/]",
                                    LocalDagEventKind.Futile => "[yellow]not run[/]",
                                    _ => "[grey]stopped[/]",
                                };
                                t.Description = Label(e.Node.Name, state, escape: false);
                                if (!t.IsStarted) t.StartTask();
                                t.StopTask();
                                if (e.Node.Kind == DagNodeKind.Job && !NodeNames.IsTraining(e.Node.Name) && e.Kind is LocalDagEventKind.Succeeded or LocalDagEventKind.Skipped or LocalDagEventKind.Failed or LocalDagEventKind.Futile)
                                    overall.Increment(1);
                                break;
                        }
                    });
                    result = await LocalDagExecutor.RunAsync(dagPath, options with { Progress = progress }, ct);
                    overall.Value = overall.MaxValue;
                });
            return result;
        }

        private void Log(LocalDagEvent e)
        {
            string text = e.Kind switch
            {
                LocalDagEventKind.Started => $"{e.Node.Name}: started ({e.Message})",
                LocalDagEventKind.Skipped => $"{e.Node.Name}: DONE, skipped",
                LocalDagEventKind.Ready => $"{e.Node.Name}: {e.Message}",
                LocalDagEventKind.Restarted => $"{e.Node.Name}: restarted ({e.Message})",
                _ => string.Create(CultureInfo.InvariantCulture, $"{e.Node.Name}: {e.Kind.ToString().ToLowerInvariant()} ({e.Message}) after {e.Elapsed.TotalSeconds:F1} s"),
            };
            Line(text);
        }

        /// <summary>Prints the outcome and where the report is; the exit code: 0 all succeeded, 3 some nodes failed, 1 the server never came up.</summary>
        public int Summary(LocalDagResult r, string? reportDirectory, TimeSpan elapsed, bool strainOnly = false)
        {
            var jobs = r.Nodes.Where(n => n.Kind == DagNodeKind.Job && !NodeNames.IsTraining(n.Name)).ToList();
            var training = r.Nodes.Where(n => n.Kind == DagNodeKind.Job && NodeNames.IsTraining(n.Name)).ToList();
            var final = r.Nodes.FirstOrDefault(n => n.Kind == DagNodeKind.Final);
            int ok = jobs.Count(n => n.State == LocalNodeState.Succeeded), done = jobs.Count(n => n.State == LocalNodeState.Done);
            int failed = jobs.Count(n => n.State == LocalNodeState.Failed), futile = jobs.Count(n => n.State == LocalNodeState.Futile);
            string finalText = final is null ? "" : $"; final node {final.Name} {(final.State == LocalNodeState.Succeeded ? "succeeded" : $"failed (exit code {final.ExitCode?.ToString(CultureInfo.InvariantCulture) ?? "none"})")}";
            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"run: {ok + done} of {jobs.Count} client job(s) complete ({ok} run, {done} done before), {failed} failed, {futile} not run{finalText}; {elapsed.TotalSeconds:F1} s"));
            if (training.Count > 0)
                Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"run: {training.Count(n => n.State is LocalNodeState.Succeeded or LocalNodeState.Done)} of {training.Count} training node(s) complete, {training.Count(n => n.State == LocalNodeState.Failed)} failed, {training.Count(n => n.State == LocalNodeState.Futile)} not run"));
            if (r.ProvisionerFailed) Console.Out.WriteLine("run: the server (PROVISIONER node) never became ready; see its log in logs/");
            foreach (var n in r.Nodes.Where(n => n.State == LocalNodeState.Failed))
                Console.Out.WriteLine($"run: failed: {n.Name} (exit code {n.ExitCode?.ToString(CultureInfo.InvariantCulture) ?? "none"} after {n.Attempts} attempt(s)); its output is in logs/");
            if (r.RescueWritten is not null) Console.Out.WriteLine($"run: rescue DAG {r.RescueWritten}: run again to resume");
            if (r.NodeStatusFile is not null || r.JobstateLog is not null)
                Console.Out.WriteLine($"run: DAGMan's records: {string.Join(", ", new[] { r.NodeStatusFile, r.JobstateLog }.OfType<string>())}");
            if (reportDirectory is not null)
            {
                string html = Path.Combine(reportDirectory, "report.html");
                if (File.Exists(html))
                {
                    if (Throughput(Path.Combine(reportDirectory, "summary.json"), strainOnly) is { } line) Console.Out.WriteLine($"run: {line}");
                    Console.Out.WriteLine($"report: {html}");
                }
                else Console.Out.WriteLine($"run: no report was written ({html} is missing)");
            }
            if (r.ProvisionerFailed) return ExitCodes.Failure;
            return r.AllSucceeded ? ExitCodes.Success : ExitCodes.Partial;
        }

        private static string? Throughput(string summaryJson, bool strainOnly)
        {
            if (!File.Exists(summaryJson)) return null;
            using var doc = JsonDocument.Parse(File.ReadAllText(summaryJson));
            if (!doc.RootElement.TryGetProperty("runs", out var runs) || runs.GetArrayLength() == 0) return null;
            var s = runs[0];
            double data = s.GetProperty("data_seconds").GetDouble(), wall = s.GetProperty("wall_seconds").GetDouble(), rate = s.GetProperty("data_seconds_per_second").GetDouble();
            return string.Create(CultureInfo.InvariantCulture, $"{data:F0} s of data {(strainOnly ? "searched (strain-only, nothing cleaned)" : "cleaned and searched")} in {wall:F1} s of client time = {rate:G4} s of data per s");
        }
    }

    /// <summary>Reports on the calling thread, in order (Progress&lt;T&gt; would post to the thread pool).</summary>
    private sealed class Sync<T>(Action<T> report) : IProgress<T>
    {
        private readonly object _gate = new();

        public void Report(T value)
        {
            lock (_gate) report(value);
        }
    }
}
