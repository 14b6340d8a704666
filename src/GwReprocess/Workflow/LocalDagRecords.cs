using System.Globalization;
using GwReprocess.IO;

namespace GwReprocess.Workflow;

/// <summary>How a local DAG execution ended, for DAGMan's records.</summary>
internal enum LocalDagOutcome
{
    /// <summary>DAGMan's exit 0: every node succeeded, or the FINAL node did.</summary>
    Success,
    /// <summary>DAGMan's exit 1: a node failed (and the FINAL node, if any, did not make up for it).</summary>
    Failed,
    /// <summary>Cancelled, as condor_rm removes a DAGMan job (DAGMan exits with 2, EXIT_ABORT).</summary>
    Removed,
}

/// <summary>
/// Keeps the files DAGMan keeps while a DAG runs, for a local execution: the node status file named by
/// NODE_STATUS_FILE (rewritten atomically at its interval when something changed, and at the end) and the jobstate
/// log named by JOBSTATE_LOG (appended to as nodes start and end). Job ids are pseudo ids: clusters that continue
/// after the highest one an existing jobstate log holds, DAGMan's own first; sequence numbers continue the log's when
/// a rescue DAG was applied (as DAGMan does), else start at 1.
/// </summary>
internal sealed class LocalDagRecords : IAsyncDisposable
{
    private readonly object _gate = new();
    private readonly string _dagName;
    private readonly string _dagDirectory;
    private readonly IReadOnlyList<LocalNodeRun> _listed;
    private readonly string? _statusPath;
    private readonly TimeSpan _interval;
    private readonly bool _alwaysUpdate;
    private readonly JobstateLog? _log;
    private readonly Dictionary<string, string> _tags = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private int _nextCluster;
    private int _nextSequence;
    private bool _dirty = true;

    private LocalDagRecords(string dagPath, DagFile dag, IReadOnlyList<LocalNodeRun> runs, bool rescueApplied)
    {
        _dagName = Path.GetFileName(dagPath);
        _dagDirectory = Path.GetDirectoryName(Path.GetFullPath(dagPath)) ?? ".";
        // SERVICE nodes are neither listed nor counted by DAGMan (a PROVISIONER is).
        _listed = runs.Where(r => r.Node.Kind != DagNodeKind.Service).ToList();
        if (dag.NodeStatusFile is { } status)
        {
            _statusPath = Path.GetFullPath(Path.Combine(_dagDirectory, status.File));
            _interval = TimeSpan.FromSeconds(Math.Max(1, status.MinimumUpdateSeconds));
            _alwaysUpdate = status.AlwaysUpdate;
        }
        int lastCluster = 0, lastSequence = 0;
        if (dag.JobstateLog is { } log)
        {
            string path = Path.Combine(_dagDirectory, log);
            foreach (var e in JobstateLog.Read(path))
            {
                lastCluster = Math.Max(lastCluster, e.Cluster ?? 0);
                lastSequence = Math.Max(lastSequence, e.Sequence);
            }
            try { _log = JobstateLog.Open(path); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new BadInputException($"{path}: cannot append to the DAG's JOBSTATE_LOG: {e.Message}");
            }
        }
        DagmanId = lastCluster + 1;
        _nextCluster = DagmanId;
        _nextSequence = rescueApplied ? lastSequence + 1 : 1;
        _log?.Write(new JobstateEntry(Now, JobstateEntry.Internal, "DAGMAN_STARTED", $"{DagmanId}.0", "-", 0));
        _loop = _statusPath is null ? Task.CompletedTask : Task.Run(LoopAsync);
    }

    /// <summary>The node status file written (absolute), or null when the DAG names none.</summary>
    public string? StatusPath => _statusPath;

    /// <summary>The jobstate log appended to (absolute), or null when the DAG names none.</summary>
    public string? JobstateLogPath => _log?.Path;

    /// <summary>Starts the records of a run of <paramref name="dagPath"/>; <paramref name="runs"/> in DAG file order.</summary>
    public static LocalDagRecords Open(string dagPath, DagFile dag, IReadOnlyList<LocalNodeRun> runs, bool rescueApplied) =>
        new(dagPath, dag, runs, rescueApplied);

    /// <summary>The pseudo cluster id of this execution (DAGMan's own job id; <c>$(DAGManJobId)</c>).</summary>
    public int DagmanId { get; }

    /// <summary>Set when the PROVISIONER never became ready: the jobs it held back were never ready to run, not futile.</summary>
    public bool ProvisionerFailed { get; set; }

    private static long Now => DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    /// <summary>The next pseudo job id.</summary>
    public int NextCluster() => Interlocked.Increment(ref _nextCluster);

