using System.Diagnostics;
using System.Globalization;
using GwReprocess.IO;

namespace GwReprocess.Workflow;

/// <summary>The program a node runs instead of a submit file's <c>gwrepro</c> executable (the running gwrepro), with arguments put before the node's.</summary>
public sealed record LocalExecutable(string Path, IReadOnlyList<string> PrefixArguments)
{
    /// <summary>Submit files whose executable has this file name run <see cref="Path"/> instead.</summary>
    public const string GwreproName = "gwrepro";
}

/// <summary>One process a node runs: what condor_submit would make of the node's submit file and VARS.</summary>
public sealed record LocalCommand(
    string Executable, IReadOnlyList<string> Arguments, string WorkingDirectory,
    string? Output, string? Error, string? Input, IReadOnlyList<KeyValuePair<string, string>> Environment);

/// <summary>Where a node ended up.</summary>
public enum LocalNodeState
{
    /// <summary>Marked DONE in the DAG or a rescue DAG: not run.</summary>
    Done,
    /// <summary>Ran and exited 0 (or was NOOP).</summary>
    Succeeded,
    /// <summary>Ran, and failed after its retries.</summary>
    Failed,
    /// <summary>Not run because a parent failed (DAGMan's FUTILE), or the provisioner never became ready.</summary>
    Futile,
    /// <summary>A SERVICE or PROVISIONER node that was stopped at the end.</summary>
    Stopped,
}

/// <summary>What happened to a node, reported as it happens.</summary>
public enum LocalDagEventKind
{
    /// <summary>The node is DONE already.</summary>
    Skipped,
    /// <summary>An attempt started.</summary>
    Started,
    /// <summary>The PROVISIONER said it is ready.</summary>
    Ready,
    /// <summary>The node succeeded.</summary>
    Succeeded,
    /// <summary>An attempt failed and the node will be run again.</summary>
    Retrying,
    /// <summary>The node failed for good.</summary>
    Failed,
    /// <summary>The node will not run because a parent failed.</summary>
    Futile,
    /// <summary>A SERVICE/PROVISIONER process ended (by itself, or killed after the grace period).</summary>
    Stopped,
}

/// <summary>One progress report of <see cref="LocalDagExecutor"/>.</summary>
public sealed record LocalDagEvent(DagNode Node, LocalDagEventKind Kind, int Attempt, int? ExitCode, TimeSpan Elapsed, string Message);

/// <summary>The outcome of one node.</summary>
public sealed record LocalNodeResult(string Name, DagNodeKind Kind, LocalNodeState State, int Attempts, int? ExitCode, TimeSpan Elapsed);

/// <summary>The outcome of a local DAG execution.</summary>
public sealed record LocalDagResult(IReadOnlyList<LocalNodeResult> Nodes, string? AppliedRescue, string? RescueWritten, bool ProvisionerFailed, TimeSpan Elapsed)
{
    private IEnumerable<LocalNodeResult> Counted => Nodes.Where(n => n.Kind is DagNodeKind.Job or DagNodeKind.Final);

    /// <summary>JOB and FINAL nodes that ran and succeeded.</summary>
    public int Succeeded => Counted.Count(n => n.State == LocalNodeState.Succeeded);

    /// <summary>JOB and FINAL nodes DONE before the run.</summary>
    public int Done => Counted.Count(n => n.State == LocalNodeState.Done);

    /// <summary>JOB and FINAL nodes that failed after their retries.</summary>
    public int Failed => Counted.Count(n => n.State == LocalNodeState.Failed);

    /// <summary>JOB nodes never run because a parent failed or the provisioner was not ready.</summary>
    public int Futile => Counted.Count(n => n.State == LocalNodeState.Futile);

    /// <summary>The node status file written (NODE_STATUS_FILE), or null when the DAG names none.</summary>
    public string? NodeStatusFile { get; init; }

    /// <summary>The jobstate log appended to (JOBSTATE_LOG), or null when the DAG names none.</summary>
    public string? JobstateLog { get; init; }

    /// <summary>True when every JOB and FINAL node is done or succeeded.</summary>
    public bool AllSucceeded => Failed == 0 && Futile == 0 && !ProvisionerFailed;
}

/// <summary>Settings of <see cref="LocalDagExecutor"/>.</summary>
public sealed record LocalDagOptions
{
    /// <summary>Run this program for every node instead of the submit files' executable (null: as written).</summary>
    public LocalExecutable? Executable { get; init; }

