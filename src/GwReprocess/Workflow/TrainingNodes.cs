using System.Globalization;
using System.Text;

namespace GwReprocess.Workflow;

/// <summary>The training nodes <c>gwrepro dag</c> writes for a workflow with <c>[training]</c>: train.sub's values and the DAG lines.</summary>
/// <remarks>
/// One node per trained chunk runs the training program (<c>[training] program</c>) as
/// <c>deepclean --workflow workflow.toml --fit DATA --start S --end E --validation V --out REPOSITORY --version K</c>
/// (then <c>--root</c>, <c>--seed</c>, <c>--epochs</c> when set, and <c>[training] arguments</c>); the program writes version K of the cleaners and the pinned
/// ensemble <c>&lt;ensemble&gt;-vK</c>, and the chunk's client nodes are its children.
/// </remarks>
public static class TrainingNodes
{
    /// <summary>The submit file of the training nodes in a run directory.</summary>
    public const string SubmitFile = "train.sub";

    /// <summary>The VARS keys a training node sets (train.sub's macros).</summary>
    public const string StartVar = "train_start", EndVar = "train_end", ValidationVar = "validation", VersionVar = "version";

    /// <summary>The VARS key of a client node naming its chunk's pinned ensemble (<c>gwrepro client --ensemble</c>).</summary>
    public const string EnsembleVar = "ensemble";

    /// <summary>
    /// What a client node of a training workflow adds to its command: its chunk's pinned ensemble, and no start barrier (the
    /// chunks' clients start as their models are trained, not together, so a barrier would only hold the first ones back).
    /// </summary>
    public static IReadOnlyList<string> ClientArguments { get; } = ["--ensemble", $"$({EnsembleVar})", "--no-barrier"];

    /// <summary>The training program a node runs: <c>[training] program</c> (relative to the workflow file), else <c>gwrepro-train</c> next to <paramref name="executable"/>, else on PATH.</summary>
    public static string Program(WorkflowConfig workflow, string executable)
    {
        var t = workflow.Training ?? throw new InvalidOperationException("the workflow has no [training]");
        if (t.Program is { } p)
            return Path.IsPathRooted(p) ? p : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(workflow.SourcePath)) ?? ".", p));
        string sibling = Path.Combine(Path.GetDirectoryName(executable) ?? ".", TrainingSpec.DefaultProgram);
        if (File.Exists(sibling)) return sibling;
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(dir, TrainingSpec.DefaultProgram);
            if (File.Exists(candidate)) return Path.GetFullPath(candidate);
        }
        return sibling;
    }

    /// <summary>The training program's argv after the program, with the node's macros for what differs per chunk.</summary>
    public static IReadOnlyList<string> Arguments(WorkflowConfig workflow)
    {
        var t = workflow.Training ?? throw new InvalidOperationException("the workflow has no [training]");
        var argv = new List<string>
        {
            "deepclean", "--workflow", RunDirectory.WorkflowName, "--fit", FitData(workflow),
            "--start", $"$({StartVar})", "--end", $"$({EndVar})", "--validation", $"$({ValidationVar})",
            "--out", workflow.Inference.ModelRepository, "--version", $"$({VersionVar})",
        };
        if (t.Root is { } root) argv.AddRange(["--root", root]);
        if (t.Seed is { } seed) argv.AddRange(["--seed", seed.ToString(CultureInfo.InvariantCulture)]);
        if (t.Epochs is { } epochs) argv.AddRange(["--epochs", epochs.ToString(CultureInfo.InvariantCulture)]);
        argv.AddRange(t.Arguments);
        return argv;
    }

    /// <summary>The frames the program trains on, as the workflow names them: the simulation directory, the LAL cache or the bucket prefix.</summary>
    public static string FitData(WorkflowConfig workflow) => workflow.Data.Kind switch
    {
        DataSourceKind.Simulated => workflow.Data.Simulation!.Directory,
        // The normalised path the jobs are sent it under ('./a/../b.lcf' would need an a/ the sandbox lacks).
        DataSourceKind.Cache => workflow.Data.CacheInRunDirectory() ?? workflow.Data.Cache!,
        _ => workflow.Data.Bucket!,
    };

    /// <summary>train.sub's placeholder values.</summary>
    public static IEnumerable<KeyValuePair<string, string>> Values(WorkflowConfig workflow, string executable)
    {
        var t = workflow.Training!;
        yield return new("train_executable", Program(workflow, executable));
        yield return new("train_arguments", SubmitArguments.Quote(Arguments(workflow)));
        yield return new("train_cpus", t.Cpus.ToString(CultureInfo.InvariantCulture));
        yield return new("train_memory", t.Memory);
    }

    /// <summary>
    /// Appends one training node per chunk and its PARENT … CHILD line; a node whose clients are all DONE is DONE too
    /// (its model is no longer needed).
    /// </summary>
    internal static void Render(StringBuilder sb, WorkflowConfig workflow, TrainingPlan plan, IReadOnlySet<string>? done)
    {
        string tag = workflow.IfoTag;
        foreach (var span in plan.Spans)
        {
            string node = span.NodeName(tag);
            sb.Append("JOB ").Append(node).Append(' ').Append(SubmitFile);
            if (done is not null && span.Jobs.All(j => done.Contains(j.Name))) sb.Append(" DONE");
            sb.Append('\n');
            sb.Append("VARS ").Append(node)
              .Append(' ').Append(DagWriter.Var(StartVar, span.Train.Start.ToString()))
              .Append(' ').Append(DagWriter.Var(EndVar, span.Train.End.ToString()))
              .Append(' ').Append(DagWriter.Var(ValidationVar, span.Validation.ToString()))
              .Append(' ').Append(DagWriter.Var(VersionVar, span.Version.ToString(CultureInfo.InvariantCulture))).Append('\n');
            sb.Append("RETRY ").Append(node).Append(' ').Append(workflow.Condor.Retries.ToString(CultureInfo.InvariantCulture)).Append(" UNLESS-EXIT 2\n");
            sb.Append("CATEGORY ").Append(node).Append(" training\n");
            sb.Append("PARENT ").Append(node).Append(" CHILD");
            foreach (var j in span.Jobs) sb.Append(' ').Append(j.Name);
            sb.Append("\n\n");
        }
    }
}
