using System.Runtime.InteropServices;
using GwReprocess;
using GwReprocess.Cli;
using GwReprocess.Cli.Verbs;

// The order here is the order `gwrepro --help` lists the verbs in: the data flow's order.
CliVerb[] verbs =
[
    new RunVerb(),
    new DagVerb(),
    new ClientVerb(),
    new ServeVerb(),
    new AnalyzeVerb(),
    new SimulateVerb(),
    new ModelsVerb(),
    new FramesVerb(),
    new AsdVerb(),
    new BucketVerb(),
    new SegmentsVerb(),
];

bool verbose = Array.IndexOf(args, "--verbose") >= 0;
// Ctrl-C and SIGTERM (HTCondor's preemption signal) cancel the verb, so outputs are never left half-written.
var cancellation = new CancellationTokenSource();
using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; cancellation.Cancel(); });
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; cancellation.Cancel(); });

if (args.Length == 0 || args[0] is "--help" or "-h" or "help")
{
    Console.Out.Write(TopLevelHelp(verbs));
    return args.Length == 0 ? ExitCodes.BadInput : ExitCodes.Success;
}
if (args[0] == "--version")
{
    Console.Out.WriteLine($"gwrepro {typeof(BadInputException).Assembly.GetName().Version}");
    return ExitCodes.Success;
}

var verb = Array.Find(verbs, v => v.Name == args[0]);
if (verb is null)
{
    Console.Error.WriteLine($"gwrepro: unknown verb '{args[0]}'. Run 'gwrepro --help' for the list.");
    return ExitCodes.BadInput;
}

try
{
    return await verb.RunAsync(args[1..], cancellation.Token);
}
catch (BadInputException e)
{
    Console.Error.WriteLine($"gwrepro {verb.Name}: {e.Message}");
    if (verbose) Console.Error.WriteLine(e);
    return ExitCodes.BadInput;
}
catch (GwReprocess.Jobs.ClientJobFailedException e)
{
    // The message is the whole reason (server, job, what failed); a stack trace adds nothing for the user.
    Console.Error.WriteLine($"gwrepro {verb.Name}: {e.Message}");
    if (verbose) Console.Error.WriteLine(e);
    return ExitCodes.Failure;
}
catch (GwReprocess.IO.FileWriteException e)
{
    // A full disk is the user's to fix, and the message names the file and the reason: no stack trace.
    Console.Error.WriteLine($"gwrepro {verb.Name}: {e.Message}");
    if (verbose) Console.Error.WriteLine(e);
    return ExitCodes.Failure;
}
catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
{
    Console.Error.WriteLine($"gwrepro {verb.Name}: cancelled");
    return ExitCodes.Failure;
}
catch (Exception e)
{
    Console.Error.WriteLine($"gwrepro {verb.Name}: error: {e.Message}");
    if (verbose) Console.Error.WriteLine(e);
    else Console.Error.WriteLine("(run again with --verbose for the stack trace)");
    return ExitCodes.Failure;
}

static string TopLevelHelp(CliVerb[] verbs)
{
    var sb = new System.Text.StringBuilder();
    sb.AppendLine("gwrepro — reprocess gravitational-wave detector data through neural networks served as a service");
    sb.AppendLine();
    sb.AppendLine("Usage: gwrepro VERB [options]      (gwrepro VERB --help for a verb's options)");
    sb.AppendLine();
    sb.AppendLine("Verbs:");
    foreach (var v in verbs) sb.AppendLine($"  {v.Name,-10} {v.Summary}");
    sb.AppendLine();
    sb.AppendLine("Times are GPS seconds; segments are half-open [start, end). Exit codes: 0 success,");
    sb.AppendLine("1 runtime failure, 2 bad usage or input, 3 partial (some segments failed).");
    return sb.ToString();
}
