using System.Diagnostics;

namespace GwReprocess.Workflow;

/// <summary>The jobs phase of a local DAG run: JOB nodes in dependency order under MAXJOBS, with RETRY and UNLESS-EXIT.</summary>
internal sealed partial class LocalDagRun
{
    /// <summary>What one attempt of a node came to.</summary>
    private enum AttemptOutcome { Succeeded, Failed, Retry }

    /// <summary>
    /// Runs JOB nodes in dependency order, PRIORITY first among ready nodes, at most MAXJOBS per category at once. Every node
    /// ready in a pass is started before any exit is read, so a retry never takes a sequence number ahead of one of them,
    /// however fast its first attempt exited. A node to be retried gives up its category slot and goes back to the ready
    /// nodes, behind those of its priority that wait for their first attempt: DAGMan appends it to its ready queue
    /// (DAGMAN_RETRY_NODE_FIRST is false by default). Among nodes a category throttle holds back DAGMan's order is not
    /// fixed (it puts them back at the front of its queue one by one, reversing them every submit cycle): HTCondor 25.14.1
    /// ran a retry after all four held nodes of one MAXJOBS 1 DAG, after one of two of another.
    /// </summary>
    private async Task RunJobsAsync()
    {
        var order = _dag.Nodes.Select((n, i) => (n.Name, i)).ToDictionary(x => x.Name, x => x.i, StringComparer.Ordinal);
        var ready = new List<LocalNodeRun>(_runs.Values.Where(r => r.Node.Kind == DagNodeKind.Job && r.State is null && r.WaitingOn == 0));
        // Not keyed by task: an attempt that ends synchronously (NOOP, a submit failure) returns the runtime's cached task,
        // the same instance for every such node, so two of them at once would collide as dictionary keys.
        var running = new List<(Task<AttemptOutcome> Task, LocalNodeRun Run)>();
        var perCategory = new Dictionary<string, int>(StringComparer.Ordinal);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(_cancellation);
        try
        {
            while (ready.Count > 0 || running.Count > 0)
            {
                ready.Sort((a, b) => a.Node.Priority != b.Node.Priority ? b.Node.Priority.CompareTo(a.Node.Priority)
                    : (a.Attempts > 0) != (b.Attempts > 0) ? (a.Attempts > 0).CompareTo(b.Attempts > 0)
                    : order[a.Node.Name].CompareTo(order[b.Node.Name]));
                for (int i = 0; i < ready.Count; i++)
                {
                    var r = ready[i];
                    string? category = r.Node.Category;
                    if (category is not null && _dag.MaxJobs.TryGetValue(category, out int max) && max > 0 && perCategory.GetValueOrDefault(category) >= max) continue;
                    if (category is not null) perCategory[category] = perCategory.GetValueOrDefault(category) + 1;
                    ready.RemoveAt(i--);
                    running.Add((RunAttemptAsync(r, null, stop.Token), r));
                }
                if (running.Count == 0) break;
                var finished = await Task.WhenAny(running.Select(x => x.Task)).ConfigureAwait(false);
                int at = running.FindIndex(x => x.Task == finished);
                var done = running[at].Run;
                running.RemoveAt(at);
                if (done.Node.Category is { } c) perCategory[c]--;
                switch (await finished.ConfigureAwait(false))
                {
                    case AttemptOutcome.Succeeded:
                        foreach (var child in done.Node.Children)
                        {
                            var cr = _runs[child];
                            if (--cr.WaitingOn == 0 && cr.State is null) ready.Add(cr);
                        }
                        break;
                    case AttemptOutcome.Retry:
                        ready.Add(done);
                        break;
                    default:
                        MarkFutile(done);
                        break;
                }
            }
        }
        finally
        {
            if (running.Count > 0)
            {
                // Cancelled: stop what runs (each attempt kills its process) before leaving.
                stop.Cancel();
                try { await Task.WhenAll(running.Select(x => x.Task)).ConfigureAwait(false); } catch (OperationCanceledException) { }
            }
        }
    }

