using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using GwReprocess.Tests.Cli;

namespace GwReprocess.Tests.Jobs;

/// <summary>What a client run directory holds: the simulated span, channels and the model geometry.</summary>
/// <param name="Start">GPS start of the simulated data (a multiple of <paramref name="FrameLength"/>).</param>
/// <param name="Seconds">Seconds of simulated data per detector.</param>
/// <param name="Witnesses">Witness channels per detector (DeepClean's list, in order).</param>
/// <param name="Stride">Hop between windows in samples at 4096 Hz (4096 / inference rate).</param>
/// <param name="Batch">Windows per request.</param>
/// <param name="Streams">Snapshotter instances: concurrent client streams the server holds.</param>
public sealed record ClientRunOptions(long Start = 1_000_000_000, int Seconds = 64, int FrameLength = 16, int Witnesses = 3,
    int Stride = 256, int Batch = 4, int Streams = 1, int Padding = 8, string Cleaner = "deepclean", int MaxInFlight = 8, int Retries = 5,
    string Barrier = "")
{
    /// <summary>Inference rate, Hz.</summary>
    public int Rate => 4096 / Stride;
}

/// <summary>A run directory for <c>gwrepro client</c> tests and benchmarks: workflow.toml, simulated frames, a model repository, jobs.csv.</summary>
/// <remarks>Everything is made with the real CLI (<c>gwrepro simulate</c>, <c>gwrepro models build</c>), so what clients read is what users get.</remarks>
public sealed class ClientRunDirectory : IDisposable
{
    /// <summary>DeepClean's O3 witness list, in the simulator's order.</summary>
    public static IReadOnlyList<string> WitnessNames => GwReprocess.Simulation.SimulationOptions.DefaultWitnessNames;

    private ClientRunDirectory(string path, ClientRunOptions options)
    {
        Path = path;
        Options = options;
    }

    public string Path { get; }

    public ClientRunOptions Options { get; }

    public string Workflow => System.IO.Path.Combine(Path, "workflow.toml");

    public string Repository => System.IO.Path.Combine(Path, "model-repository");

    public string Jobs => System.IO.Path.Combine(Path, "jobs.csv");

    /// <summary>The workflow's default output prefix.</summary>
    public string Outputs => System.IO.Path.Combine(Path, "out");

    /// <summary>Writes workflow.toml, simulates the frames and builds the models (seconds for the default small sizes).</summary>
    public static async Task<ClientRunDirectory> CreateAsync(ClientRunOptions options, string? path = null)
    {
        path ??= Directory.CreateTempSubdirectory("gwrepro-client-run-").FullName;
        var run = new ClientRunDirectory(path, options);
        await File.WriteAllTextAsync(run.Workflow, run.WorkflowText(options.Barrier));
        await run.CheckAsync(["simulate", "--workflow", run.Workflow, "--frame-duration", options.FrameLength.ToString(CultureInfo.InvariantCulture), "--out", "frames"], "simulate");
        await run.CheckAsync(["models", "build", "--out", run.Repository, "--stride", options.Stride.ToString(CultureInfo.InvariantCulture),
            "--batch", options.Batch.ToString(CultureInfo.InvariantCulture), "--witnesses", options.Witnesses.ToString(CultureInfo.InvariantCulture),
            "--cleaner", options.Cleaner, "--streams", options.Streams.ToString(CultureInfo.InvariantCulture),
            // The Wiener cleaner is fitted on the run's own simulated frames, channels from its workflow.
            .. options.Cleaner == "wiener" ? new[] { "--fit", "frames", "--workflow", run.Workflow } : []], "models build");
        return run;
    }

    private async Task CheckAsync(string[] args, string what)
    {
        var r = await GwreproProcess.RunAsync(args, Path, null, TimeSpan.FromMinutes(5));
        if (r.ExitCode != 0) throw new InvalidOperationException($"gwrepro {what} failed ({r.ExitCode}): {r.StdErr}");
    }

    /// <summary>Writes another workflow beside workflow.toml (same frames and models) with its own output prefix and barrier keys; returns its path.</summary>
    /// <param name="data">Replaces the simulated data source: <c>[data]</c> source lines such as <c>source = "bucket"</c> and <c>bucket = "s3://…"</c>.</param>
    public async Task<string> WriteWorkflowAsync(string name, string outputs, string barrier = "", string? data = null)
    {
        string path = System.IO.Path.Combine(Path, name);
        await File.WriteAllTextAsync(path, WorkflowText(barrier, outputs, data));
        return path;
    }

