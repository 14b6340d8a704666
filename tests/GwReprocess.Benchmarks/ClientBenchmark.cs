using System.Diagnostics;
using System.Globalization;
using GwReprocess.Analysis;
using GwReprocess.Jobs;
using GwReprocess.Tests.Cli;
using GwReprocess.Tests.Jobs;

namespace GwReprocess.Benchmarks;

/// <summary>
/// One <c>gwrepro client</c> against <c>gwrepro serve</c> on this machine (two processes, loopback), demo-size gwe2e
/// (H1 + L1, 21 witnesses each): seconds of data per second, the server's model compute (Σ
/// nv_inference_compute_infer_duration_us of the composing models, and the CPU time of its model threads), infrastructure
/// overhead on the two cores 1 − model CPU / (cores × wall), and bytes on the wire. Two configurations: the demo's (r = 4 Hz, B = 8) and one where the
/// model dominates (r = 64 Hz, B = 16: sixteen times the DeepClean windows per second of data; a 256 s job, so that the
/// pipeline's fixed start and tail weigh as they would in a long job).
/// </summary>
public sealed class ClientBenchmark : IBenchmark
{
    public string Name => "client";

    public string Description => "gwrepro client vs gwrepro serve on loopback (gwe2e, DeepClean, 21 witnesses): s of data/s, server compute fraction, infrastructure overhead, wire bytes";

    public async Task RunAsync(BenchmarkReport report, CancellationToken cancellationToken)
    {
        report.Note($"load average before the run: {File.ReadAllText("/proc/loadavg").Trim()}; {Environment.ProcessorCount} logical CPUs shared by server and client");
        await MeasureAsync(report, "demo (r 4 Hz, B 8)", new ClientRunOptions(Seconds: 192, FrameLength: 32, Witnesses: 21, Stride: 1024, Batch: 8));
        await MeasureAsync(report, "model-dominated (r 64 Hz, B 16)", new ClientRunOptions(Seconds: 320, FrameLength: 32, Witnesses: 21, Stride: 64, Batch: 16));
    }

