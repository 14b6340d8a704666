using System.Diagnostics;
using System.Globalization;
using GwReprocess.IO;

namespace GwReprocess.Workflow;

/// <summary>
/// One execution of a DAG by <see cref="LocalDagExecutor"/>, in DAGMan's phases: services (SERVICE nodes), provisioner,
/// jobs, final, stop. What a phase leaves for the next (node states, the background processes, whether the provisioner
/// failed) is held here rather than in captured locals, so each phase reads as a method.
/// </summary>
internal sealed partial class LocalDagRun : IAsyncDisposable
{
    /// <summary>A SERVICE or PROVISIONER node's process, running beside the DAG until the stop phase.</summary>
    /// <remarks>A restarted SERVICE node's new process replaces <see cref="Process"/> (under the run's restart lock); <see cref="Exit"/> completes when the node ends for good.</remarks>
    private sealed class Background(LocalNodeRun run, Process process)
    {
        public LocalNodeRun Run { get; } = run;
        public Process Process { get; set; } = process;
        public Task Exit { get; set; } = Task.CompletedTask;
    }

    private readonly Stopwatch _clock;
    private readonly string _dagPath;
    private readonly string _dagDirectory;
    private readonly DagFile _dag;
    private readonly string? _appliedRescue;
    private readonly LocalDagOptions _options;
    private readonly CancellationToken _cancellation;
    private readonly Dictionary<string, LocalNodeRun> _runs;
    private readonly LocalDagRecords _records;
    private readonly List<Background> _background = [];
    private readonly List<Task> _watchers = [];
    // Taken to restart a SERVICE node's process and to begin the stop phase, so a process killed there is never restarted.
    private readonly Lock _restartGate = new();
    private bool _stopping;
    private bool _provisionerFailed;

    private LocalDagRun(Stopwatch clock, string dagPath, DagFile dag, string? appliedRescue, Dictionary<string, LocalNodeRun> runs,
        LocalDagRecords records, LocalDagOptions options, CancellationToken cancellationToken)
    {
        _clock = clock;
        _dagPath = dagPath;
        _dagDirectory = Path.GetDirectoryName(Path.GetFullPath(dagPath)) ?? ".";
        _dag = dag;
        _appliedRescue = appliedRescue;
        _runs = runs;
        _records = records;
        _options = options;
        _cancellation = cancellationToken;
    }

    /// <summary>Reads the DAG, applies its highest rescue DAG (when asked) and opens DAGMan's records; nothing runs yet.</summary>
    public static LocalDagRun Open(string dagPath, LocalDagOptions options, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var dag = DagFile.Load(dagPath);
        if (dag.Unsupported.Count > 0)
        {
            var (line, command) = dag.Unsupported[0];
            throw BadInputException.AtLine(dagPath, line, $"{command} is not carried out by a local run; submit this DAG with condor_submit_dag");
        }
        string? rescue = null;
        // Read before the rescue DAG marks more nodes DONE: DAGMan tells the two apart in its records.
        var doneInDag = dag.Nodes.Where(n => n.Done).Select(n => n.Name).ToHashSet(StringComparer.Ordinal);
        var rescues = DagFile.RescueFiles(dagPath);
        if (options.UseRescue && rescues.Count > 0)
        {
            rescue = rescues[^1].Path;
            dag.ApplyRescue(rescue);
        }
        var ordered = dag.Nodes.Select(n => new LocalNodeRun(n) { DoneInDag = doneInDag.Contains(n.Name) }).ToList();
        var runs = ordered.ToDictionary(r => r.Node.Name, StringComparer.Ordinal);
        // The node status file and jobstate log DAGMan would keep (when the DAG names them); last, as nothing after it may fail.
        var records = LocalDagRecords.Open(dagPath, dag, ordered, rescue is not null);
        return new LocalDagRun(clock, dagPath, dag, rescue, runs, records, options, cancellationToken);
    }

