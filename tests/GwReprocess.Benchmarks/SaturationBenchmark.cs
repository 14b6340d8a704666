using System.Diagnostics;
using System.Globalization;
using GwReprocess.Inference;
using GwReprocess.Tests.Cli;
using GwReprocess.Tests.Jobs;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace GwReprocess.Benchmarks;

/// <summary>
/// Several <c>gwrepro client</c> processes per <c>gwrepro serve</c>, as deployed, in the model-dominated configuration of the
/// <c>client</c> benchmark (DeepClean x2 + BBHnet, 21 witnesses, r 64 Hz, B 16): the models' share of the cores (their
/// threads' CPU time / (cores x wall)) for 1, 2, 4 and 8 clients and several in-flight windows, where the rest of the
/// cores went (model threads waiting for a CPU, the server around the models, the clients, other processes on the host),
/// and the same models run back to back in this process on the same cores as the ceiling, both as throughput and as the
/// CPU the models spend per second of data (served vs in process: what the server costs the models themselves).
/// </summary>
/// <remarks>
/// Options: <c>--configs 4x8,8x8</c> (clients x in-flight; default 1x8,2x8,4x8,8x8,4x2,4x32), <c>--rounds N</c> (each
/// configuration N times; figures are medians), <c>--baseline DIR</c> (a gwrepro.dll of another build, e.g. the last merge:
/// each round runs it and this build back to back, alternating which goes first, each with its own server),
/// <c>--job-seconds S</c> (each client's job, default 32: a client's start-up weighs less in a longer job, as in production),
/// <c>--threads T</c> (the server's intra-op threads per model instance; default the core count).
/// </remarks>
public sealed class SaturationBenchmark(string[] options) : IBenchmark
{
    private const int FrameLength = 32, MaxClients = 8;

    public string Name => "saturation";

    public string Description => "1/2/4/8 gwrepro clients x in-flight windows on one gwrepro serve (DeepClean x2 + BBHnet, r 64 Hz, B 16): models' share of the cores, what takes the rest, vs the models in process [--configs CxF,.. --rounds N --baseline DIR --job-seconds S --threads T]";

    public async Task RunAsync(BenchmarkReport report, CancellationToken cancellationToken)
    {
        var (configurations, rounds, baseline, jobSeconds, threads) = Parse(options);
        int cores = Environment.ProcessorCount;
        threads ??= cores;
        report.Note($"load average before the run: {File.ReadAllText("/proc/loadavg").Trim()}; {cores} logical CPUs shared by the server, the clients and whatever else runs on the host");
        report.Note($"jobs of {jobSeconds} s of data per client (plus 8 s padding each side); server intra-op threads {threads}");
        var runOptions = new ClientRunOptions(Seconds: jobSeconds * configurations.Max(c => c.Clients) + 2 * FrameLength, FrameLength: FrameLength, Witnesses: 21, Stride: 64, Batch: 16, Streams: MaxClients);
        using var run = await ClientRunDirectory.CreateAsync(runOptions);
        var inProcess = InProcess(report, run.Repository, runOptions, cores);

        var builds = new List<(string Label, string Dll)> { ("this build", GwreproProcess.DllPath) };
        if (baseline is not null) builds.Add(("baseline", baseline));
        var servers = new List<(GwreproBackground Server, int Port)>();
        try
        {
            foreach (var (label, dll) in builds)
            {
                int grpc = ClientRunDirectory.FreePort();
                servers.Add((await run.StartServerAsync(grpc, ClientRunDirectory.FreePort(), threads: threads.Value, label: label, dll: dll), grpc));
            }
            foreach (var (clients, inFlight) in configurations)
            {
                var samples = builds.Select(_ => new List<Sample>()).ToList();
                for (int round = 0; round < rounds; round++)
                {
                    // ABBA: the build that goes first alternates, so a drift in the host's load falls on both alike.
                    var order = Enumerable.Range(0, builds.Count).ToList();
                    if (round % 2 == 1) order.Reverse();
                    foreach (int b in order)
                    {
                        int sequenceBase = 5000 + 1000 * b + 10 * round;
                        samples[b].Add(await MeasureAsync(run, $"saturation-{clients}-{inFlight}-r{round}-b{b}", inFlight, servers[b], builds[b].Dll, clients, jobSeconds, sequenceBase, runOptions.Start));
                    }
                }
                for (int b = 0; b < builds.Count; b++)
                    Report(report, $"{clients} client(s), in flight {inFlight}{(builds.Count > 1 ? $", {builds[b].Label}" : "")}", samples[b], clients, jobSeconds, cores, inProcess);
            }
        }
        finally
        {
            foreach (var (server, _) in servers) await server.DisposeAsync();
        }
        report.Note($"load average after the run: {File.ReadAllText("/proc/loadavg").Trim()}");
    }