    /// <summary>
    /// True once the PROVISIONER node is ready (on a pool it sets ProvisionerState = 2 with condor_chirp, which needs a schedd);
    /// polled every <see cref="PollInterval"/>. Null: ready as soon as it started. Also polled for SERVICE nodes, whose
    /// readiness is only reported (<see cref="LocalDagEventKind.Ready"/>), never waited for.
    /// </summary>
    public Func<DagNode, LocalCommand, CancellationToken, Task<bool>>? ProvisionerReady { get; init; }

    /// <summary>How long the PROVISIONER may take to become ready.</summary>
    public TimeSpan ProvisionerTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>How often readiness is polled.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>How long SERVICE/PROVISIONER processes get to exit by themselves after the FINAL node before they are killed.</summary>
    public TimeSpan StopGrace { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Apply the highest rescue DAG (<c>x.dag.rescueNNN</c>) first, as condor_submit_dag does.</summary>
    public bool UseRescue { get; init; } = true;

    /// <summary>Write the next rescue DAG when a node failed, as DAGMan does.</summary>
    public bool WriteRescue { get; init; } = true;

    /// <summary>Receives events as nodes start, finish and retry (from several threads).</summary>
    public IProgress<LocalDagEvent>? Progress { get; init; }
}

/// <summary>
/// Runs a DAG's nodes as local processes: the same programs and arguments HTCondor would run, in dependency order,
/// with RETRY (and UNLESS-EXIT), CATEGORY throttles (MAXJOBS), DONE nodes skipped, the PROVISIONER and SERVICE nodes
/// first and stopped at the end, and the FINAL node always. Not a scheduler: everything runs on this machine.
/// </summary>
public static class LocalDagExecutor
{
    /// <summary>Reads <paramref name="dagPath"/> (and its highest rescue DAG) and runs it; see the type's summary.</summary>
    public static async Task<LocalDagResult> RunAsync(string dagPath, LocalDagOptions options, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var dag = DagFile.Load(dagPath);
        if (dag.Unsupported.Count > 0)
        {
            var (line, command) = dag.Unsupported[0];
            throw BadInputException.AtLine(dagPath, line, $"{command} is not carried out by a local run; submit this DAG with condor_submit_dag");
        }
        string? rescue = null;
        var doneInDag = dag.Nodes.Where(n => n.Done).Select(n => n.Name).ToHashSet(StringComparer.Ordinal);
        var rescues = DagFile.RescueFiles(dagPath);
        if (options.UseRescue && rescues.Count > 0)
        {
            rescue = rescues[^1].Path;
            dag.ApplyRescue(rescue);
        }
        string dagDir = Path.GetDirectoryName(Path.GetFullPath(dagPath)) ?? ".";
        var ordered = dag.Nodes.Select(n => new LocalNodeRun(n) { DoneInDag = doneInDag.Contains(n.Name) }).ToList();
        var runs = ordered.ToDictionary(r => r.Node.Name, StringComparer.Ordinal);
        var progress = options.Progress;
        // The node status file and jobstate log DAGMan would keep (when the DAG names them).
        await using var records = LocalDagRecords.Open(dagPath, dag, ordered, rescue is not null);

        void Report(LocalNodeRun r, LocalDagEventKind kind, string message)
        {
            records.Changed();
            progress?.Report(new LocalDagEvent(r.Node, kind, r.Attempts, r.ExitCode, r.Clock.Elapsed, message));
        }

        LocalCommand Prepare(LocalNodeRun r, IReadOnlyDictionary<string, string>? extra = null)
        {
            var macros = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var (k, v) in r.Node.Vars) macros[k] = v;
            macros["JOB"] = r.Node.Name;
            macros["RETRY"] = Math.Max(0, r.Attempts - 1).ToString(CultureInfo.InvariantCulture);
            macros["DAGManJobId"] = records.DagmanId.ToString(CultureInfo.InvariantCulture);
            macros["DAG_PARENT_NAMES"] = string.Join(',', r.Node.Parents);
            r.Cluster = records.NextCluster();
            string id = r.Cluster.ToString(CultureInfo.InvariantCulture);
            macros["Cluster"] = macros["ClusterId"] = id;
            macros["Process"] = macros["ProcId"] = "0";
            foreach (var (k, v) in extra ?? new Dictionary<string, string>()) macros[k] = v;
            return Command(dagDir, r.Node, macros, options.Executable);
        }

