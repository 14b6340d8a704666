namespace GwReprocess.Workflow;

/// <summary>The program a node runs instead of a submit file's <c>gwrepro</c> executable (the running gwrepro), with arguments put before the node's.</summary>
public sealed record LocalExecutable(string Path, IReadOnlyList<string> PrefixArguments)
{
    /// <summary>Submit files whose executable has this file name run <see cref="Path"/> instead.</summary>
    public const string GwreproName = "gwrepro";
}
