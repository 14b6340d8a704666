using CommandLine;
using GwReprocess.Data;
using GwReprocess.Frames;
using GwReprocess.IO;
using GwReprocess.Time;
using GwReprocess.Workflow;

namespace GwReprocess.Cli.Verbs;

/// <summary><c>gwrepro dag</c>: plan a workflow into jobs and write the HTCondor run directory; <c>gwrepro dag check</c> validates DAGs.</summary>
public sealed class DagVerb : CliVerb
{
    public override string Name => "dag";
    public override string Summary => "Plan a workflow into jobs and write the HTCondor DAG and submit files; 'dag check' validates a DAG.";

    [Verb("plan", isDefault: true, HelpText = "gwrepro dag WORKFLOW.toml --out RUNDIR: plan jobs and write reprocess.dag, submit files, dagman.config, jobs.csv.")]
    public sealed class PlanOptions : CommonOptions
    {
        [Value(0, MetaName = "WORKFLOW", Required = true, HelpText = "Workflow file (TOML).")]
        public string Workflow { get; set; } = "";

        [Option('o', "out", HelpText = "Run directory to write (created if missing). Required unless --dry-run. The jobs read its copy of the workflow, so relative data.cache, outputs.uri and inference.model_repository are taken in it: a relative cache it lacks is copied in from beside the workflow or here (relative file names made absolute; none: exit 2); a missing relative repository is one warning line (give an absolute path, or copy it there).")]
        public string? Out { get; set; }

        [Option("dry-run", HelpText = "Plan and print the summary without writing anything.")]
        public bool DryRun { get; set; }

        [Option("executable", HelpText = "Path of the gwrepro binary the jobs run (default: condor.executable, else this binary).")]
        public string? Executable { get; set; }

        [Option("no-resume", HelpText = "Do not look for committed jobs in the output prefix (no job is marked DONE).")]
        public bool NoResume { get; set; }
    }

    [Verb("check", HelpText = "Validate a DAG file (and its submit files) with DAGMan's parser rules; a rescue DAG (x.dag.rescueNNN) is read after its original, as DAGMan does.")]
    public sealed class CheckOptions : CommonOptions
    {
        [Value(0, MetaName = "DAG", Required = true, HelpText = "DAG file.")]
        public string Dag { get; set; } = "";

        [Option("no-submit-files", HelpText = "Check only the DAG, not the submit files it names.")]
        public bool NoSubmitFiles { get; set; }
    }

    public override Task<int> RunAsync(string[] args, CancellationToken cancellationToken) =>
        ArgumentParsing.RunVerbsAsync(Name, args, [typeof(PlanOptions), typeof(CheckOptions)], options => options switch
        {
            PlanOptions o => PlanAsync(o, cancellationToken),
            CheckOptions o => Task.FromResult(Check(o)),
            _ => throw new InvalidOperationException(),
        });

