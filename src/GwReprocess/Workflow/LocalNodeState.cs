namespace GwReprocess.Workflow;

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