        // Nodes already complete, and the dependency counts of the rest.
        foreach (var r in runs.Values)
        {
            r.WaitingOn = r.Node.Parents.Count(p => !runs[p].Node.Done);
            if (r.Node.Done) { r.State = LocalNodeState.Done; Report(r, LocalDagEventKind.Skipped, "DONE"); }
        }

        var background = new List<(LocalNodeRun Run, Process Process, Task Exit)>();
        var watchers = new List<Task>();

        // SERVICE and PROVISIONER nodes: one attempt, running beside the DAG until stopped.
        (LocalCommand Command, Process Process, Task Exit) StartBackground(LocalNodeRun r, string started)
        {
            r.Attempts = 1;
            r.Clock.Start();
            LocalCommand command;
            Process process;
            Task exited;
            try
            {
                command = Prepare(r);
                (process, exited) = Start(command, r, cancellationToken);
            }
            catch (BadInputException e)
            {
                records.SubmitFailed(r);
                r.Error = $"Job submit failed: {e.Message}";
                throw;
            }
            records.Started(r);
            // Its termination is recorded when it ends by itself; one killed at the end is removed, with no record (as under DAGMan).
            async Task Exit()
            {
                await exited.ConfigureAwait(false);
                if (!r.Killed) records.Terminated(r, process.ExitCode);
            }
            var exit = Exit();
            background.Add((r, process, exit));
            Report(r, LocalDagEventKind.Started, started);
            return (command, process, exit);
        }

        bool provisionerFailed = false, completed = false;
        try
        {
            // SERVICE nodes start at once and nothing waits for them (best effort, as DAGMan does).
            foreach (var r in runs.Values.Where(r => r.Node.Kind == DagNodeKind.Service && r.State is null))
            {
                try
                {
                    var (command, _, exit) = StartBackground(r, "service started");
                    // Nothing waits for a SERVICE node (DAGMan does not), but its readiness is worth reporting.
                    if (options.ProvisionerReady is not null)
                        watchers.Add(WatchReadyAsync(r, command, exit, options, Report, cancellationToken));
                }
                catch (BadInputException e)
                {
                    r.State = LocalNodeState.Failed;
                    Report(r, LocalDagEventKind.Failed, e.Message);
                }
            }
            if (dag.Provisioner is { } pnode && runs[pnode.Name].State is null)
            {
                var r = runs[pnode.Name];
                try
                {
                    var (command, process, exit) = StartBackground(r, "provisioner started");
                    provisionerFailed = !await WaitReadyAsync(r, command, exit, options, cancellationToken).ConfigureAwait(false);
                    if (provisionerFailed)
                    {
                        r.ExitCode = exit.IsCompleted ? process.ExitCode : null;
                        r.Error = r.ExitCode is int code
                            ? LocalDagRecords.FailureText(r, code)
                            : $"not ready (ProvisionerState 2) after {options.ProvisionerTimeout.TotalSeconds:F0} s";
                        records.ProvisionerFailed = true;
                        r.State = LocalNodeState.Failed;
                        Report(r, LocalDagEventKind.Failed, exit.IsCompleted
                            ? $"provisioner exited with code {process.ExitCode} before it was ready"
                            : $"provisioner not ready after {options.ProvisionerTimeout.TotalSeconds:F0} s");
                    }
                    else Report(r, LocalDagEventKind.Ready, $"provisioner ready after {r.Clock.Elapsed.TotalSeconds:F1} s");
                }
                catch (BadInputException e)
                {
                    provisionerFailed = true;
                    records.ProvisionerFailed = true;
                    r.State = LocalNodeState.Failed;
                    Report(r, LocalDagEventKind.Failed, e.Message);
                }
            }

            if (!provisionerFailed) await RunJobsAsync(runs, dag, Prepare, Report, records, cancellationToken).ConfigureAwait(false);
            foreach (var r in runs.Values.Where(r => r.Node.Kind == DagNodeKind.Job && r.State is null))
            {
                r.State = LocalNodeState.Futile;
                Report(r, LocalDagEventKind.Futile, provisionerFailed ? "the provisioner never became ready" : "a parent failed");
            }

            // FINAL runs whatever happened, with DAGMan's DAG_STATUS (0 ok, 2 a node failed) and FAILED_COUNT.
            if (dag.Final is { } fnode && runs[fnode.Name].State is null)
            {
                int failed = runs.Values.Count(r => r.Node.Kind == DagNodeKind.Job && r.State is LocalNodeState.Failed);
                bool futile = runs.Values.Any(r => r.Node.Kind == DagNodeKind.Job && r.State is LocalNodeState.Futile);
                var extra = new Dictionary<string, string>
                {
                    ["DAG_STATUS"] = failed > 0 || futile || provisionerFailed ? "2" : "0",
                    ["FAILED_COUNT"] = failed.ToString(CultureInfo.InvariantCulture),
                };
                await RunNodeAsync(runs[fnode.Name], r => Prepare(r, extra), Report, records, cancellationToken).ConfigureAwait(false);
            }
            completed = true;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // As DAGMan does on condor_rm: what finished is kept in a rescue DAG, so the next run resumes there.
            if (options.WriteRescue) await WriteRescueAsync(dagPath, dag, runs).ConfigureAwait(false);
            throw;
        }
        finally
        {
            await StopBackgroundAsync(background, cancellationToken.IsCancellationRequested ? TimeSpan.Zero : options.StopGrace, Report).ConfigureAwait(false);
            await Task.WhenAll(watchers).ConfigureAwait(false);
            await records.FinishAsync(!completed
                ? cancellationToken.IsCancellationRequested ? LocalDagOutcome.Removed : LocalDagOutcome.Failed
                : Succeeded(dag, runs, provisionerFailed) ? LocalDagOutcome.Success : LocalDagOutcome.Failed).ConfigureAwait(false);
        }

