using CommandLine;

namespace GwReprocess.Cli;

/// <summary>Options every verb accepts.</summary>
public abstract class CommonOptions
{
    [Option("verbose", HelpText = "Print stack traces on errors and more detail while running.")]
    public bool Verbose { get; set; }

    [Option('q', "quiet", HelpText = "Print only results and errors (no progress).")]
    public bool Quiet { get; set; }
}
