namespace GwReprocess.Workflow;

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
