using System.Globalization;
using GwReprocess.IO;

namespace GwReprocess.Workflow;

/// <summary>The <c>gwrepro serve</c> command a server node runs: what the DAG writer renders and <c>gwrepro run</c> reads.</summary>
/// <remarks>
/// One typed value serves both sides, so <c>gwrepro run</c> knows where a server node publishes its address without
/// parsing back the argv the DAG writer made: both start from <see cref="For"/> on the same workflow.
/// </remarks>
public sealed record ServeCommand
{
    /// <summary>The submit macro HTCondor expands to the node's name; servers publish under the name of their node.</summary>
    public const string NodeNameMacro = "$(JOB)";

    /// <summary>The submit file of the server nodes in a run directory.</summary>
    public const string SubmitFile = "server.sub";

    /// <summary>The model repository as the job sees it: a bucket URL, a path, or the bare name of a transferred directory.</summary>
    public required string ModelRepository { get; init; }

    /// <summary>Where the server publishes its address, and where the FINAL node's stop marker goes (relative to the job's directory, or a URL).</summary>
    public required string Rendezvous { get; init; }

    /// <summary>The name the server publishes under: <see cref="NodeNameMacro"/> in a DAG.</summary>
    public string Name { get; init; } = NodeNameMacro;

    /// <summary>The address to listen on; every interface by default, since clients run on other machines.</summary>
    public string Host { get; init; } = "0.0.0.0";

    /// <summary>gRPC port; 0 picks a free one (several servers can share an execute point), published through the rendezvous.</summary>
    public int GrpcPort { get; init; }

    /// <summary>HTTP (KServe v2 REST) port; 0 picks a free one.</summary>
    public int HttpPort { get; init; }

    /// <summary>Prometheus metrics port; 0 picks a free one.</summary>
    public int MetricsPort { get; init; }

    /// <summary>The certificate file the server serves TLS with (with <see cref="TlsKey"/>), or null for plain gRPC.</summary>
    public string? TlsCert { get; init; }

    /// <summary>The private key of <see cref="TlsCert"/>.</summary>
    public string? TlsKey { get; init; }

    /// <summary>The file of the bearer token clients must present, or null for none.</summary>
    public string? TokenFile { get; init; }

    /// <summary>Nice levels the threads that run no model are kept below the model threads; 0 leaves them alone.</summary>
    public int TransportNice { get; init; }

    /// <summary>Seconds between repository polls (<c>--repository-poll-secs</c>); 0 = never. A workflow with <c>[training]</c> polls, so each chunk's model is picked up.</summary>
    public int RepositoryPollSeconds { get; init; }

    /// <summary>
    /// The command of the workflow's server nodes. TLS and token files are named by their run-directory copies
    /// (<see cref="RunDirectory.CopiedFiles"/>), so no secret reaches the DAG or a submit file.
    /// </summary>
    public static ServeCommand For(WorkflowConfig workflow)
    {
        var inference = workflow.Inference;
        bool transfer = workflow.Site.ShouldTransferFiles == "YES";
        return new ServeCommand
        {
            ModelRepository = ModelRepositoryArgument(inference.ModelRepository, transfer),
            Rendezvous = RendezvousOf(workflow),
            TlsCert = inference.ServesTls ? RunDirectory.TlsCertName : null,
            TlsKey = inference.ServesTls ? RunDirectory.TlsKeyName : null,
            TokenFile = inference.TokenFile is null ? null : RunDirectory.TokenName,
            TransportNice = inference.TransportNice,
            RepositoryPollSeconds = workflow.Training?.PollSeconds ?? 0,
        };
    }

    /// <summary>
    /// The server command of the run directory holding <paramref name="dagFile"/>, from the workflow copy <c>gwrepro dag</c>
    /// wrote beside it; null for a DAG written some other way, whose nodes are none of ours to look into.
    /// </summary>
    public static ServeCommand? OfRunDirectory(string dagFile)
    {
        string copy = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(dagFile)) ?? ".", RunDirectory.WorkflowName);
        return File.Exists(copy) ? For(WorkflowConfig.Load(copy)) : null;
    }

    // Server addresses, the start barrier and the stop marker all live under the run's outputs.
    private static string RendezvousOf(WorkflowConfig workflow) => workflow.Outputs.Uri.TrimEnd('/') + "/rendezvous";

    /// <summary>The name the server of <paramref name="node"/> publishes under (the node's own name where <see cref="Name"/> is the macro).</summary>
    public string NameFor(string node) => Name == NodeNameMacro ? node : Name;

    /// <summary>The argv after the executable, in the order the DAG has always carried it.</summary>
    public IReadOnlyList<string> ToArguments()
    {
        var argv = new List<string>
        {
            "serve", "--model-repository", ModelRepository,
            "--host", Host, "--grpc-port", Port(GrpcPort), "--http-port", Port(HttpPort), "--metrics-port", Port(MetricsPort),
            "--name", Name, "--rendezvous", Rendezvous,
        };
        if (TlsCert is not null) argv.AddRange(["--tls-cert", TlsCert, "--tls-key", TlsKey ?? throw new InvalidOperationException("a TLS certificate without its key")]);
        if (TokenFile is not null) argv.AddRange(["--token-file", TokenFile]);
        if (RepositoryPollSeconds > 0) argv.AddRange(["--repository-poll-secs", RepositoryPollSeconds.ToString(CultureInfo.InvariantCulture)]);
        if (TransportNice > 0) argv.AddRange(["--transport-nice", TransportNice.ToString(CultureInfo.InvariantCulture)]);
        return argv;
    }

    private static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);

    private static string ModelRepositoryArgument(string repository, bool transfer) =>
        transfer && !Location.Parse(repository).IsUrl ? Path.GetFileName(repository.TrimEnd('/')) : repository;
}
