using System.Diagnostics;

namespace GwReprocess.Workflow;

/// <summary>The state of one node while <see cref="LocalDagExecutor"/> runs a DAG.</summary>
internal sealed class LocalNodeRun(DagNode node)
{
    public DagNode Node { get; } = node;

    /// <summary>Where the node ended up; null while it waits or runs.</summary>
    public LocalNodeState? State { get; set; }

    /// <summary>Attempts started (retries + 1).</summary>
    public int Attempts { get; set; }

    /// <summary>The exit code of the last attempt.</summary>
    public int? ExitCode { get; set; }

    /// <summary>Parents not finished yet.</summary>
    public int WaitingOn { get; set; }

    public Stopwatch Clock { get; } = new();

    /// <summary>The pseudo job id (cluster) of the current or last attempt, as <c>$(Cluster)</c> and the jobstate log give it.</summary>
    public int Cluster { get; set; }

    /// <summary>The jobstate log sequence number of the current or last attempt (a new one per attempt, as DAGMan gives).</summary>
    public int Sequence { get; set; }

    /// <summary>An attempt's process runs.</summary>
    public bool Running { get; set; }

    /// <summary>Killed at the end of the run (a SERVICE/PROVISIONER that did not stop by itself): no termination is recorded.</summary>
    public bool Killed { get; set; }

    /// <summary>DONE in the DAG file itself (DAGMan's "User defined as DONE"), not only in a rescue DAG.</summary>
    public bool DoneInDag { get; set; }

    /// <summary>Why the node failed, in DAGMan's words (the node status file's StatusDetails).</summary>
    public string Error { get; set; } = "";
}