    /// <summary>The workflow text; <paramref name="barrier"/> adds [inference] barrier keys (e.g. <c>barrier = "quorum"</c> lines).</summary>
    public string WorkflowText(string barrier = "", string outputs = "out", string? data = null)
    {
        var o = Options;
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append(c, $"[run]\nname = \"client-test\"\n\n[data]\nstart = {o.Start}\nend = {o.Start + o.Seconds}\n");
        if (data is not null) sb.Append(data).Append("\n\n");
        else
        {
            sb.Append("source = \"simulated\"\n\n");
            sb.Append(c, $"[data.simulate]\nseed = 7\nwitnesses = {o.Witnesses}\ninjection_rate = 0.02\nframe_length = {o.FrameLength}\ndirectory = \"frames\"\n\n");
        }
        foreach (var ifo in new[] { "H1", "L1" })
        {
            sb.Append(c, $"[detectors.{ifo}]\nstrain = \"{ifo}:GDS-CALIB_STRAIN\"\nwitnesses = [");
            sb.Append(string.Join(", ", WitnessNames.Take(o.Witnesses).Select(w => $"\"{ifo}:{w}\"")));
            sb.Append("]\n\n");
        }
        sb.Append(c, $"[jobs]\nlength = {o.FrameLength * 2}\nminimum = {o.FrameLength}\npadding = {o.Padding}\n\n");
        sb.Append(c, $"[inference]\nmodel_repository = \"model-repository\"\nensemble = \"gwe2e\"\nrate = {o.Rate}\nbatch = {o.Batch}\nservers = 1\nclients_per_server = {o.Streams}\n{barrier}\n\n");
        sb.Append(c, $"[cleaning]\nmax_in_flight = {o.MaxInFlight}\nretries = {o.Retries}\n\n");
        sb.Append(c, $"[outputs]\nuri = \"{outputs}\"\n");
        sb.Append("channel_suffix = \"_DEEPCLEAN\"\nframe_type = \"CLEAN\"\n\n[site]\nprofile = \"local\"\n");
        return sb.ToString();
    }

    /// <summary>Writes jobs.csv with one job per (start, end) core segment, padded by the options' padding; sequence ids from 1001.</summary>
    public async Task WriteJobsAsync(IReadOnlyList<(long Start, long End)> cores)
    {
        var sb = new StringBuilder("job,start,end,padded_start,padded_end,server,sequence_id\n");
        for (int i = 0; i < cores.Count; i++)
        {
            var (s, e) = cores[i];
            sb.Append(CultureInfo.InvariantCulture, $"job{i:D3},{s},{e},{s - Options.Padding},{e + Options.Padding},0,{1001 + i}\n");
        }
        await File.WriteAllTextAsync(Jobs, sb.ToString());
    }

    /// <summary>A port nobody listens on now (for servers that must come back on the same address).</summary>
    public static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    /// <summary>Starts <c>gwrepro serve</c> (this build's, or the gwrepro.dll <paramref name="dll"/>) on fixed ports and waits until it says it is listening (models loaded).</summary>
    public async Task<GwreproBackground> StartServerAsync(int grpcPort, int metricsPort = 0, int threads = 1, string label = "server", string? dll = null)
    {
        var server = GwreproBackground.Start(label, ["serve", "--model-repository", Repository, "--grpc-port", grpcPort.ToString(CultureInfo.InvariantCulture),
            "--http-port", "0", "--metrics-port", metricsPort.ToString(CultureInfo.InvariantCulture),
            "--intra-op-threads", threads.ToString(CultureInfo.InvariantCulture), "--inter-op-threads", "1"], Path, dll: dll);
        await server.WaitForLineAsync("listening on", TimeSpan.FromSeconds(120));
        return server;
    }

    /// <summary>Relative paths of every file under <paramref name="prefix"/> (sorted) with their bytes.</summary>
    public static SortedDictionary<string, byte[]> Files(string prefix, params string[] folders)
    {
        var files = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var folder in folders)
        {
            var dir = System.IO.Path.Combine(prefix, folder);
            if (!Directory.Exists(dir)) continue;
            foreach (var f in Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories))
                files[System.IO.Path.GetRelativePath(prefix, f).Replace('\\', '/')] = File.ReadAllBytes(f);
        }
        return files;
    }

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}
