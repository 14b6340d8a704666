using System.Diagnostics;
using System.Runtime.InteropServices;
using Google.Protobuf;
using GwReprocess.Models;
using GwReprocess.Server.Execution;
using Inference;

namespace GwReprocess.Benchmarks;

/// <summary>The snapshotter sequence on the CPU provider with its state kept as host tensors (plain path) against kept in instance memory through the IO binding.</summary>
public sealed class SequenceStateBenchmark : IBenchmark
{
    private const int Rounds = 7, Witnesses = 21, Kernel = 4096;

    public string Name => "sequence-state";
    public string Description => "snapshotter sequence on the CPU provider: state as host tensors (plain path; IO binding with sequence_state host) vs kept in instance memory (IO binding), paired rounds";

    private sealed record Variant(string Name, string IoBinding, string SequenceState);

    private static readonly Variant[] Variants =
    [
        new("host state, plain path", "off", "auto"),
        new("host state, IO binding", "on", "host"),
        new("state in instance memory, IO binding", "on", "auto"),
    ];

    public async Task RunAsync(BenchmarkReport report, CancellationToken cancellationToken)
    {
        report.Note($"load average before the run: {File.ReadAllText("/proc/loadavg").Trim()}; {Environment.ProcessorCount} logical CPUs shared with whatever else runs on the host");
        // The DeepClean stream (21 witnesses, K = 4096 at 4096 Hz) at two inference rates: B = 1 window per update (state and windows the same size) and B = 64.
        foreach (var (stride, batch, requests) in new[] { (64, 1, 400), (8, 64, 24) })
        {
            var model = Snapshotter.Build("snap", Kernel, stride, batch, [new SnapshotterOutput("witness", Witnesses)], 1, ModelInstanceGroup.Types.Kind.Cpu);
            var versions = Variants.Select(v => Load(model, v)).ToArray();
            try
            {
                var update = new float[Witnesses * stride * batch];
                var rng = new Random(1);
                for (int i = 0; i < update.Length; i++) update[i] = (float)(rng.NextDouble() * 2 - 1);
                var data = new TensorData(DataType.TypeFp32, [1, Witnesses, (long)stride * batch], MemoryMarshal.AsBytes(update.AsSpan()).ToArray());
                foreach (var v in versions) await RateAsync(v, data, requests / 4 + 1);
                var rates = new double[Variants.Length][];
                for (int k = 0; k < Variants.Length; k++) rates[k] = new double[Rounds];
                for (int round = 0; round < Rounds; round++)
                    // Each round measures every variant back to back, in an order that rotates, so load changes hit all alike.
                    for (int j = 0; j < Variants.Length; j++)
                    {
                        int k = (round + j) % Variants.Length;
                        rates[k][round] = await RateAsync(versions[k], data, requests);
                    }
                string geometry = $"B = {batch}, stride {stride}";
                for (int k = 0; k < Variants.Length; k++)
                {
                    report.Figure($"{geometry}, {Variants[k].Name}: median rate", Median(rates[k]), "requests/s");
                    if (k > 0)
                        report.Figure($"{geometry}, {Variants[k].Name} vs {Variants[0].Name}: median of paired ratios",
                            Median([.. Enumerable.Range(0, Rounds).Select(r => rates[k][r] / rates[0][r])]), "x");
                }
                report.Note($"{geometry}: update [1, {Witnesses}, {stride * batch}], state [1, {Witnesses}, {Kernel}] ({Witnesses * Kernel * 4 / 1024} KiB), " +
                            $"windows [{batch}, {Witnesses}, {Kernel}] ({(long)batch * Witnesses * Kernel * 4 / 1024} KiB) per request; {requests} requests per round, {Rounds} rounds");
            }
            finally
            {
                foreach (var v in versions) await v.DisposeAsync();
            }
        }
        report.Note($"load average after the run: {File.ReadAllText("/proc/loadavg").Trim()}; not measured on a GPU, where the state would otherwise cross PCIe twice per request");
    }

    private static OnnxModelVersion Load(RepositoryModel model, Variant v)
    {
        var config = model.Config.Clone();
        config.Parameters["io_binding"] = new ModelParameter { StringValue = v.IoBinding };
        config.Parameters["sequence_state"] = new ModelParameter { StringValue = v.SequenceState };
        return OnnxModelVersion.Load(model.Name, 1, config, model.Onnx!.ToByteArray(), new OnnxSessionSettings(1, 1));
    }

    /// <summary>One sequence of <paramref name="requests"/> updates, START to END, requests/s.</summary>
    private static async Task<double> RateAsync(OnnxModelVersion model, TensorData update, int requests)
    {
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < requests; i++)
        {
            var request = new InferenceRequest
            {
                ModelName = model.Name,
                Inputs = new Dictionary<string, TensorData>(StringComparer.Ordinal) { [ModelContract.SnapshotUpdate] = update },
                Sequence = new SequenceId(1, null),
                SequenceStart = i == 0,
                SequenceEnd = i == requests - 1,
            };
            await model.InferAsync(request, CancellationToken.None).ConfigureAwait(false);
        }
        return requests / sw.Elapsed.TotalSeconds;
    }

    private static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        int n = sorted.Length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
