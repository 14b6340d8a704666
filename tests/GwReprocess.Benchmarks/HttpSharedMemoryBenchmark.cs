using System.Diagnostics;
using System.Globalization;
using System.IO.MemoryMappedFiles;
using System.Net.Http.Headers;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json.Nodes;
using Google.Protobuf;
using GwReprocess.Models;
using GwReprocess.Server.Hosting;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace GwReprocess.Benchmarks;

/// <summary>DeepClean over HTTP/REST (tritonclient.http's two fast paths): binary tensor data vs system shared memory, each vs ONNX Runtime in process on the same batches; HTTP body bytes per request.</summary>
public sealed class HttpSharedMemoryBenchmark : IBenchmark
{
    public string Name => "httpshm";
    public string Description => "DeepClean through HTTP on loopback, binary tensors vs system shared memory, vs ONNX Runtime in process (inf/s, ratio); HTTP body bytes per request";

    // The server benchmark's DeepClean geometry, so that the figures compare with its gRPC ones.
    private const int Fs = 4096, Batch = 16, Witnesses = 21, Requests = 12, Rounds = 5, WarmUpRounds = 2;

    public async Task RunAsync(BenchmarkReport report, CancellationToken cancellationToken)
    {
        var options = new ModelRepositoryOptions { SampleRate = Fs, KernelSeconds = 1, Stride = 8, Batch = Batch, Witnesses = Witnesses };
        int k = options.Kernel, threads = Environment.ProcessorCount;
        int inputFloats = Batch * Witnesses * k, outputFloats = Batch * k;
        int inputBytes = 4 * inputFloats, outputBytes = 4 * outputFloats;
        var models = ModelRepositoryBuilder.Build(options);
        var dir = Path.Combine(Path.GetTempPath(), "gwrepro-bench-httpshm-" + Guid.NewGuid().ToString("N")[..8]);
        await ModelRepository.WriteAsync(dir, models, cancellationToken);
        report.Note($"load average before the run: {File.ReadAllText("/proc/loadavg").Trim()} (best of {Rounds} rounds after {WarmUpRounds} warm-up rounds; the machine's cores are shared)");
        report.Note($"K {k}, B {Batch} windows/request, {Witnesses} witnesses, one request in flight, {threads} ORT intra-op threads on both sides; " +
                    "JSON data is not measured (a 5.5 MB tensor as JSON text is not a path anyone uses)");
        var key = $"/gwrepro-bench-http-{Environment.ProcessId}";
        var path = "/dev/shm" + key;
        var batches = Enumerable.Range(0, Requests).Select(i => Signal(inputFloats, i)).ToList();
        try
        {
            await using var server = await InferenceServer.StartAsync(new ServerOptions
            {
                ModelRepository = dir, GrpcPort = 0, HttpPort = 0, MetricsPort = 0, IntraOpThreads = threads, InterOpThreads = 1,
            }, _ => { }, cancellationToken);
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{server.HttpPort}") };
            using var sessionOptions = new SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1 };
            sessionOptions.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
            using var session = new InferenceSession(models.Single(m => m.Name == "deepclean-h1").Onnx!.ToByteArray(), sessionOptions);
            float[] Local(float[] x)
            {
                using var results = session.Run([NamedOnnxValue.CreateFromTensor("witness", new DenseTensor<float>(x, [Batch, Witnesses, k]))]);
                return results.Single().AsTensor<float>().ToArray();
            }

            // One shm object holding the input and the output region, as tritonclient's create_shared_memory_region + two registrations.
            using (var f = new FileStream(path, FileMode.Create)) f.SetLength(inputBytes + outputBytes);
            using var file = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.ReadWrite);
            using var view = file.CreateViewAccessor(0, inputBytes + outputBytes, MemoryMappedFileAccess.ReadWrite);
            await Check(await http.PostAsync("/v2/systemsharedmemory/region/in/register", Json(new JsonObject { ["key"] = key, ["offset"] = 0, ["byte_size"] = inputBytes }), cancellationToken));
            await Check(await http.PostAsync("/v2/systemsharedmemory/region/out/register", Json(new JsonObject { ["key"] = key, ["offset"] = inputBytes, ["byte_size"] = outputBytes }), cancellationToken));
            var shmBody = Encoding.UTF8.GetBytes($$$"""
                {"inputs":[{"name":"witness","datatype":"FP32","shape":[{{{Batch}}},{{{Witnesses}}},{{{k}}}],"parameters":{"shared_memory_region":"in","shared_memory_byte_size":{{{inputBytes}}}}}],
                 "outputs":[{"name":"noise","parameters":{"shared_memory_region":"out","shared_memory_byte_size":{{{outputBytes}}}}}]}
                """);
            var binaryHeader = Encoding.UTF8.GetBytes($$$"""
                {"inputs":[{"name":"witness","datatype":"FP32","shape":[{{{Batch}}},{{{Witnesses}}},{{{k}}}],"parameters":{"binary_data_size":{{{inputBytes}}}}}],
                 "outputs":[{"name":"noise","parameters":{"binary_data":true}}]}
                """);
            var body = new byte[binaryHeader.Length + inputBytes];
            binaryHeader.CopyTo(body, 0);
            var output = new float[outputFloats];
            long shmUp = 0, shmDown = 0, binUp = 0, binDown = 0;