        string? written = null;
        bool anyFailed = runs.Values.Any(r => r.State is LocalNodeState.Failed or LocalNodeState.Futile);
        if (anyFailed && options.WriteRescue) written = await WriteRescueAsync(dagPath, dag, runs).ConfigureAwait(false);
        var results = dag.Nodes.Select(n => runs[n.Name]).Select(r =>
            new LocalNodeResult(r.Node.Name, r.Node.Kind, r.State ?? LocalNodeState.Futile, r.Attempts, r.ExitCode, r.Clock.Elapsed)).ToList();
        return new LocalDagResult(results, rescue, written, provisionerFailed, clock.Elapsed)
        {
            NodeStatusFile = records.StatusPath,
            JobstateLog = records.JobstateLogPath,
        };
    }

    /// <summary>DAGMan's verdict: the FINAL node's, when there is one (it ran); else every JOB node done and the provisioner ready.</summary>
    private static bool Succeeded(DagFile dag, Dictionary<string, LocalNodeRun> runs, bool provisionerFailed)
    {
        if (dag.Final is { } final) return runs[final.Name].State == LocalNodeState.Succeeded;
        return !provisionerFailed && runs.Values.All(r => r.Node.Kind != DagNodeKind.Job || r.State is LocalNodeState.Done or LocalNodeState.Succeeded);
    }

    /// <summary>Runs JOB nodes in dependency order, PRIORITY first among ready nodes, at most MAXJOBS per category at once.</summary>
    private static async Task RunJobsAsync(Dictionary<string, LocalNodeRun> runs, DagFile dag, Func<LocalNodeRun, IReadOnlyDictionary<string, string>?, LocalCommand> prepare,
        Action<LocalNodeRun, LocalDagEventKind, string> report, LocalDagRecords records, CancellationToken ct)
    {
        var order = dag.Nodes.Select((n, i) => (n.Name, i)).ToDictionary(x => x.Name, x => x.i, StringComparer.Ordinal);
        var ready = new List<LocalNodeRun>(runs.Values.Where(r => r.Node.Kind == DagNodeKind.Job && r.State is null && r.WaitingOn == 0));
        var running = new Dictionary<Task<bool>, LocalNodeRun>();
        var perCategory = new Dictionary<string, int>(StringComparer.Ordinal);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        try
        {
            while (ready.Count > 0 || running.Count > 0)
            {
                ready.Sort((a, b) => a.Node.Priority != b.Node.Priority ? b.Node.Priority.CompareTo(a.Node.Priority) : order[a.Node.Name].CompareTo(order[b.Node.Name]));
                for (int i = 0; i < ready.Count; i++)
                {
                    var r = ready[i];
                    string? category = r.Node.Category;
                    if (category is not null && dag.MaxJobs.TryGetValue(category, out int max) && max > 0 && perCategory.GetValueOrDefault(category) >= max) continue;
                    if (category is not null) perCategory[category] = perCategory.GetValueOrDefault(category) + 1;
                    ready.RemoveAt(i--);
                    running.Add(RunNodeAsync(r, n => prepare(n, null), report, records, stop.Token), r);
                }
                if (running.Count == 0) break;
                var finished = await Task.WhenAny(running.Keys).ConfigureAwait(false);
                var done = running[finished];
                running.Remove(finished);
                if (done.Node.Category is { } c) perCategory[c]--;
                if (await finished.ConfigureAwait(false))
                {
                    foreach (var child in done.Node.Children)
                    {
                        var cr = runs[child];
                        if (--cr.WaitingOn == 0 && cr.State is null) ready.Add(cr);
                    }
                }
                else MarkFutile(done, runs, report);
            }
        }
        finally
        {
            if (running.Count > 0)
            {
                // Cancelled: stop what runs (each attempt kills its process) before leaving.
                stop.Cancel();
                try { await Task.WhenAll(running.Keys).ConfigureAwait(false); } catch (OperationCanceledException) { }
            }
        }
    }