    /// <summary>One round of one configuration: what the clients got done and where the CPU went.</summary>
    /// <param name="Streamed">Seconds of data the models processed: each job's core plus its padding on both sides.</param>
    private readonly record struct Sample(double Wall, double Data, double Streamed, double ModelRun, double ModelWait, double ServerCpu, double ClientCpu, double HostBusy, double HostIdle, string LoadAverage);

    private static async Task<Sample> MeasureAsync(ClientRunDirectory run, string name, int inFlight, (GwreproBackground Server, int Port) server, string dll,
        int clients, int jobSeconds, int sequenceBase, long dataStart)
    {
        string flow = await run.WriteWorkflowAsync($"{name}.toml", $"out-{name}");
        await File.WriteAllTextAsync(flow, (await File.ReadAllTextAsync(flow)).Replace("max_in_flight = 8", $"max_in_flight = {inFlight}", StringComparison.Ordinal));
        int pid = server.Server.Id;
        var host0 = HostCpu.Read();
        var serverCpu0 = ProcessCpu.Of(pid).TotalSeconds;
        var models0 = ModelThreadSchedule.Read(pid);
        var wall = Stopwatch.StartNew();
        var runs = Enumerable.Range(0, clients).Select(i =>
        {
            long start = dataStart + FrameLength + (long)jobSeconds * i;
            return ClientBenchmark.RunTimedAsync(["client", "--workflow", flow, "--start", start.ToString(CultureInfo.InvariantCulture),
                "--end", (start + jobSeconds).ToString(CultureInfo.InvariantCulture), "--job", $"c{i}", "--sequence-id", (sequenceBase + i).ToString(CultureInfo.InvariantCulture),
                "--server", $"127.0.0.1:{server.Port}", "--quiet"], run.Path, dll);
        }).ToList();
        var results = await Task.WhenAll(runs);
        double w = wall.Elapsed.TotalSeconds;
        var models = ModelThreadSchedule.Read(pid) - models0;
        double serverCpu = ProcessCpu.Of(pid).TotalSeconds - serverCpu0;
        var host = HostCpu.Read() - host0;
        foreach (var (r, _) in results)
            if (r.ExitCode != 0) throw new InvalidOperationException($"gwrepro client failed ({r.ExitCode}): {r.StdErr}");
        return new Sample(w, clients * (double)jobSeconds, clients * (double)(jobSeconds + 2 * run.Options.Padding), models.RunNs / 1e9, models.WaitNs / 1e9, serverCpu, results.Sum(r => r.Cpu),
            host.Busy, host.Idle, File.ReadAllText("/proc/loadavg").Split(' ')[0]);
    }