            async Task<float[]> ViaShm(float[] x)
            {
                view.WriteArray(0, x, 0, inputFloats);
                using var response = await http.PostAsync("/v2/models/deepclean-h1/infer", new ByteArrayContent(shmBody), cancellationToken);
                var answer = await response.Content.ReadAsByteArrayAsync(cancellationToken);
                if (!response.IsSuccessStatusCode) throw new InvalidOperationException(Encoding.UTF8.GetString(answer));
                (shmUp, shmDown) = (shmBody.Length, answer.Length);
                view.ReadArray(inputBytes, output, 0, outputFloats);
                return output;
            }

            async Task<float[]> ViaBinary(float[] x)
            {
                MemoryMarshal.AsBytes(x.AsSpan()).CopyTo(body.AsSpan(binaryHeader.Length));
                var content = new ByteArrayContent(body);
                content.Headers.Add("Inference-Header-Content-Length", binaryHeader.Length.ToString(CultureInfo.InvariantCulture));
                content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
                using var response = await http.PostAsync("/v2/models/deepclean-h1/infer", content, cancellationToken);
                var answer = await response.Content.ReadAsByteArrayAsync(cancellationToken);
                if (!response.IsSuccessStatusCode) throw new InvalidOperationException(Encoding.UTF8.GetString(answer));
                int json = int.Parse(response.Headers.GetValues("Inference-Header-Content-Length").Single(), CultureInfo.InvariantCulture);
                (binUp, binDown) = (body.Length, answer.Length);
                return MemoryMarshal.Cast<byte, float>(answer.AsSpan(json)).ToArray();
            }

            // Both paths must return what ONNX Runtime computes in process (a wrong benchmark is worse than none).
            var reference = Local(batches[0]);
            foreach (var (what, got) in new[] { ("shared memory", (await ViaShm(batches[0])).ToArray()), ("binary", await ViaBinary(batches[0])) })
            {
                double worst = 0;
                for (int i = 0; i < outputFloats; i++) worst = Math.Max(worst, Math.Abs(reference[i] - got[i]));
                if (worst > 1e-4) throw new InvalidOperationException($"HTTP {what} output differs from in process by {worst:G3}");
            }

            double bestLocal = double.MaxValue, bestShm = double.MaxValue, bestBinary = double.MaxValue;
            for (int round = -WarmUpRounds; round < Rounds; round++)
            {
                if (round == 0) bestLocal = bestShm = bestBinary = double.MaxValue;
                var sw = Stopwatch.StartNew();
                foreach (var b in batches) Local(b);
                bestLocal = Math.Min(bestLocal, sw.Elapsed.TotalSeconds);
                sw.Restart();
                foreach (var b in batches) await ViaBinary(b);
                bestBinary = Math.Min(bestBinary, sw.Elapsed.TotalSeconds);
                sw.Restart();
                foreach (var b in batches) await ViaShm(b);
                bestShm = Math.Min(bestShm, sw.Elapsed.TotalSeconds);
            }
            double local = Requests * Batch / bestLocal, binary = Requests * Batch / bestBinary, shm = Requests * Batch / bestShm;
            report.Figure("deepclean in process", local, "inf/s");
            report.Figure("deepclean via HTTP binary tensors", binary, "inf/s");
            report.Figure("deepclean via HTTP binary tensors / in process", binary / local, "x");
            report.Figure("deepclean via HTTP system shared memory", shm, "inf/s");
            report.Figure("deepclean via HTTP system shared memory / in process", shm / local, "x");
            report.Figure("deepclean via HTTP system shared memory / binary tensors", shm / binary, "x");
            report.Figure("HTTP body bytes per request, binary tensors (up + down)", binUp + binDown, "B");
            report.Figure("HTTP body bytes per request, system shared memory (up + down)", shmUp + shmDown, "B");
            await Check(await http.PostAsync("/v2/systemsharedmemory/unregister", null, CancellationToken.None));
        }
        finally
        {
            File.Delete(path);
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }

    private static StringContent Json(JsonNode node) => new(node.ToJsonString(), Encoding.UTF8, "application/json");

    private static async Task Check(HttpResponseMessage response)
    {
        using (response)
            if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    }

    private static float[] Signal(int n, int seed)
    {
        var rng = new Random(seed);
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float)(rng.NextDouble() - 0.5);
        return x;
    }
}
