namespace GwReprocess.Workflow;

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
    /// <summary>A SERVICE node's process died before the stop phase and was started again in place (its submit file's <c>max_retries</c>).</summary>
    Restarted,
    /// <summary>A SERVICE/PROVISIONER process ended (by itself, or killed after the grace period).</summary>
    Stopped,
}