    private static async Task MeasureAsync(BenchmarkReport report, string label, ClientRunOptions options)
    {
        using var run = await ClientRunDirectory.CreateAsync(options);
        int grpc = ClientRunDirectory.FreePort(), metricsPort = ClientRunDirectory.FreePort();
        await using var server = await run.StartServerAsync(grpc, metricsPort, threads: Environment.ProcessorCount);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{metricsPort}") };
        long start = options.Start + options.FrameLength, end = options.Start + options.Seconds - options.FrameLength;
        string[] args = ["client", "--workflow", run.Workflow, "--start", start.ToString(CultureInfo.InvariantCulture), "--end", end.ToString(CultureInfo.InvariantCulture),
            "--server", $"127.0.0.1:{grpc}", "--quiet"];

        // Process wall includes the client's start-up (runtime, readiness, layout); the streaming wall from its metrics rows does not.
        var before = await ScrapeAsync(http);
        var serverCpu0 = ProcessCpu.Of(server.Id).TotalSeconds;
        var models0 = ModelThreadSchedule.Read(server.Id);
        var wall = Stopwatch.StartNew();
        var (result, clientCpu) = await RunTimedAsync(args, run.Path);
        double wallSeconds = wall.Elapsed.TotalSeconds;
        var serverCpu = ProcessCpu.Of(server.Id).TotalSeconds - serverCpu0;
        double modelCpu = (ModelThreadSchedule.Read(server.Id) - models0).RunNs / 1e9;
        int cores = Environment.ProcessorCount;
        var after = await ScrapeAsync(http);
        if (result.ExitCode != 0) throw new InvalidOperationException($"gwrepro client failed ({result.ExitCode}): {result.StdErr}");

        var rows = JobMetricsCsv.Read(Path.Combine(run.Outputs, "metrics", $"client-{start}.csv"));
        double data = rows.Sum(r => r.DataSeconds);
        double streamWall = rows.Max(r => r.WallEnd) - rows.Min(r => r.WallStart);
        long sent = rows.Sum(r => r.BytesSent), received = rows.Sum(r => r.BytesReceived);
        double compute = 0, ensembleRequest = 0;
        var perModel = new List<string>();
        foreach (var m in after)
        {
            var b = before.FirstOrDefault(x => x.Model == m.Model && x.Version == m.Version);
            double dInfer = (m.ComputeInferUs - (b?.ComputeInferUs ?? 0)) / 1e6;
            if (m.Model == "gwe2e") { ensembleRequest = (m.RequestUs - (b?.RequestUs ?? 0)) / 1e6; continue; }
            if (dInfer <= 0) continue;
            compute += dInfer;
            perModel.Add($"{m.Model} {dInfer:F2} s");
        }
        report.Note($"{label}: {data:F0} s of H1+L1 data, K 4096, stride {options.Stride}, B {options.Batch}, {options.Witnesses} witnesses/detector, max in flight {options.MaxInFlight}; server ORT threads {Environment.ProcessorCount}");
        report.Note($"{label}: model compute by model: {string.Join(", ", perModel)}");
        report.Figure($"{label}: client process wall time", wallSeconds, "s");
        report.Figure($"{label}: client streaming wall time (metrics rows)", streamWall, "s");
        report.Figure($"{label}: throughput (process wall)", data / wallSeconds, "s of data/s");
        report.Figure($"{label}: throughput (streaming wall)", data / streamWall, "s of data/s");
        report.Figure($"{label}: server model compute (Σ compute_infer)", compute, "s");
        report.Figure($"{label}: server gwe2e request time (Σ request duration)", ensembleRequest, "s");
        report.Figure($"{label}: server process CPU", serverCpu, "s");
        report.Figure($"{label}: client process CPU (read, resample, build, aggregate, write, gRPC)", clientCpu, "s");
        report.Figure($"{label}: client CPU per s of data", clientCpu / data, "s/s");
        report.Figure($"{label}: compute fraction of process wall", compute / wallSeconds, "x");
        report.Figure($"{label}: compute fraction of streaming wall", compute / streamWall, "x");
        // Σ compute_infer adds up execution wall times: when the two detectors' cleaners run at once on their own instance
        // threads it exceeds the wall time, and 1 - compute/wall says nothing. What the models used of the machine is
        // their threads' CPU time against the cores' capacity over the same wall time.
        report.Figure($"{label}: 1 - Σ compute_infer/wall (process wall; below 0 when executions overlap)", 1 - compute / wallSeconds, "x");
        report.Figure($"{label}: model CPU time (the server's ORT:* threads, /proc schedstat)", modelCpu, "s");
        report.Figure($"{label}: model CPU share of the {cores} cores over the process wall", modelCpu / (cores * wallSeconds), "x");
        report.Figure($"{label}: infrastructure overhead on the {cores} cores 1 - model CPU/({cores} x process wall)", 1 - modelCpu / (cores * wallSeconds), "x");
        report.Figure($"{label}: infrastructure overhead on the {cores} cores 1 - model CPU/({cores} x streaming wall)", 1 - modelCpu / (cores * streamWall), "x");
        // Where the rest goes: inside the server around the models (gRPC, ensemble plumbing, queueing), and the time the
        // server had no request at all (the pipeline's start and tail, and any stall of the client).
        report.Figure($"{label}: server share around the models 1 - compute/request", 1 - compute / ensembleRequest, "x");
        report.Figure($"{label}: streaming wall with no request on the server (wall - request)", streamWall - ensembleRequest, "s");
        report.Figure($"{label}: bytes sent per s of data", sent / data, "B/s");
        report.Figure($"{label}: bytes received per s of data", received / data, "B/s");
        report.Figure($"{label}: bytes on the wire, total", sent + received, "B");
    }

    /// <summary>Runs gwrepro (this build's, or the gwrepro.dll <paramref name="dll"/>) under bash so that <c>times</c> reports the child's user + system CPU after it exits.</summary>
    internal static async Task<(GwreproProcess.Result Result, double Cpu)> RunTimedAsync(string[] args, string directory, string? dll = null)
    {
        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = directory };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add("dotnet \"$@\"; code=$?; times >&2; exit $code");
        psi.ArgumentList.Add("bash");
        psi.ArgumentList.Add(dll ?? GwreproProcess.DllPath);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        string err = await stderr;
        // times prints the shell's user/system line, then its children's: "0m12.345s 0m1.234s".
        var last = err.TrimEnd().Split('\n')[^1].Split(' ');
        double cpu = Minutes(last[0]) + Minutes(last[1]);
        return (new GwreproProcess.Result(p.ExitCode, await stdout, err), cpu);
    }

    private static double Minutes(string t)
    {
        int m = t.IndexOf('m');
        return int.Parse(t[..m], CultureInfo.InvariantCulture) * 60 + double.Parse(t[(m + 1)..^1], CultureInfo.InvariantCulture);
    }

    private static async Task<IReadOnlyList<ModelCounters>> ScrapeAsync(HttpClient http) =>
        ModelCounters.FromSamples(PrometheusText.Parse(await http.GetStringAsync("/metrics")));
}
