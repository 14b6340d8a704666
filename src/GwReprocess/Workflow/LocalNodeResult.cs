namespace GwReprocess.Workflow;

/// <summary>The outcome of one node.</summary>
public sealed record LocalNodeResult(string Name, DagNodeKind Kind, LocalNodeState State, int Attempts, int? ExitCode, TimeSpan Elapsed);