    /// <summary>Runs the phases in DAGMan's order; the stop phase runs whatever happened before it.</summary>
    public async Task<LocalDagResult> RunAsync()
    {
        SkipDone();
        bool completed = false;
        try
        {
            StartServices();
            await StartProvisionerAsync().ConfigureAwait(false);
            if (!_provisionerFailed) await RunJobsAsync().ConfigureAwait(false);
            MarkUnrunJobsFutile();
            await RunFinalAsync().ConfigureAwait(false);
            completed = true;
        }
        catch (OperationCanceledException) when (_cancellation.IsCancellationRequested)
        {
            // As DAGMan does on condor_rm: what finished is kept in a rescue DAG, so the next run resumes there.
            if (_options.WriteRescue) await WriteRescueAsync().ConfigureAwait(false);
            throw;
        }
        finally
        {
            await StopAsync(completed).ConfigureAwait(false);
        }
        return await ResultAsync().ConfigureAwait(false);
    }

    public ValueTask DisposeAsync() => _records.DisposeAsync();

    // before the phases

    /// <summary>Nodes already complete are reported as skipped; the rest learn how many parents they wait for.</summary>
    private void SkipDone()
    {
        foreach (var r in _runs.Values)
        {
            r.WaitingOn = r.Node.Parents.Count(p => !_runs[p].Node.Done);
            if (r.Node.Done)
            {
                r.State = LocalNodeState.Done;
                Report(r, LocalDagEventKind.Skipped, "DONE");
            }
        }
    }

    // phase 1: services

    /// <summary>SERVICE nodes start at once and nothing waits for them (best effort, as DAGMan does).</summary>
    private void StartServices()
    {
        foreach (var r in _runs.Values.Where(r => r.Node.Kind == DagNodeKind.Service && r.State is null))
        {
            try
            {
                var (command, _, exit) = StartBackground(r, "service started", restartable: true);
                // Nothing waits for a SERVICE node (DAGMan does not), but its readiness is worth reporting.
                if (_options.ProvisionerReady is not null) _watchers.Add(WatchReadyAsync(r, command, exit));
            }
            catch (BadInputException e)
            {
                r.State = LocalNodeState.Failed;
                Report(r, LocalDagEventKind.Failed, e.Message);
            }
        }
    }

    // phase 2: provisioner

    /// <summary>Starts the PROVISIONER node and waits until it is ready; when it never is, no JOB node runs.</summary>
    private async Task StartProvisionerAsync()
    {
        if (_dag.Provisioner is not { } pnode || _runs[pnode.Name].State is not null) return;
        var r = _runs[pnode.Name];
        try
        {
            var (command, process, exit) = StartBackground(r, "provisioner started");
            _provisionerFailed = !await WaitReadyAsync(r, command, exit).ConfigureAwait(false);
            if (!_provisionerFailed)
            {
                Report(r, LocalDagEventKind.Ready, $"provisioner ready after {r.Clock.Elapsed.TotalSeconds:F1} s");
                return;
            }
            r.ExitCode = exit.IsCompleted ? process.ExitCode : null;
            r.Error = r.ExitCode is int code
                ? LocalDagRecords.FailureText(r, code)
                : $"not ready (ProvisionerState 2) after {_options.ProvisionerTimeout.TotalSeconds:F0} s";
            _records.ProvisionerFailed = true;
            r.State = LocalNodeState.Failed;
            Report(r, LocalDagEventKind.Failed, exit.IsCompleted
                ? $"provisioner exited with code {process.ExitCode} before it was ready"
                : $"provisioner not ready after {_options.ProvisionerTimeout.TotalSeconds:F0} s");
        }
        catch (BadInputException e)
        {
            _provisionerFailed = true;
            _records.ProvisionerFailed = true;
            r.State = LocalNodeState.Failed;
            Report(r, LocalDagEventKind.Failed, e.Message);
        }
    }

