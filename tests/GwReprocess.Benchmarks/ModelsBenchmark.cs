using System.Diagnostics;
using Google.Protobuf;
using GwReprocess.Models;
using GwReprocess.Models.Onnx;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace GwReprocess.Benchmarks;

/// <summary>The repository's networks in ONNX Runtime (CPU): inferences per second and achieved GFLOP/s, against a plain MatMul measured in the same run.</summary>
public sealed class ModelsBenchmark : IBenchmark
{
    public string Name => "models";
    public string Description => "DeepClean (K 4096, 21 witnesses), BBHnet, Wiener FIR and template bank (the demo's sizes) in ONNX Runtime at batch 1/8/64: inf/s, GFLOP/s, vs ORT MatMul";

    public Task RunAsync(BenchmarkReport report, CancellationToken cancellationToken)
    {
        const int kernel = 4096, witnesses = 21;
        int[] threads = Environment.ProcessorCount > 1 ? [1, Environment.ProcessorCount] : [1];
        var deepclean = DeepCleanNetwork.Build("deepclean", witnesses, kernel, batch: 1, seed: 1);
        var bbhnet = BbhNetNetwork.Build("bbhnet", kernel, batch: 1, seed: 2);
        // The Wiener and template models at the demo's sizes (model-repository/): 21 witnesses x 32 taps; 52 quadrature templates of
        // 512 samples correlated at 1/4 of the rate after cropping postproc's 512-sample FIR edges and a 63-tap decimation low-pass.
        // Random values: the throughput depends on the shapes only.
        var rng = new Random(5);
        float[] Random(int n) { var v = new float[n]; for (int i = 0; i < n; i++) v[i] = (float)(rng.NextDouble() - 0.5); return v; }
        var wiener = WienerFilterNetwork.Build("wiener", new MultiChannelFir(Enumerable.Range(0, witnesses).Select(_ => Random(32)).ToList(), 0, "benchmark"), kernel, 1);
        var templates = TemplateBankNetwork.Build("templates", new TemplateBank(Enumerable.Range(0, 52).Select(_ => Random(512)).ToList(),
            Enumerable.Range(0, 52).Select(_ => Random(512)).ToList(), 8, 1, "benchmark") { Crop = 512, Decimation = 4, DecimationFilter = Random(63) }, 2, kernel, 1);
        report.Note($"ONNX Runtime {OrtEnv.Instance().GetVersionString()}, CPU EP, {Environment.ProcessorCount} logical CPUs");
        report.Note($"FLOPs per window (2 per MAC): deepclean {deepclean.FlopsPerExample / 1e6:F1} M, bbhnet {bbhnet.FlopsPerExample / 1e6:F2} M, " +
                    $"wiener 21x32 taps {wiener.FlopsPerExample / 1e6:F1} M, templates 52x512 at 1024 Hz {templates.FlopsPerExample / 1e6:F1} M");

        foreach (int t in threads)
        {
            double reference = MatMulGflops(t);
            report.Figure($"reference ORT MatMul 512x512x512, {t} thread(s)", reference, "GFLOP/s");
            foreach (var m in new[] { deepclean, bbhnet, wiener, templates })
            {
                var inputName = m.Config.Input[0].Name;
                int channels = (int)m.Config.Input[0].Dims[1];
                foreach (int batch in (int[])[1, 8, 64])
                {
                    double seconds = TimeModel(m.Onnx!.ToByteArray(), inputName, [batch, channels, kernel], t);
                    double inferences = batch / seconds;
                    double gflops = inferences * m.FlopsPerExample / 1e9;
                    report.Figure($"{m.Name} batch {batch}, {t} thread(s)", inferences, "inf/s");
                    report.Figure($"{m.Name} batch {batch}, {t} thread(s) achieved", gflops, "GFLOP/s");
                    report.Figure($"{m.Name} batch {batch}, {t} thread(s) vs MatMul", gflops / reference, "x");
                }
            }
        }
        report.Note("s'/s of one stream = inf/s x stride / fs (stride 8 at 4096 Hz: inf/s / 512; the demo's stride 1024: inf/s / 4)");
        return Task.CompletedTask;
    }

    /// <summary>Best per-run wall time over repeated runs totalling about a second (after a warm-up run).</summary>
    private static double TimeModel(byte[] model, string input, int[] shape, int threads)
    {
        using var options = new SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        using var session = new InferenceSession(model, options);
        int count = shape.Aggregate(1, (a, b) => a * b);
        var rng = new Random(1);
        var data = new float[count];
        for (int i = 0; i < count; i++) data[i] = (float)(rng.NextDouble() * 2 - 1);
        var inputs = new[] { NamedOnnxValue.CreateFromTensor(input, new DenseTensor<float>(data, shape)) };
        using (session.Run(inputs)) { }
        double best = double.MaxValue, total = 0;
        for (int r = 0; r < 50 && (r < 3 || total < 1.0); r++)
        {
            var sw = Stopwatch.StartNew();
            using (session.Run(inputs)) { }
            double s = sw.Elapsed.TotalSeconds;
            best = Math.Min(best, s);
            total += s;
        }
        return best;
    }

    private static double MatMulGflops(int threads)
    {
        const int n = 512;
        var g = new OnnxGraphBuilder("matmul");
        g.Input("a", NetworkBuilder.Float, n, n);
        var b = new float[n * n];
        var rng = new Random(3);
        for (int i = 0; i < b.Length; i++) b[i] = (float)rng.NextDouble();
        g.Initializer("b", b, n, n);
        g.Node("MatMul", ["a", "b"], "c");
        g.Output("c", NetworkBuilder.Float, n, n);
        double seconds = TimeModel(g.Build("reference matmul").ToByteArray(), "a", [n, n], threads);
        return 2.0 * n * n * n / seconds / 1e9;
    }
}