    /// <summary>Something a node status file shows changed.</summary>
    public void Changed()
    {
        lock (_gate) _dirty = true;
    }

    /// <summary>An attempt's process started: SUBMIT and EXECUTE (a local process does not queue), with a new sequence number.</summary>
    public void Started(LocalNodeRun r)
    {
        lock (_gate)
        {
            r.Sequence = _nextSequence++;
            r.Running = true;
            _dirty = true;
            long now = Now;
            Write(r, now, "SUBMIT", Id(r));
            Write(r, now, "EXECUTE", Id(r));
        }
    }

    /// <summary>
    /// A SERVICE node's process died and was started again in place, as the schedd reruns a job whose on_exit_remove
    /// (from <c>max_retries</c>) is false: the job is evicted and requeued, then executes again under the same job id and
    /// sequence number; no JOB_TERMINATED, as the job never left the queue.
    /// </summary>
    public void Requeued(LocalNodeRun r)
    {
        lock (_gate)
        {
            _dirty = true;
            long now = Now;
            Write(r, now, "JOB_EVICTED", Id(r));
            Write(r, now, "EXECUTE", Id(r));
        }
    }

    /// <summary>An attempt could not start (DAGMan: the job could not be submitted).</summary>
    public void SubmitFailed(LocalNodeRun r)
    {
        lock (_gate)
        {
            r.Sequence = _nextSequence++;
            _dirty = true;
            Write(r, Now, "SUBMIT_FAILURE", "-");
        }
    }

    /// <summary>An attempt's process exited: JOB_TERMINATED, then JOB_SUCCESS 0 or JOB_FAILURE with the exit code.</summary>
    public void Terminated(LocalNodeRun r, int exitCode)
    {
        lock (_gate)
        {
            r.Running = false;
            _dirty = true;
            long now = Now;
            Write(r, now, "JOB_TERMINATED", Id(r));
            Write(r, now, exitCode == 0 ? "JOB_SUCCESS" : "JOB_FAILURE", exitCode.ToString(CultureInfo.InvariantCulture));
        }
    }

    /// <summary>DAGMan's StatusDetails for a node whose last attempt exited with <paramref name="exitCode"/> and that will not be retried.</summary>
    public static string FailureText(LocalNodeRun r, int exitCode) =>
        string.Create(CultureInfo.InvariantCulture, $"Job proc ({r.Cluster}.0.0) failed with status {exitCode}")
        + (r.Attempts > 1 ? string.Create(CultureInfo.InvariantCulture, $" (after {r.Attempts - 1} node retries)") : "");

    /// <summary>Writes the last node status file and DAGMAN_FINISHED with DAGMan's exit code for <paramref name="outcome"/>.</summary>
    public async Task FinishAsync(LocalDagOutcome outcome)
    {
        await StopLoopAsync().ConfigureAwait(false);
        if (_statusPath is not null)
        {
            var (status, note) = outcome switch
            {
                LocalDagOutcome.Success => (DagNodeStatus.Done, "success"),
                LocalDagOutcome.Removed => (DagNodeStatus.Error, "removed"),
                _ => (DagNodeStatus.Error, "failed"),
            };
            await WriteStatusAsync(status, note, last: true).ConfigureAwait(false);
        }
        int code = outcome switch { LocalDagOutcome.Success => 0, LocalDagOutcome.Removed => 2, _ => 1 };
        _log?.Write(new JobstateEntry(Now, JobstateEntry.Internal, "DAGMAN_FINISHED", code.ToString(CultureInfo.InvariantCulture), "-", 0));
    }