    private static void Report(BenchmarkReport report, string tag, List<Sample> s, int clients, int jobSeconds, int cores, InProcessRun inProcess)
    {
        double Median(Func<Sample, double> f)
        {
            var v = s.Select(f).Order().ToArray();
            return v.Length % 2 == 1 ? v[v.Length / 2] : (v[v.Length / 2 - 1] + v[v.Length / 2]) / 2;
        }
        double Capacity(Sample x) => cores * x.Wall;
        report.Note($"{tag}: {s.Count} round(s); models' share of the cores per round {string.Join(", ", s.Select(x => (x.ModelRun / Capacity(x)).ToString("F3", CultureInfo.InvariantCulture)))}; 1-min load average after each {string.Join(", ", s.Select(x => x.LoadAverage))}");
        report.Figure($"{tag}: throughput", Median(x => x.Data / x.Wall), "s of data/s");
        report.Figure($"{tag}: throughput / in-process ceiling", Median(x => x.Data / x.Wall / inProcess.Rate), "x");
        report.Figure($"{tag}: models' share of the cores (model CPU / ({cores} x wall))", Median(x => x.ModelRun / Capacity(x)), "x");
        // On a shared host the other processes' CPU is not the run's to use: the models' part of what the run's processes got.
        report.Figure($"{tag}: models' share of the CPU the server and clients got (model CPU / (server + clients CPU))", Median(x => x.ModelRun / (x.ServerCpu + x.ClientCpu)), "x");
        // What serving costs the models themselves: their CPU per s of data they processed (the padding too), in this process vs
        // served (1 = no loss). Per s of core data a 32 s job's models do half as much again (8 s of padding on each side).
        report.Figure($"{tag}: models served vs in process (in-process model CPU per s of data / served model CPU per s of streamed data)", Median(x => inProcess.CpuPerData / (x.ModelRun / x.Streamed)), "x");
        report.Figure($"{tag}: model CPU per s of streamed data (core + padding)", Median(x => x.ModelRun / x.Streamed), "s/s");
        report.Figure($"{tag}: model CPU per s of core data", Median(x => x.ModelRun / x.Data), "s/s");
        report.Figure($"{tag}: model threads runnable but waiting for a CPU / ({cores} x wall)", Median(x => x.ModelWait / Capacity(x)), "x");
        report.Figure($"{tag}: server CPU around the models / ({cores} x wall)", Median(x => (x.ServerCpu - x.ModelRun) / Capacity(x)), "x");
        report.Figure($"{tag}: server CPU around the models per s of data", Median(x => (x.ServerCpu - x.ModelRun) / x.Data), "s/s");
        report.Figure($"{tag}: clients' CPU / ({cores} x wall)", Median(x => x.ClientCpu / Capacity(x)), "x");
        report.Figure($"{tag}: client CPU per client job ({jobSeconds} s of data, start-up included)", Median(x => x.ClientCpu / clients), "s");
        report.Figure($"{tag}: client CPU per s of data", Median(x => x.ClientCpu / x.Data), "s/s");
        report.Figure($"{tag}: other processes on the host / ({cores} x wall)", Median(x => Math.Max(0, x.HostBusy - x.ServerCpu - x.ClientCpu) / Capacity(x)), "x");
        report.Figure($"{tag}: idle cores / ({cores} x wall)", Median(x => x.HostIdle / Capacity(x)), "x");
        report.Figure($"{tag}: wall", Median(x => x.Wall), "s");
    }

    /// <summary>The models alone in this process: the s of data/s they allow on these cores, and the CPU they spend per s of data.</summary>
    private sealed record InProcessRun(double Rate, double CpuPerData);

    /// <summary>
    /// Runs the gwe2e ensemble's models (snapshotter, both cleaners, postproc, detector) back to back on random inputs of their
    /// configured shapes in ONNX Runtime with one session each and as many intra-op threads as cores, as the server runs them:
    /// the s of data/s the models alone allow on these cores, and their CPU per s of data (this process's CPU over the loop).
    /// </summary>
    private static InProcessRun InProcess(BenchmarkReport report, string repository, ClientRunOptions options, int cores)
    {
        var ensemble = ModelConfigFile.Read(Path.Combine(repository, "gwe2e", ModelConfigFile.FileName));
        var steps = new List<(InferenceSession Session, List<NamedOnnxValue> Inputs)>();
        var rng = new Random(3);
        try
        {
            foreach (var step in ensemble.EnsembleScheduling.Step)
            {
                var config = ModelConfigFile.Read(Path.Combine(repository, step.ModelName, ModelConfigFile.FileName));
                var shapes = config.Input.Select(i => (i.Name, i.Dims.ToArray())).ToList();
                if (config.SequenceBatching is { } sb) shapes.AddRange(sb.State.Select(s => (s.InputName, s.Dims.ToArray())));
                var inputs = shapes.Select(s =>
                {
                    var dims = s.Item2.Select(d => (int)Math.Max(1, d)).ToArray();
                    var v = new float[dims.Aggregate(1, (a, b) => a * b)];
                    for (int i = 0; i < v.Length; i++) v[i] = (float)(rng.NextDouble() - 0.5);
                    return NamedOnnxValue.CreateFromTensor(s.Name, new DenseTensor<float>(v, dims));
                }).ToList();
                using var so = new SessionOptions { IntraOpNumThreads = cores, InterOpNumThreads = 1 };
                so.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
                steps.Add((new InferenceSession(Path.Combine(repository, step.ModelName, "1", "model.onnx"), so), inputs));
            }
            void Once() { foreach (var (s, i) in steps) using (s.Run(i)) { } }
            Once();
            var self = Process.GetCurrentProcess();
            var cpu0 = self.TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            int n = 0;
            while (clock.Elapsed < TimeSpan.FromSeconds(15) || n < 10) { Once(); n++; }
            double perRequest = clock.Elapsed.TotalSeconds / n;
            self.Refresh();
            double cpu = (self.TotalProcessorTime - cpu0).TotalSeconds;
            double dataPerRequest = options.Batch * options.Stride / 4096.0;
            double rate = dataPerRequest / perRequest;
            report.Note($"in process: {string.Join(" -> ", ensemble.EnsembleScheduling.Step.Select(s => s.ModelName))}, {cores} intra-op threads, {n} requests of B {options.Batch}");
            report.Figure("in process: the ensemble's models back to back, per request", perRequest * 1e3, "ms");
            report.Figure("in process: ceiling (models alone on these cores)", rate, "s of data/s");
            report.Figure("in process: model CPU per s of data", cpu / (n * dataPerRequest), "s/s");
            return new InProcessRun(rate, cpu / (n * dataPerRequest));
        }
        finally
        {
            foreach (var (s, _) in steps) s.Dispose();
        }
    }

