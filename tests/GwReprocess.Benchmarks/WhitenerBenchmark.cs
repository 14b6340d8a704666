using System.Diagnostics;
using Google.Protobuf;
using GwReprocess.Models;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace GwReprocess.Benchmarks;

/// <summary>The stream whitener (PSD per window from the 8 s before it) against postproc's fixed 1025-tap FIR, per request in ONNX Runtime (CPU), paired rounds.</summary>
public sealed class WhitenerBenchmark : IBenchmark
{
    private const int Rate = 4096, Kernel = 4096, Detectors = 2, Rounds = 21;

    public string Name => "whitener";
    public string Description => "whitener (mean Welch PSD of the 8 s before each window, 1 s segments, 4095-tap FIR: the defaults) vs postproc (fixed 1025-tap FIR), H1+L1, K 4096, batch 8 and 64: ms per request, median of paired rounds";

    public Task RunAsync(BenchmarkReport report, CancellationToken cancellationToken)
    {
        int background = (int)(StreamWhitener.DefaultBackgroundSeconds * Rate);
        report.Note($"load average before the run: {File.ReadAllText("/proc/loadavg").Trim()}; ONNX Runtime {OrtEnv.Instance().GetVersionString()}, CPU EP, {Environment.ProcessorCount} logical CPUs (shared)");
        int[] threads = Environment.ProcessorCount > 1 ? [1, Environment.ProcessorCount] : [1];
        foreach (int batch in (int[])[8, 64])
        {
            var whitener = StreamWhitener.Build("whitener", Detectors, background, Kernel, batch, StreamWhitener.DefaultSegment(Rate), StreamWhitener.DefaultTaps(StreamWhitener.DefaultSegment(Rate)),
                StreamWhitener.DefaultLowCornerHz, Rate);
            var rng = new Random(3);
            var fir = Enumerable.Range(0, Detectors).Select(_ => Enumerable.Range(0, 1025).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray()).ToList();
            var postproc = Postprocessor.Build("postproc", ["H1", "L1"], Kernel, batch, fir, "benchmark");
            foreach (int t in threads)
            {
                using var w = new Runner(whitener, t);
                using var p = new Runner(postproc, t);
                var wms = new double[Rounds];
                var pms = new double[Rounds];
                var ratio = new double[Rounds];
                for (int r = 0; r < Rounds; r++)
                {
                    // Alternate the order so neither model always runs on caches the other warmed.
                    if (r % 2 == 0) { pms[r] = p.Milliseconds(); wms[r] = w.Milliseconds(); }
                    else { wms[r] = w.Milliseconds(); pms[r] = p.Milliseconds(); }
                    ratio[r] = wms[r] / pms[r];
                }
                report.Figure($"whitener batch {batch}, {t} thread(s)", Median(wms), "ms/request");
                report.Figure($"postproc batch {batch}, {t} thread(s)", Median(pms), "ms/request");
                report.Figure($"whitener / postproc batch {batch}, {t} thread(s)", Median(ratio), "x");
                report.Figure($"whitener batch {batch}, {t} thread(s) stream rate at stride 8", batch * 8.0 / Rate / (Median(wms) / 1e3), "s'/s");
            }
        }
        report.Note($"load average after the run: {File.ReadAllText("/proc/loadavg").Trim()}");
        return Task.CompletedTask;
    }

    private static double Median(double[] v)
    {
        var s = v.Order().ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }

    /// <summary>One ORT session with fixed random inputs of strain scale (every config input, at its config dims), warmed up once.</summary>
    private sealed class Runner : IDisposable
    {
        private readonly SessionOptions _options;
        private readonly InferenceSession _session;
        private readonly NamedOnnxValue[] _inputs;

        public Runner(RepositoryModel model, int threads)
        {
            _options = new SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
            _session = new InferenceSession(model.Onnx!.ToByteArray(), _options);
            var rng = new Random(1);
            _inputs = model.Config.Input.Select(input =>
            {
                var shape = input.Dims.Select(d => (int)d).ToArray();
                var data = new float[shape.Aggregate(1, (a, b) => a * b)];
                for (int i = 0; i < data.Length; i++) data[i] = (float)((rng.NextDouble() * 2 - 1) * 1e-21);
                return NamedOnnxValue.CreateFromTensor(input.Name, new DenseTensor<float>(data, shape));
            }).ToArray();
            using (_session.Run(_inputs)) { }
        }

        public double Milliseconds()
        {
            var sw = Stopwatch.StartNew();
            using (_session.Run(_inputs)) { }
            return sw.Elapsed.TotalMilliseconds;
        }

        public void Dispose()
        {
            _session.Dispose();
            _options.Dispose();
        }
    }
}