    /// <summary>
    /// A SERVICE or PROVISIONER node: one attempt, running beside the DAG until stopped. <paramref name="restartable"/>
    /// (SERVICE nodes): a process that dies before the stop phase is started again, as the schedd reruns a job in place
    /// under its submit file's <c>max_retries</c>; the returned task completes when the node ends for good.
    /// </summary>
    private (LocalCommand Command, Process Process, Task Exit) StartBackground(LocalNodeRun r, string started, bool restartable = false)
    {
        r.Attempts = 1;
        r.Clock.Start();
        LocalCommand command;
        Process process;
        Task exited;
        try
        {
            command = Prepare(r);
            (process, exited) = LocalNodeProcess.Start(command, r, _cancellation);
        }
        catch (BadInputException e)
        {
            _records.SubmitFailed(r);
            r.Error = $"Job submit failed: {e.Message}";
            throw;
        }
        _records.Started(r);
        var b = new Background(r, process);
        b.Exit = restartable && command.MaxRetries > 0 ? SuperviseAsync(b, command, exited) : RecordExitAsync(r, process, exited);
        _background.Add(b);
        Report(r, LocalDagEventKind.Started, started);
        return (command, process, b.Exit);
    }

    /// <summary>
    /// Restarts a SERVICE node's process that exits other than with its success code before the stop phase, at most
    /// <see cref="LocalCommand.MaxRetries"/> times; the jobstate log shows each as DAGMan does for a job the schedd
    /// requeues (JOB_EVICTED, then EXECUTE under the same job id), and the node stays submitted in the node status file.
    /// </summary>
    private async Task SuperviseAsync(Background b, LocalCommand command, Task exited)
    {
        var r = b.Run;
        for (int restarts = 0; ; restarts++)
        {
            // Cancelled, the process is killed and nothing is recorded (as RecordExitAsync); the stop phase sees the cancellation.
            await exited.ConfigureAwait(false);
            int code = b.Process.ExitCode;
            lock (_restartGate)
            {
                if (!_stopping && !_cancellation.IsCancellationRequested && !r.Killed && code != command.SuccessExitCode && restarts < command.MaxRetries)
                {
                    try
                    {
                        var (process, next) = LocalNodeProcess.Start(command, r, _cancellation, append: true);
                        _records.Requeued(r);
                        b.Process.Dispose();
                        (b.Process, exited) = (process, next);
                        r.ExitCode = code;
                        Report(r, LocalDagEventKind.Restarted, string.Create(CultureInfo.InvariantCulture,
                            $"its process exited with code {code}; restart {restarts + 1} of {command.MaxRetries}"));
                        continue;
                    }
                    catch (BadInputException e)
                    {
                        Report(r, LocalDagEventKind.Failed, $"could not restart: {e.Message}");
                    }
                }
            }
            if (!r.Killed) _records.Terminated(r, code);
            return;
        }
    }

    /// <summary>Its termination is recorded when it ends by itself; one killed at the end is removed, with no record (as under DAGMan).</summary>
    private async Task RecordExitAsync(LocalNodeRun r, Process process, Task exited)
    {
        await exited.ConfigureAwait(false);
        if (!r.Killed) _records.Terminated(r, process.ExitCode);
    }

