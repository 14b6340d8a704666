using System.Globalization;
using CommandLine;
using GwReprocess.Server.Hosting;
using GwReprocess.Server.Repository;

namespace GwReprocess.Cli.Verbs;

/// <summary><c>gwrepro serve</c>: the bundled inference server (Triton's protocol on ONNX Runtime).</summary>
public sealed class ServeVerb : CliVerb
{
    public override string Name => "serve";
    public override string Summary => "Serve a Triton-layout model repository over Triton's gRPC/HTTP protocol (ONNX Runtime).";

    /// <summary>Choices of <c>--model-control</c>.</summary>
    public enum ModelControlOption { None, Explicit }

    /// <summary>Options of <c>gwrepro serve</c>.</summary>
    public sealed class Options : CommonOptions
    {
        [Option("model-repository", Required = true, HelpText = "Triton-layout model repository: a directory, file://, s3:// or gs:// prefix (<model>/config.pbtxt, <model>/<version>/model.onnx).")]
        public string ModelRepository { get; set; } = "";

        [Option("host", Default = "127.0.0.1", HelpText = "Address to listen on; 0.0.0.0 for every interface (needed when clients run on other machines).")]
        public string Host { get; set; } = "127.0.0.1";

        [Option("grpc-port", Default = 8001, HelpText = "gRPC port (HTTP/2, inference.GRPCInferenceService); 0 picks a free port.")]
        public int GrpcPort { get; set; }

        [Option("http-port", Default = 8000, HelpText = "HTTP/REST (KServe v2) port; 0 picks a free port.")]
        public int HttpPort { get; set; }

        [Option("metrics-port", Default = 8002, HelpText = "Prometheus metrics port (GET /metrics); 0 picks a free port.")]
        public int MetricsPort { get; set; }

        [Option("repository-poll-secs", Default = 0, HelpText = "Seconds between repository polls picking up new/changed models and versions (0 = never).")]
        public int PollSeconds { get; set; }

        [Option("model-control", Default = ModelControlOption.None, HelpText = "none: load every model at start; explicit: load/unload only through RepositoryModelLoad/Unload.")]
        public ModelControlOption ModelControl { get; set; }

        [Option("tls-cert", HelpText = "PEM certificate for TLS on all ports (with --tls-key).")]
        public string? TlsCert { get; set; }

        [Option("tls-key", HelpText = "PEM private key of --tls-cert.")]
        public string? TlsKey { get; set; }

        [Option("token", HelpText = "Require 'authorization: Bearer TOKEN' on every call (gRPC metadata and HTTP header). Also read from GWREPRO_SERVER_TOKEN.")]
        public string? Token { get; set; }

        [Option("token-file", HelpText = "Read the --token from this file (surrounding whitespace ignored), so it appears on no command line; what the DAG's server nodes use for [inference] token_file.")]
        public string? TokenFile { get; set; }

        [Option("version", HelpText = "Print the version, ONNX Runtime's and the execution providers of this build (CPU; CUDA in the -p:Accelerator=cuda build), and exit.")]
        public bool Version { get; set; }

        [Option("allow-cpu-fallback", HelpText = "Run KIND_GPU instances on the CPU when no GPU can be used: a build without CUDA, a node without the NVIDIA driver, CUDA 13 or cuDNN 9 libraries, or no visible GPU (otherwise such models fail to load, naming what is missing).")]
        public bool AllowCpuFallback { get; set; }

        [Option("intra-op-threads", Default = 0, HelpText = "ONNX Runtime threads inside one operator per instance (0 = ONNX Runtime's default); config parameter intra_op_thread_count overrides.")]
        public int IntraOpThreads { get; set; }

        [Option("inter-op-threads", Default = 0, HelpText = "ONNX Runtime threads across operators per instance (0 = default).")]
        public int InterOpThreads { get; set; }

        [Option("transport-nice", Default = 0, HelpText = "Linux: keep every thread that does not run a model (gRPC/HTTP transport, batchers, metrics) this many nice levels below the model instance threads, so that on a machine short of cores the transport waits for a CPU and the models do not (0 = off; 1-19).")]
        public int TransportNice { get; set; }

        [Option("max-message-bytes", Default = int.MaxValue, HelpText = "gRPC message and HTTP body limit in bytes (Triton: 2147483647).")]
        public int MaxMessageBytes { get; set; }

        [Option("name", HelpText = "This server's name in the rendezvous directory (the DAG passes $(JOB)).")]
        public string? ServerName { get; set; }