    /// <summary>A failed node's descendants will never run: DAGMan's FUTILE.</summary>
    private void MarkFutile(LocalNodeRun failed)
    {
        var stack = new Stack<string>(failed.Node.Children);
        while (stack.Count > 0)
        {
            var r = _runs[stack.Pop()];
            if (r.State is not null) continue;
            r.State = LocalNodeState.Futile;
            Report(r, LocalDagEventKind.Futile, $"parent {failed.Node.Name} failed");
            foreach (var c in r.Node.Children) stack.Push(c);
        }
    }

    /// <summary>JOB nodes the jobs phase left unrun: a parent failed, or the provisioner never became ready so the phase did not run.</summary>
    private void MarkUnrunJobsFutile()
    {
        foreach (var r in _runs.Values.Where(r => r.Node.Kind == DagNodeKind.Job && r.State is null))
        {
            r.State = LocalNodeState.Futile;
            Report(r, LocalDagEventKind.Futile, _provisionerFailed ? "the provisioner never became ready" : "a parent failed");
        }
    }

    /// <summary>Runs one node to success or until its retries are spent (UNLESS-EXIT stops retrying), retrying in place; true on success.</summary>
    private async Task<bool> RunNodeAsync(LocalNodeRun r, IReadOnlyDictionary<string, string>? extra, CancellationToken ct)
    {
        AttemptOutcome outcome;
        while ((outcome = await RunAttemptAsync(r, extra, ct).ConfigureAwait(false)) == AttemptOutcome.Retry) { }
        return outcome == AttemptOutcome.Succeeded;
    }

    /// <summary>One attempt of a node: its process started, waited for and recorded; Retry when it failed with retries left.</summary>
    private async Task<AttemptOutcome> RunAttemptAsync(LocalNodeRun r, IReadOnlyDictionary<string, string>? extra, CancellationToken ct)
    {
        r.Clock.Start();
        r.Attempts++;
        if (!r.Node.Noop)
        {
            Process process;
            Task exit;
            try
            {
                var command = Prepare(r, extra);
                (process, exit) = LocalNodeProcess.Start(command, r, ct);
                _records.Started(r);
                Report(r, LocalDagEventKind.Started, $"attempt {r.Attempts}: {command.Executable} {string.Join(' ', command.Arguments)}");
            }
            catch (BadInputException e)
            {
                // A submit file condor_submit would refuse, or a program that cannot start: the node fails (DAGMan: submit failure).
                _records.SubmitFailed(r);
                r.Error = $"Job submit failed: {e.Message}";
                r.ExitCode = null;
                r.State = LocalNodeState.Failed;
                r.Clock.Stop();
                Report(r, LocalDagEventKind.Failed, e.Message);
                return AttemptOutcome.Failed;
            }
            using (process)
            {
                try { await exit.ConfigureAwait(false); }
                catch (OperationCanceledException)
                {
                    LocalNodeProcess.Kill(process);
                    r.State = LocalNodeState.Failed;
                    r.Clock.Stop();
                    throw;
                }
                r.ExitCode = process.ExitCode;
                _records.Terminated(r, process.ExitCode);
            }
            if (r.ExitCode != 0)
            {
                int retriesUsed = r.Attempts - 1;
                if (retriesUsed < r.Node.Retries && r.ExitCode != r.Node.UnlessExit)
                {
                    Report(r, LocalDagEventKind.Retrying, $"exit code {r.ExitCode}; retry {retriesUsed + 1} of {r.Node.Retries}");
                    return AttemptOutcome.Retry;
                }
                r.Error = LocalDagRecords.FailureText(r, r.ExitCode.Value);
                r.State = LocalNodeState.Failed;
                r.Clock.Stop();
                string why = r.ExitCode == r.Node.UnlessExit && retriesUsed < r.Node.Retries ? $" (UNLESS-EXIT {r.Node.UnlessExit}: not retried)" : "";
                Report(r, LocalDagEventKind.Failed, $"exit code {r.ExitCode} after {r.Attempts} attempt(s){why}");
                return AttemptOutcome.Failed;
            }
        }
        else r.ExitCode = 0;
        r.State = LocalNodeState.Succeeded;
        r.Clock.Stop();
        Report(r, LocalDagEventKind.Succeeded, r.Node.Noop ? "NOOP" : "exit code 0");
        return AttemptOutcome.Succeeded;
    }
}
