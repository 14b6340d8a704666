namespace GwReprocess.Cli;

/// <summary>A top-level <c>gwrepro</c> verb: parses its own arguments and calls the library.</summary>
public abstract class CliVerb
{
    /// <summary>The word after <c>gwrepro</c>.</summary>
    public abstract string Name { get; }

    /// <summary>One line for <c>gwrepro --help</c>.</summary>
    public abstract string Summary { get; }

    /// <summary>Runs with the arguments after the verb; returns an exit code from <see cref="ExitCodes"/>.</summary>
    public abstract Task<int> RunAsync(string[] args, CancellationToken cancellationToken);
}
