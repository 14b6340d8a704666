namespace GwReprocess.Workflow;

/// <summary>One process a node runs: what condor_submit would make of the node's submit file and VARS.</summary>
public sealed record LocalCommand(
    string Executable, IReadOnlyList<string> Arguments, string WorkingDirectory,
    string? Output, string? Error, string? Input, IReadOnlyList<KeyValuePair<string, string>> Environment)
{
    /// <summary>The submit file's <c>max_retries</c>: how many times the schedd reruns the job in place when it does not exit with <see cref="SuccessExitCode"/> (0 = never).</summary>
    public int MaxRetries { get; init; }

    /// <summary>The submit file's <c>success_exit_code</c> (0 when not given).</summary>
    public int SuccessExitCode { get; init; }
}