    private static ((int Clients, int InFlight)[] Configurations, int Rounds, string? Baseline, int JobSeconds, int? Threads) Parse(string[] args)
    {
        (int, int)[] configurations = [(1, 8), (2, 8), (4, 8), (8, 8), (4, 2), (4, 32)];
        int rounds = 1, jobSeconds = 32;
        int? threads = null;
        string? baseline = null;
        for (int i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"saturation: {args[i]} needs a value");
            int Positive()
            {
                string v = Value();
                return int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0 ? n : throw new ArgumentException($"saturation: {args[i - 1]} '{v}' is not a positive integer");
            }
            switch (args[i])
            {
                case "--rounds": rounds = Positive(); break;
                case "--threads": threads = Positive(); break;
                case "--job-seconds":
                    jobSeconds = Positive();
                    if (jobSeconds % FrameLength != 0) throw new ArgumentException($"saturation: --job-seconds {jobSeconds} is not a whole number of {FrameLength} s frames");
                    break;
                case "--configs":
                    configurations = Value().Split(',').Select(c =>
                    {
                        var p = c.Split('x');
                        return p.Length == 2 && int.TryParse(p[0], NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n is >= 1 and <= MaxClients
                            && int.TryParse(p[1], NumberStyles.None, CultureInfo.InvariantCulture, out int f) && f >= 1
                            ? (n, f) : throw new ArgumentException($"saturation: --configs '{c}' is not CLIENTSxIN_FLIGHT with 1..{MaxClients} clients");
                    }).ToArray();
                    break;
                case "--baseline":
                    string dir = Value();
                    baseline = Directory.Exists(dir) ? Path.Combine(dir, "gwrepro.dll") : dir;
                    if (!File.Exists(baseline)) throw new ArgumentException($"saturation: --baseline '{dir}': no gwrepro.dll there");
                    baseline = Path.GetFullPath(baseline);
                    break;
                default: throw new ArgumentException($"saturation: unknown option '{args[i]}' (--configs, --rounds, --baseline, --job-seconds, --threads)");
            }
        }
        return (configurations, rounds, baseline, jobSeconds, threads);
    }

    /// <summary>Host CPU seconds from /proc/stat: busy (all but idle and iowait) and idle, over all cores.</summary>
    private readonly record struct HostCpu(double Busy, double Idle)
    {
        public static HostCpu operator -(HostCpu a, HostCpu b) => new(a.Busy - b.Busy, a.Idle - b.Idle);

        public static HostCpu Read()
        {
            var f = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Take(8)
                .Select(x => double.Parse(x, CultureInfo.InvariantCulture) / 100).ToArray();
            double idle = f[3] + f[4];
            return new HostCpu(f.Sum() - idle, idle);
        }
    }
}
