namespace GwReprocess.Cli;

/// <summary>The process exit codes every verb uses (design §4).</summary>
public static class ExitCodes
{
    public const int Success = 0;
    /// <summary>A runtime failure (I/O, network, server).</summary>
    public const int Failure = 1;
    /// <summary>Bad usage or bad input; DAGMan's RETRY ... UNLESS-EXIT 2 does not retry it.</summary>
    public const int BadInput = 2;
    /// <summary>Some segments failed; a DAG retry can resume.</summary>
    public const int Partial = 3;
}
