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

/// <summary><c>gwrepro client</c>: one reprocessing job.</summary>
public sealed class ClientVerb : PlannedVerb
{
    public override string Name => "client";
    public override string Summary => "Run one client job: read frames, stream to a server, write cleaned strain and scores.";
}

/// <summary><c>gwrepro serve</c>: the bundled inference server.</summary>
public sealed class ServeVerb : PlannedVerb
{
    public override string Name => "serve";
    public override string Summary => "Serve a Triton-layout model repository over Triton's gRPC/HTTP protocol (ONNX Runtime).";
}

/// <summary><c>gwrepro asd</c>: a channel's amplitude spectral density.</summary>
public sealed class AsdVerb : PlannedVerb
{
    public override string Name => "asd";
    public override string Summary => "Compute a channel's amplitude spectral density (Welch) to CSV.";
}

/// <summary><c>gwrepro bucket</c>: list and copy objects in file://, s3:// and gs:// buckets.</summary>
public sealed class BucketVerb : PlannedVerb
{
    public override string Name => "bucket";
    public override string Summary => "List and copy objects in file://, s3:// and gs:// buckets; build frame caches from them.";
}