        [Option("rendezvous", HelpText = "Directory or bucket prefix (file://, s3://, gs://): when ready write servers/<name> = host:grpcport; stop when a 'stop' object appears.")]
        public string? Rendezvous { get; set; }

        [Option("provisioner", HelpText = "When ready, run 'condor_chirp set_job_attr ProvisionerState 2' (HTCondor PROVISIONER node).")]
        public bool Provisioner { get; set; }
    }

    public override Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        // Before parsing: --version needs no --model-repository.
        if (args.Contains("--version"))
        {
            Console.Out.WriteLine($"gwrepro serve {typeof(ServeVerb).Assembly.GetName().Version}: {Server.Execution.GpuEnvironment.BuildDescription()}");
            return Task.FromResult(ExitCodes.Success);
        }
        return ArgumentParsing.RunAsync<Options>(Name, args, o => ServeAsync(o, cancellationToken));
    }

    private static void Log(string line) =>
        Console.Error.WriteLine($"{DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)} gwrepro serve: {line}");

    private static async Task<int> ServeAsync(Options o, CancellationToken cancellationToken)
    {
        if (o.Token is not null && o.TokenFile is not null) throw new BadInputException("give either --token or --token-file, not both");
        if (o.Rendezvous is not null && string.IsNullOrEmpty(o.ServerName)) throw new BadInputException("--rendezvous needs --name");
        foreach (var (port, name) in new[] { (o.GrpcPort, "--grpc-port"), (o.HttpPort, "--http-port"), (o.MetricsPort, "--metrics-port") })
            if (port is < 0 or > 65535) throw new BadInputException($"{name} {port}: not a TCP port");
        using var rendezvous = o.Rendezvous is null ? null : Server.Hosting.Rendezvous.Open(o.Rendezvous);
        var options = new ServerOptions
        {
            ModelRepository = o.ModelRepository,
            Host = o.Host,
            GrpcPort = o.GrpcPort,
            HttpPort = o.HttpPort,
            MetricsPort = o.MetricsPort,
            RepositoryPollSeconds = o.PollSeconds,
            ModelControl = o.ModelControl == ModelControlOption.Explicit ? ModelControlMode.Explicit : ModelControlMode.None,
            TlsCertificate = o.TlsCert,
            TlsKey = o.TlsKey,
            Token = o.Token ?? (o.TokenFile is { } f ? GwReprocess.Inference.TokenFile.Read(f, "--token-file") : null) ?? Environment.GetEnvironmentVariable("GWREPRO_SERVER_TOKEN"),
            AllowCpuFallback = o.AllowCpuFallback,
            IntraOpThreads = o.IntraOpThreads,
            InterOpThreads = o.InterOpThreads,
            TransportNice = o.TransportNice,
            MaxMessageBytes = o.MaxMessageBytes,
        };
        if (rendezvous is not null && await rendezvous.ClearStaleStopAsync(cancellationToken).ConfigureAwait(false))
            Log($"removed a stop marker left by an earlier attempt of the run ({rendezvous.Location.TrimEnd('/')}/{Server.Hosting.Rendezvous.StopMarker})");
        await using var server = await InferenceServer.StartAsync(options, Log, cancellationToken).ConfigureAwait(false);
        if (rendezvous is not null)
        {
            string host = Server.Hosting.Rendezvous.AdvertisedHost(o.Host);
            await rendezvous.PublishAsync(o.ServerName!, host, server.GrpcPort, cancellationToken).ConfigureAwait(false);
            // The pid lets an operator (or the CI fault test) find this process among the execute point's.
            Log($"published {host}:{server.GrpcPort} as {rendezvous.AddressLocation(o.ServerName!)} (pid {Environment.ProcessId})");
        }
        if (o.Provisioner) Log(await Provisioner.SignalReadyAsync(cancellationToken).ConfigureAwait(false));
        try
        {
            if (rendezvous is not null)
            {
                await rendezvous.WaitForStopAsync(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
                Log($"stop marker {rendezvous.Location.TrimEnd('/')}/{Server.Hosting.Rendezvous.StopMarker} found; shutting down");
            }
            else await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Log("signal received; shutting down");
        }
        if (rendezvous is not null)
        {
            try { await rendezvous.WithdrawAsync(o.ServerName!, CancellationToken.None).ConfigureAwait(false); }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                Log($"could not remove {rendezvous.AddressLocation(o.ServerName!)}: {e.Message}");
            }
        }
        await server.StopAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        Log("stopped");
        return ExitCodes.Success;
    }
}