    private static void MarkFutile(LocalNodeRun failed, Dictionary<string, LocalNodeRun> runs, Action<LocalNodeRun, LocalDagEventKind, string> report)
    {
        var stack = new Stack<string>(failed.Node.Children);
        while (stack.Count > 0)
        {
            var r = runs[stack.Pop()];
            if (r.State is not null) continue;
            r.State = LocalNodeState.Futile;
            report(r, LocalDagEventKind.Futile, $"parent {failed.Node.Name} failed");
            foreach (var c in r.Node.Children) stack.Push(c);
        }
    }

    /// <summary>Runs one node to success or until its retries are spent (UNLESS-EXIT stops retrying); true on success.</summary>
    private static async Task<bool> RunNodeAsync(LocalNodeRun r, Func<LocalNodeRun, LocalCommand> prepare, Action<LocalNodeRun, LocalDagEventKind, string> report,
        LocalDagRecords records, CancellationToken ct)
    {
        r.Clock.Start();
        while (true)
        {
            r.Attempts++;
            if (r.Node.Noop) { r.ExitCode = 0; break; }
            Process process;
            Task exit;
            try
            {
                var command = prepare(r);
                (process, exit) = Start(command, r, ct);
                records.Started(r);
                report(r, LocalDagEventKind.Started, $"attempt {r.Attempts}: {command.Executable} {string.Join(' ', command.Arguments)}");
            }
            catch (BadInputException e)
            {
                // A submit file condor_submit would refuse, or a program that cannot start: the node fails (DAGMan: submit failure).
                records.SubmitFailed(r);
                r.Error = $"Job submit failed: {e.Message}";
                r.ExitCode = null;
                r.State = LocalNodeState.Failed;
                r.Clock.Stop();
                report(r, LocalDagEventKind.Failed, e.Message);
                return false;
            }
            using (process)
            {
                try { await exit.ConfigureAwait(false); }
                catch (OperationCanceledException)
                {
                    Kill(process);
                    r.State = LocalNodeState.Failed;
                    r.Clock.Stop();
                    throw;
                }
                r.ExitCode = process.ExitCode;
                records.Terminated(r, process.ExitCode);
            }
            if (r.ExitCode == 0) break;
            int retriesUsed = r.Attempts - 1;
            if (retriesUsed < r.Node.Retries && r.ExitCode != r.Node.UnlessExit)
            {
                report(r, LocalDagEventKind.Retrying, $"exit code {r.ExitCode}; retry {retriesUsed + 1} of {r.Node.Retries}");
                continue;
            }
            r.Error = LocalDagRecords.FailureText(r, r.ExitCode.Value);
            r.State = LocalNodeState.Failed;
            r.Clock.Stop();
            string why = r.ExitCode == r.Node.UnlessExit && retriesUsed < r.Node.Retries ? $" (UNLESS-EXIT {r.Node.UnlessExit}: not retried)" : "";
            report(r, LocalDagEventKind.Failed, $"exit code {r.ExitCode} after {r.Attempts} attempt(s){why}");
            return false;
        }
        r.State = LocalNodeState.Succeeded;
        r.Clock.Stop();
        report(r, LocalDagEventKind.Succeeded, r.Node.Noop ? "NOOP" : "exit code 0");
        return true;
    }