    private async Task LoopAsync()
    {
        try
        {
            while (true)
            {
                bool write;
                lock (_gate) write = _dirty || _alwaysUpdate;
                if (write)
                {
                    // As DAGMan, a status file that cannot be written is not a reason to stop the DAG: it is tried again next time.
                    try { await WriteStatusAsync(DagNodeStatus.Submitted, "", last: false).ConfigureAwait(false); }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException) { Changed(); }
                }
                await Task.Delay(_interval, _stop.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested) { }
    }

    private async Task StopLoopAsync()
    {
        if (!_stop.IsCancellationRequested) await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
    }

    private async Task WriteStatusAsync(DagNodeStatus dagStatus, string note, bool last)
    {
        string text;
        lock (_gate)
        {
            long now = Now;
            var ads = _listed.Select(r => Ad(r, last)).ToList();
            text = NodeStatusFile.Format(_dagName, dagStatus, note, ads, now, now, last ? 0 : now + (long)_interval.TotalSeconds);
            _dirty = false;
        }
        await AtomicFile.WriteAllTextAsync(_statusPath!, text, CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>A node as DAGMan's node status file shows it (at the end, what still runs is marked failed, as DAGMan does).</summary>
    private NodeStatusAd Ad(LocalNodeRun r, bool last)
    {
        int retries = Math.Max(0, r.Attempts - 1);
        if (r.Running)
        {
            return last
                ? new NodeStatusAd(r.Node.Name, DagNodeStatus.Error, "Was STATUS_SUBMITTED", retries, 0, 0)
                : new NodeStatusAd(r.Node.Name, DagNodeStatus.Submitted, "not_idle", retries, 1, 0);
        }
        var waiting = r.WaitingOn == 0 && r.Node.Kind == DagNodeKind.Job ? DagNodeStatus.Ready : DagNodeStatus.NotReady;
        return r.State switch
        {
            LocalNodeState.Done => new NodeStatusAd(r.Node.Name, DagNodeStatus.Done, r.DoneInDag ? "User defined as DONE" : "", 0, 0, 0),
            LocalNodeState.Succeeded => new NodeStatusAd(r.Node.Name, DagNodeStatus.Done, "", retries, 0, 0),
            LocalNodeState.Failed => new NodeStatusAd(r.Node.Name, DagNodeStatus.Error, r.Error, retries, 0, 0),
            LocalNodeState.Futile when ProvisionerFailed => new NodeStatusAd(r.Node.Name, waiting, "", 0, 0, 0),
            LocalNodeState.Futile => new NodeStatusAd(r.Node.Name, DagNodeStatus.Futile, "Had an ancestor node fail", 0, 0, 0),
            LocalNodeState.Stopped when r.ExitCode == 0 => new NodeStatusAd(r.Node.Name, DagNodeStatus.Done, "", retries, 0, 0),
            LocalNodeState.Stopped when r.Killed => new NodeStatusAd(r.Node.Name, DagNodeStatus.Error, "Was STATUS_SUBMITTED", retries, 0, 0),
            LocalNodeState.Stopped => new NodeStatusAd(r.Node.Name, DagNodeStatus.Error, FailureText(r, r.ExitCode ?? -1), retries, 0, 0),
            // An attempt just ended and the executor has not recorded the verdict yet: show the one it will record.
            null when r.Attempts > 0 && r.ExitCode == 0 => new NodeStatusAd(r.Node.Name, DagNodeStatus.Done, "", retries, 0, 0),
            null when r.Attempts > 0 && r.ExitCode is int code && (r.Attempts > r.Node.Retries || code == r.Node.UnlessExit) =>
                new NodeStatusAd(r.Node.Name, DagNodeStatus.Error, FailureText(r, code), retries, 0, 0),
            // Between retries a node is READY again, with its retry counted.
            null when r.Attempts > 0 => new NodeStatusAd(r.Node.Name, DagNodeStatus.Ready, "", r.Attempts, 0, 0),
            _ => new NodeStatusAd(r.Node.Name, waiting, "", 0, 0, 0),
        };
    }

    private static string Id(LocalNodeRun r) => string.Create(CultureInfo.InvariantCulture, $"{r.Cluster}.0");

    private void Write(LocalNodeRun r, long time, string name, string id) =>
        _log?.Write(new JobstateEntry(time, r.Node.Name, name, id, Tag(r), r.Sequence));

    /// <summary>
    /// DAGMan's job tag: the submit file's <c>+pegasus_site</c> (or the attribute <c>+job_tag_name</c> names), unquoted;
    /// "-" when it sets none.
    /// </summary>
    private string Tag(LocalNodeRun r)
    {
        if (_tags.TryGetValue(r.Node.Name, out var tag)) return tag;
        tag = "-";
        try
        {
            if (r.Node.SubmitFile is { } file)
            {
                string dir = r.Node.Directory is null ? _dagDirectory : Path.Combine(_dagDirectory, r.Node.Directory);
                var d = SubmitDescription.Load(Path.Combine(dir, file));
                string Attr(string name) => d["+" + name] ?? d["MY." + name] ?? "";
                string tagName = Attr("job_tag_name").Trim('"');
                string value = Attr(tagName.Length > 0 ? tagName : "pegasus_site").Trim('"');
                if (value.Length > 0) tag = value;
            }
        }
        catch (BadInputException) { /* no readable submit file: no tag */ }
        _tags[r.Node.Name] = tag;
        return tag;
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await StopLoopAsync().ConfigureAwait(false);
        _stop.Dispose();
        _log?.Dispose();
    }
}
