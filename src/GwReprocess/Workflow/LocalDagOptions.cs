namespace GwReprocess.Workflow;

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