    private static async Task<bool> WaitReadyAsync(LocalNodeRun r, LocalCommand command, Task exit, LocalDagOptions options, CancellationToken ct)
    {
        if (options.ProvisionerReady is null) return !exit.IsCompleted;
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < options.ProvisionerTimeout)
        {
            if (await options.ProvisionerReady(r.Node, command, ct).ConfigureAwait(false)) return true;
            if (exit.IsCompleted) return false;
            await Task.WhenAny(exit, Task.Delay(options.PollInterval, ct)).ConfigureAwait(false);
            ct.ThrowIfCancellationRequested();
        }
        return false;
    }

    /// <summary>Reports a SERVICE node ready once the readiness probe says so (until it exits); never throws.</summary>
    private static async Task WatchReadyAsync(LocalNodeRun r, LocalCommand command, Task exit, LocalDagOptions options,
        Action<LocalNodeRun, LocalDagEventKind, string> report, CancellationToken ct)
    {
        try
        {
            while (!exit.IsCompleted)
            {
                if (await options.ProvisionerReady!(r.Node, command, ct).ConfigureAwait(false))
                {
                    report(r, LocalDagEventKind.Ready, $"ready after {r.Clock.Elapsed.TotalSeconds:F1} s");
                    return;
                }
                await Task.WhenAny(exit, Task.Delay(options.PollInterval, ct)).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or BadInputException) { /* only a report is lost */ }
    }

    private static async Task StopBackgroundAsync(List<(LocalNodeRun Run, Process Process, Task Exit)> background, TimeSpan grace,
        Action<LocalNodeRun, LocalDagEventKind, string> report)
    {
        if (background.Count == 0) return;
        var all = Task.WhenAll(background.Select(b => b.Exit.ContinueWith(_ => { }, TaskScheduler.Default)));
        await Task.WhenAny(all, Task.Delay(grace)).ConfigureAwait(false);
        foreach (var (r, process, exit) in background)
        {
            bool killed = !exit.IsCompleted;
            if (killed)
            {
                r.Killed = true;
                Kill(process);
            }
            try { await exit.ConfigureAwait(false); } catch (OperationCanceledException) { }
            r.ExitCode = killed ? null : process.ExitCode;
            r.Clock.Stop();
            if (r.State is null) r.State = LocalNodeState.Stopped;
            report(r, LocalDagEventKind.Stopped, killed ? $"killed after a {grace.TotalSeconds:F0} s grace period" : $"exited with code {process.ExitCode}");
            process.Dispose();
        }
    }

    private static void Kill(Process process)
    {
        try { if (!process.HasExited) process.Kill(entireProcessTree: true); }
        catch (InvalidOperationException) { /* already gone */ }
    }

    /// <summary>
    /// What condor_submit would run for <paramref name="node"/>: its submit file (in the node's DIR, else the DAG's
    /// directory) with <paramref name="macros"/> (VARS, JOB, RETRY, ...) expanded; output, error and input paths are
    /// relative to initialdir, the job runs in initialdir (a shared filesystem), the executable relative to the submit directory.
    /// </summary>
    public static LocalCommand Command(string dagDirectory, DagNode node, IReadOnlyDictionary<string, string> macros, LocalExecutable? executable = null)
    {
        if (node.SubmitFile is null) throw BadInputException.AtLine(dagDirectory, node.Line, $"{node.Name} has no submit file");
        string submitDir = node.Directory is null ? dagDirectory : Path.Combine(dagDirectory, node.Directory);
        var submit = SubmitDescription.Load(Path.Combine(submitDir, node.SubmitFile));
        string iwd = submit.Get("initialdir", macros) is { Length: > 0 } d ? Path.GetFullPath(Path.Combine(submitDir, d)) : Path.GetFullPath(submitDir);
        string? InIwd(string command) => submit.Get(command, macros) is { Length: > 0 } p && p != "/dev/null" ? Path.Combine(iwd, p) : null;
        var arguments = submit.Arguments(macros);
        string written = submit.Get("executable", macros) ?? throw BadInputException.AtLine(submit.Source, 0, "no executable command");
        string exe;
        if (executable is not null && Path.GetFileName(written) == LocalExecutable.GwreproName)
        {
            exe = executable.Path;
            arguments = [.. executable.PrefixArguments, .. arguments];
        }
        else exe = Path.IsPathRooted(written) || !written.Contains('/') && !File.Exists(Path.Combine(submitDir, written)) ? written : Path.GetFullPath(Path.Combine(submitDir, written));
        return new LocalCommand(exe, arguments, iwd, InIwd("output"), InIwd("error"), InIwd("input"), submit.Environment(macros));
    }

    /// <summary>Starts a node's process with stdout/stderr copied to its output/error files; the task completes when it exits and both are flushed.</summary>
    private static (Process Process, Task Exit) Start(LocalCommand command, LocalNodeRun r, CancellationToken ct)
    {
        var psi = new ProcessStartInfo(command.Executable)
        {
            WorkingDirectory = command.WorkingDirectory,
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var a in command.Arguments) psi.ArgumentList.Add(a);
        foreach (var (k, v) in command.Environment) psi.Environment[k] = v;
        Stream Open(string? path)
        {
            if (path is null) return Stream.Null;
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            return new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.ReadWrite, 1 << 14, FileOptions.Asynchronous);
        }
        var output = Open(command.Output);
        // condor_submit appends both streams to one file when output and error name the same file.
        var error = command.Error is not null && command.Error == command.Output ? output : Open(command.Error);
        var shared = ReferenceEquals(output, error) && output != Stream.Null ? new SemaphoreSlim(1, 1) : null;
        Process process;
        try { process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {command.Executable}"); }
        catch (System.ComponentModel.Win32Exception e)
        {
            output.Dispose();
            if (!ReferenceEquals(error, output)) error.Dispose();
            // On a pool the job would be held and the node fail; here the node fails without an exit code.
            throw new BadInputException($"{r.Node.Name}: cannot run {command.Executable}: {e.Message}");
        }
        var input = Task.Run(async () =>
        {
            try
            {
                if (command.Input is not null)
                {
                    await using var file = File.OpenRead(command.Input);
                    await file.CopyToAsync(process.StandardInput.BaseStream, ct).ConfigureAwait(false);
                }
            }
            catch (IOException) { /* the process closed its stdin */ }
            finally { try { process.StandardInput.Close(); } catch (IOException) { } }
        }, CancellationToken.None);
        var pumpOut = Pump(process.StandardOutput.BaseStream, output, shared);
        var pumpErr = Pump(process.StandardError.BaseStream, error, shared);
        async Task WaitAsync()
        {
            try { await process.WaitForExitAsync(ct).ConfigureAwait(false); }
            catch (OperationCanceledException) { Kill(process); throw; }
            finally
            {
                try { await Task.WhenAll(pumpOut, pumpErr, input).ConfigureAwait(false); }
                catch (IOException) { }
                await output.DisposeAsync().ConfigureAwait(false);
                if (!ReferenceEquals(error, output)) await error.DisposeAsync().ConfigureAwait(false);
            }
        }
        return (process, WaitAsync());
    }

    private static async Task Pump(Stream from, Stream to, SemaphoreSlim? shared)
    {
        var buffer = new byte[8192];
        int n;
        while ((n = await from.ReadAsync(buffer).ConfigureAwait(false)) > 0)
        {
            if (shared is not null) await shared.WaitAsync().ConfigureAwait(false);
            try { await to.WriteAsync(buffer.AsMemory(0, n)).ConfigureAwait(false); }
            finally { shared?.Release(); }
        }
        await to.FlushAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Writes the next <c>x.dag.rescueNNN</c> as DAGMan does (<see cref="RescueDag"/>): the JOB nodes finished, before or
    /// during this run, are DONE; the failed ones are listed in the header. SERVICE nodes are not counted.
    /// </summary>
    private static async Task<string> WriteRescueAsync(string dagPath, DagFile dag, Dictionary<string, LocalNodeRun> runs)
    {
        string path = RescueDag.NextPath(dagPath);
        var counted = dag.Nodes.Where(n => n.Kind is DagNodeKind.Job or DagNodeKind.Final or DagNodeKind.Provisioner).ToList();
        var done = counted.Where(n => n.Kind == DagNodeKind.Job && runs[n.Name].State is LocalNodeState.Done or LocalNodeState.Succeeded).Select(n => n.Name).ToList();
        var failed = counted.Where(n => n.Kind != DagNodeKind.Final && runs[n.Name].State == LocalNodeState.Failed).Select(n => n.Name).ToList();
        string text = RescueDag.Format(Path.GetFileName(dagPath), DateTime.UtcNow, counted.Count, done, failed);
        await AtomicFile.WriteAllTextAsync(path, text, CancellationToken.None).ConfigureAwait(false);
        return path;
    }
}