    private async Task<bool> WaitReadyAsync(LocalNodeRun r, LocalCommand command, Task exit)
    {
        if (_options.ProvisionerReady is null) return !exit.IsCompleted;
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < _options.ProvisionerTimeout)
        {
            if (await _options.ProvisionerReady(r.Node, command, _cancellation).ConfigureAwait(false)) return true;
            if (exit.IsCompleted) return false;
            await Task.WhenAny(exit, Task.Delay(_options.PollInterval, _cancellation)).ConfigureAwait(false);
            _cancellation.ThrowIfCancellationRequested();
        }
        return false;
    }

    /// <summary>Reports a SERVICE node ready once the readiness probe says so (until it exits); never throws.</summary>
    private async Task WatchReadyAsync(LocalNodeRun r, LocalCommand command, Task exit)
    {
        try
        {
            while (!exit.IsCompleted)
            {
                if (await _options.ProvisionerReady!(r.Node, command, _cancellation).ConfigureAwait(false))
                {
                    Report(r, LocalDagEventKind.Ready, $"ready after {r.Clock.Elapsed.TotalSeconds:F1} s");
                    return;
                }
                await Task.WhenAny(exit, Task.Delay(_options.PollInterval, _cancellation)).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or BadInputException) { /* only a report is lost */ }
    }

    // phase 3, jobs: LocalDagRun.Jobs.cs

    // phase 4: final

    /// <summary>FINAL runs whatever happened, with DAGMan's DAG_STATUS (0 ok, 2 a node failed) and FAILED_COUNT.</summary>
    private async Task RunFinalAsync()
    {
        if (_dag.Final is not { } fnode || _runs[fnode.Name].State is not null) return;
        int failed = _runs.Values.Count(r => r.Node.Kind == DagNodeKind.Job && r.State is LocalNodeState.Failed);
        bool futile = _runs.Values.Any(r => r.Node.Kind == DagNodeKind.Job && r.State is LocalNodeState.Futile);
        var extra = new Dictionary<string, string>
        {
            ["DAG_STATUS"] = failed > 0 || futile || _provisionerFailed ? "2" : "0",
            ["FAILED_COUNT"] = failed.ToString(CultureInfo.InvariantCulture),
        };
        await RunNodeAsync(_runs[fnode.Name], extra, _cancellation).ConfigureAwait(false);
    }

    // phase 5: stop

    /// <summary>
    /// Stops the SERVICE and PROVISIONER processes (at once when cancelled, else after the grace period) and closes
    /// DAGMan's records with the run's outcome. <paramref name="completed"/>: the phases before ran to their end.
    /// </summary>
    private async Task StopAsync(bool completed)
    {
        await StopBackgroundAsync(_cancellation.IsCancellationRequested ? TimeSpan.Zero : _options.StopGrace).ConfigureAwait(false);
        await Task.WhenAll(_watchers).ConfigureAwait(false);
        await _records.FinishAsync(!completed
            ? _cancellation.IsCancellationRequested ? LocalDagOutcome.Removed : LocalDagOutcome.Failed
            : Succeeded() ? LocalDagOutcome.Success : LocalDagOutcome.Failed).ConfigureAwait(false);
    }

    private async Task StopBackgroundAsync(TimeSpan grace)
    {
        lock (_restartGate) _stopping = true;
        if (_background.Count == 0) return;
        var all = Task.WhenAll(_background.Select(b => b.Exit.ContinueWith(_ => { }, TaskScheduler.Default)));
        await Task.WhenAny(all, Task.Delay(grace)).ConfigureAwait(false);
        foreach (var b in _background)
        {
            var (r, exit) = (b.Run, b.Exit);
            // No restart begins once _stopping is set, so the process read now is the node's last.
            Process process;
            lock (_restartGate) process = b.Process;
            bool killed = !exit.IsCompleted;
            if (killed)
            {
                r.Killed = true;
                LocalNodeProcess.Kill(process);
            }
            try { await exit.ConfigureAwait(false); } catch (OperationCanceledException) { }
            r.ExitCode = killed ? null : process.ExitCode;
            r.Clock.Stop();
            if (r.State is null) r.State = LocalNodeState.Stopped;
            Report(r, LocalDagEventKind.Stopped, killed ? $"killed after a {grace.TotalSeconds:F0} s grace period" : $"exited with code {process.ExitCode}");
            process.Dispose();
        }
    }

    /// <summary>DAGMan's verdict: the FINAL node's, when there is one (it ran); else every JOB node done and the provisioner ready.</summary>
    private bool Succeeded()
    {
        if (_dag.Final is { } final) return _runs[final.Name].State == LocalNodeState.Succeeded;
        return !_provisionerFailed && _runs.Values.All(r => r.Node.Kind != DagNodeKind.Job || r.State is LocalNodeState.Done or LocalNodeState.Succeeded);
    }

    /// <summary>The rescue DAG when a node failed (as DAGMan writes one), and every node's outcome.</summary>
    private async Task<LocalDagResult> ResultAsync()
    {
        string? written = null;
        bool anyFailed = _runs.Values.Any(r => r.State is LocalNodeState.Failed or LocalNodeState.Futile);
        if (anyFailed && _options.WriteRescue) written = await WriteRescueAsync().ConfigureAwait(false);
        var results = _dag.Nodes.Select(n => _runs[n.Name]).Select(r =>
            new LocalNodeResult(r.Node.Name, r.Node.Kind, r.State ?? LocalNodeState.Futile, r.Attempts, r.ExitCode, r.Clock.Elapsed)).ToList();
        return new LocalDagResult(results, _appliedRescue, written, _provisionerFailed, _clock.Elapsed)
        {
            NodeStatusFile = _records.StatusPath,
            JobstateLog = _records.JobstateLogPath,
        };
    }

    /// <summary>
    /// Writes the next <c>x.dag.rescueNNN</c> as DAGMan does (<see cref="RescueDag"/>): the JOB nodes finished, before or
    /// during this run, are DONE; the failed ones are listed in the header. SERVICE nodes are not counted.
    /// </summary>
    private async Task<string> WriteRescueAsync()
    {
        string path = RescueDag.NextPath(_dagPath);
        var counted = _dag.Nodes.Where(n => n.Kind is DagNodeKind.Job or DagNodeKind.Final or DagNodeKind.Provisioner).ToList();
        var done = counted.Where(n => n.Kind == DagNodeKind.Job && _runs[n.Name].State is LocalNodeState.Done or LocalNodeState.Succeeded).Select(n => n.Name).ToList();
        var failed = counted.Where(n => n.Kind != DagNodeKind.Final && _runs[n.Name].State == LocalNodeState.Failed).Select(n => n.Name).ToList();
        string text = RescueDag.Format(Path.GetFileName(_dagPath), DateTime.UtcNow, counted.Count, done, failed);
        await AtomicFile.WriteAllTextAsync(path, text, CancellationToken.None).ConfigureAwait(false);
        return path;
    }

    // shared by the phases

    private void Report(LocalNodeRun r, LocalDagEventKind kind, string message)
    {
        _records.Changed();
        _options.Progress?.Report(new LocalDagEvent(r.Node, kind, r.Attempts, r.ExitCode, r.Clock.Elapsed, message));
    }

    /// <summary>The node's command with condor_submit's macros for this attempt; each attempt gets a new pseudo cluster id.</summary>
    private LocalCommand Prepare(LocalNodeRun r, IReadOnlyDictionary<string, string>? extra = null)
    {
        var macros = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (k, v) in r.Node.Vars) macros[k] = v;
        macros["JOB"] = r.Node.Name;
        macros["RETRY"] = Math.Max(0, r.Attempts - 1).ToString(CultureInfo.InvariantCulture);
        macros["DAGManJobId"] = _records.DagmanId.ToString(CultureInfo.InvariantCulture);
        macros["DAG_PARENT_NAMES"] = string.Join(',', r.Node.Parents);
        r.Cluster = _records.NextCluster();
        string id = r.Cluster.ToString(CultureInfo.InvariantCulture);
        macros["Cluster"] = macros["ClusterId"] = id;
        macros["Process"] = macros["ProcId"] = "0";
        if (extra is not null)
            foreach (var (k, v) in extra) macros[k] = v;
        return LocalDagExecutor.Command(_dagDirectory, r.Node, macros, _options.Executable);
    }
}
