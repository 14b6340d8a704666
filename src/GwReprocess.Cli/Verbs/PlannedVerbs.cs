namespace GwReprocess.Cli.Verbs;

/// <summary>A verb whose implementation has not landed yet: it says so and fails rather than pretend.</summary>
public abstract class PlannedVerb : CliVerb
{
    public override Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        if (args.Length > 0 && args[0] is "--help" or "-h")
        {
            Console.Out.WriteLine($"gwrepro {Name}: {Summary}");
            Console.Out.WriteLine("Not available in this build yet.");
            return Task.FromResult(ExitCodes.Success);
        }
        Console.Error.WriteLine($"gwrepro {Name}: not available in this build yet");
        return Task.FromResult(ExitCodes.Failure);
    }
}

/// <summary><c>gwrepro run</c>: the whole chain on one machine.</summary>
public sealed class RunVerb : PlannedVerb
{
    public override string Name => "run";
    public override string Summary => "Run a workflow (TOML) end to end on this machine: data, models, server, clients, report.";
}
