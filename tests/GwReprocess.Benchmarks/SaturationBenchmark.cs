using System.Diagnostics;
using System.Globalization;
using GwReprocess.Inference;
using GwReprocess.Tests.Jobs;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace GwReprocess.Benchmarks;

/// <summary>
/// Several <c>gwrepro client</c> processes per <c>gwrepro serve</c>, as deployed, in the model-dominated configuration of the
/// <c>client</c> benchmark (DeepClean x2 + BBHnet, 21 witnesses, r 64 Hz, B 16): the models' share of the cores (their
/// threads' CPU time / (cores x wall)) for 1, 2, 4 and 8 clients and several in-flight windows, where the rest of the
/// cores went (model threads waiting for a CPU, the server around the models, the clients, other processes on the host),
/// and the same models run back to back in this process on the same cores as the ceiling.
/// </summary>
public sealed class SaturationBenchmark : IBenchmark
{
    private const int FrameLength = 32, JobSeconds = 32, MaxClients = 8;

    public string Name => "saturation";

    public string Description => "1/2/4/8 gwrepro clients x in-flight windows on one gwrepro serve (DeepClean x2 + BBHnet, r 64 Hz, B 16): models' share of the cores, what takes the rest, vs the models in process";

    public async Task RunAsync(BenchmarkReport report, CancellationToken cancellationToken)
    {
        int cores = Environment.ProcessorCount;
        report.Note($"load average before the run: {File.ReadAllText("/proc/loadavg").Trim()}; {cores} logical CPUs shared by the server, the clients and whatever else runs on the host");
        var options = new ClientRunOptions(Seconds: JobSeconds * MaxClients + 2 * FrameLength, FrameLength: FrameLength, Witnesses: 21, Stride: 64, Batch: 16, Streams: MaxClients);
        using var run = await ClientRunDirectory.CreateAsync(options);
        double ceiling = InProcessDataRate(report, run.Repository, options, cores);

        int grpc = ClientRunDirectory.FreePort(), metricsPort = ClientRunDirectory.FreePort();
        await using var server = await run.StartServerAsync(grpc, metricsPort, threads: cores);
        (int Clients, int InFlight)[] configurations = [(1, 8), (2, 8), (4, 8), (8, 8), (4, 2), (4, 32)];
        foreach (var (clients, inFlight) in configurations)
        {
            string tag = $"{clients} client(s), in flight {inFlight}";
            string workflow = await run.WriteWorkflowAsync($"saturation-{clients}-{inFlight}.toml", $"out-{clients}-{inFlight}");
            await File.WriteAllTextAsync(workflow, (await File.ReadAllTextAsync(workflow)).Replace("max_in_flight = 8", $"max_in_flight = {inFlight}", StringComparison.Ordinal));

            var host0 = HostCpu.Read();
            var serverCpu0 = ProcessCpu.Of(server.Id).TotalSeconds;
            var models0 = ModelThreadSchedule.Read(server.Id);
            var wall = Stopwatch.StartNew();
            var runs = Enumerable.Range(0, clients).Select(i =>
            {
                long start = options.Start + FrameLength + (long)JobSeconds * i;
                return ClientBenchmark.RunTimedAsync(["client", "--workflow", workflow, "--start", start.ToString(CultureInfo.InvariantCulture),
                    "--end", (start + JobSeconds).ToString(CultureInfo.InvariantCulture), "--job", $"c{i}", "--sequence-id", (5000 + i).ToString(CultureInfo.InvariantCulture),
                    "--server", $"127.0.0.1:{grpc}", "--quiet"], run.Path);
            }).ToList();
            var results = await Task.WhenAll(runs);
            double w = wall.Elapsed.TotalSeconds;
            var models = ModelThreadSchedule.Read(server.Id) - models0;
            double serverCpu = ProcessCpu.Of(server.Id).TotalSeconds - serverCpu0;
            var host = HostCpu.Read() - host0;
            foreach (var (r, _) in results)
                if (r.ExitCode != 0) throw new InvalidOperationException($"gwrepro client failed ({r.ExitCode}): {r.StdErr}");
            double clientCpu = results.Sum(r => r.Cpu);
            double capacity = cores * w, data = clients * (double)JobSeconds;
            double modelRun = models.RunNs / 1e9, modelWait = models.WaitNs / 1e9;
            double ours = serverCpu + clientCpu;
            report.Figure($"{tag}: throughput", data / w, "s of data/s");
            report.Figure($"{tag}: throughput / in-process ceiling", data / w / ceiling, "x");
            report.Figure($"{tag}: models' share of the cores (model CPU / ({cores} x wall))", modelRun / capacity, "x");
            // On a shared host the other processes' CPU is not the run's to use: the models' part of what the run's processes got.
            report.Figure($"{tag}: models' share of the CPU the server and clients got (model CPU / (server + clients CPU))", modelRun / ours, "x");
            report.Figure($"{tag}: model threads runnable but waiting for a CPU / ({cores} x wall)", modelWait / capacity, "x");
            report.Figure($"{tag}: server CPU around the models / ({cores} x wall)", (serverCpu - modelRun) / capacity, "x");
            report.Figure($"{tag}: clients' CPU / ({cores} x wall)", clientCpu / capacity, "x");
            report.Figure($"{tag}: other processes on the host / ({cores} x wall)", Math.Max(0, host.Busy - ours) / capacity, "x");
            report.Figure($"{tag}: idle cores / ({cores} x wall)", host.Idle / capacity, "x");
            report.Figure($"{tag}: wall", w, "s");
        }
        report.Note($"load average after the run: {File.ReadAllText("/proc/loadavg").Trim()}");
    }

    /// <summary>
    /// Runs the gwe2e ensemble's models (snapshotter, both cleaners, postproc, detector) back to back on random inputs of their
    /// configured shapes in ONNX Runtime with one session each and as many intra-op threads as cores, as the server runs them:
    /// the s of data/s the models alone allow on these cores.
    /// </summary>
    private static double InProcessDataRate(BenchmarkReport report, string repository, ClientRunOptions options, int cores)
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
            var clock = Stopwatch.StartNew();
            int n = 0;
            while (clock.Elapsed < TimeSpan.FromSeconds(15) || n < 10) { Once(); n++; }
            double perRequest = clock.Elapsed.TotalSeconds / n;
            double rate = options.Batch * options.Stride / 4096.0 / perRequest;
            report.Note($"in process: {string.Join(" -> ", ensemble.EnsembleScheduling.Step.Select(s => s.ModelName))}, {cores} intra-op threads, {n} requests of B {options.Batch}");
            report.Figure("in process: the ensemble's models back to back, per request", perRequest * 1e3, "ms");
            report.Figure("in process: ceiling (models alone on these cores)", rate, "s of data/s");
            return rate;
        }
        finally
        {
            foreach (var (s, _) in steps) s.Dispose();
        }
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
