namespace GwReprocess.Workflow;

/// <summary>One process a node runs: what condor_submit would make of the node's submit file and VARS.</summary>
public sealed record LocalCommand(
    string Executable, IReadOnlyList<string> Arguments, string WorkingDirectory,
    string? Output, string? Error, string? Input, IReadOnlyList<KeyValuePair<string, string>> Environment);
