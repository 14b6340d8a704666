namespace GwReprocess.Workflow;

/// <summary>One progress report of <see cref="LocalDagExecutor"/>.</summary>
public sealed record LocalDagEvent(DagNode Node, LocalDagEventKind Kind, int Attempt, int? ExitCode, TimeSpan Elapsed, string Message);