    private static async Task<int> PlanAsync(PlanOptions o, CancellationToken ct)
    {
        if (!o.DryRun && o.Out is null) throw new BadInputException("--out RUNDIR is required (or --dry-run)");
        var workflow = WorkflowConfig.Load(o.Workflow);
        // The jobs read the run directory's copy of the workflow, so its relative paths are taken there (beside the workflow without --out).
        var inputs = new RunInputs(workflow, o.Out);
        string? cache = inputs.FindCache();
        var plan = JobPlanner.PlanFromFiles(workflow, cache);
        if (plan.Jobs.Count == 0) throw new BadInputException($"{o.Workflow}: no analyzable time in [{workflow.Data.Span.Start}, {workflow.Data.Span.End}) after segments, frames and padding");
        string? executable = o.DryRun ? null : o.Executable ?? ResolveExecutable(workflow);

        HashSet<string>? done = null;
        if (o.Out is not null && !o.NoResume)
        {
            try
            {
                done = await DagWriter.CommittedJobsAsync(inputs.Outputs, ct);
                done.IntersectWith(plan.Jobs.Select(j => j.Name));
            }
            catch (Exception e) when (e is BadInputException or IOException or HttpRequestException)
            {
                // Not marking a job DONE only costs a rerun: each client still skips frames it already committed.
                Console.Error.WriteLine($"warning: could not look for committed jobs in {inputs.Outputs} ({e.Message}); no job is marked DONE (--no-resume skips this check)");
            }
        }
        if (o.Out is not null && inputs.MissingRepositoryWarning() is { } warning) Console.Error.WriteLine(warning);
        double mean = plan.DataDuration.TotalSeconds / plan.Jobs.Count;
        Console.Out.WriteLine($"workflow:  {workflow.Name} ({o.Workflow}), site profile {workflow.Site.Name}, HTCondor >= {workflow.Condor.MinimumVersion}");
        Console.Out.WriteLine($"data:      {workflow.IfoTag} [{workflow.Data.Span.Start}, {workflow.Data.Span.End}); {plan.Analyzable.TotalDuration} s analyzable in {plan.Analyzable.Count} segment(s)");
        Console.Out.WriteLine($"jobs:      {plan.Jobs.Count} client job(s), {plan.DataDuration} s of data, {mean:F0} s per job on average, {workflow.Jobs.Padding} s padding each side");
        Console.Out.WriteLine((plan.OnFrameGrid, workflow.StrainOnly) switch
        {
            (true, false) => "frames:    jobs cut at input file boundaries: each cleaned frame keeps its input file's span (shorter only at segment edges)",
            (false, false) => "frames:    the bucket's files are not listed at plan time: jobs cut every [jobs] length, so cleaned frames are also cut at job boundaries",
            (true, true) => "frames:    jobs cut at input file boundaries: strain-only (no witnesses), so no cleaned frame; each score file keeps its input file's span (shorter only at segment edges)",
            (false, true) => "frames:    the bucket's files are not listed at plan time: jobs cut every [jobs] length; strain-only (no witnesses), so no cleaned frame; score files are also cut at job boundaries",
        });
        Console.Out.WriteLine($"servers:   {(workflow.Inference.StartsServers ? $"{workflow.Inference.Servers} server node(s)" : string.Join(", ", workflow.Inference.Addresses))}, at most {Math.Max(1, workflow.Inference.ServerCount) * workflow.Inference.ClientsPerServer} clients at once");
        if (workflow.Training is not null)
        {
            var chunks = TrainingPlan.Create(plan).Spans;
            Console.Out.WriteLine(chunks.Count == 0
                ? "training:  no chunk to train (no segment of at least training.minimum)"
                : $"training:  {chunks.Count} training node(s) (cleaner versions {chunks[0].Version}-{chunks[^1].Version}); each chunk's clients stream to {workflow.Inference.Ensemble}-v<version>; servers poll the repository every {workflow.Training.PollSeconds} s");
        }
        if (done is { Count: > 0 }) Console.Out.WriteLine($"resume:    {done.Count} job(s) already committed, marked DONE");
        if (o.DryRun) return ExitCodes.Success;

        var run = await DagWriter.WriteAsync(plan, o.Out!, executable!, done, ct);
        if (cache is not null && await inputs.CopyCacheAsync(cache, ct))
            Console.Out.WriteLine($"cache:     {Path.GetFullPath(cache)} copied to {inputs.Cache} (its relative file names made absolute)");
        var problems = DagChecker.CheckFile(run.DagFile);
        foreach (var p in problems) Console.Error.WriteLine(p);
        if (problems.Count > 0) return ExitCodes.Failure;
        Console.Out.WriteLine($"written:   {run.DagFile} (submit with: condor_submit_dag {RunDirectory.DagName}, from {Path.GetFullPath(run.Path)})");
        return ExitCodes.Success;
    }

    private static string ResolveExecutable(WorkflowConfig workflow)
    {
        if (workflow.Condor.Executable != "gwrepro") return workflow.Condor.Executable;
        string? self = Environment.ProcessPath;
        if (self is not null && Path.GetFileName(self) == "gwrepro") return self;
        throw new BadInputException($"{workflow.SourcePath}: condor.executable: set it (or --executable) to the published gwrepro binary the jobs should run");
    }

    private static int Check(CheckOptions o)
    {
        var problems = DagChecker.CheckFile(o.Dag, !o.NoSubmitFiles);
        foreach (var p in problems) Console.Error.WriteLine(p);
        if (problems.Count > 0)
        {
            Console.Error.WriteLine($"{o.Dag}: {problems.Count} problem(s)");
            return ExitCodes.BadInput;
        }
        if (!o.Quiet) Console.Out.WriteLine($"{o.Dag}: OK");
        return ExitCodes.Success;
    }
}
