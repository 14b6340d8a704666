using System.Diagnostics;
using System.Runtime.InteropServices;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using GwReprocess.Inference;
using GwReprocess.Models;
using GwReprocess.Server.Hosting;
using GwReprocess.Server.Repository;
using Inference;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace GwReprocess.Benchmarks;

/// <summary>gwrepro serve on loopback vs ONNX Runtime in process on the same batches: DeepClean (unary) and gwe2e (stream) inferences/s; bytes on the wire per second of data, streaming updates vs full windows.</summary>
public sealed class ServerBenchmark : IBenchmark
{
    public string Name => "server";
    public string Description => "DeepClean and gwe2e through gRPC on loopback vs ONNX Runtime in process (inf/s, ratio); wire bytes per s of data, stream vs full windows";

    private const int Fs = 4096, Stride = 8, Batch = 16, Witnesses = 21, Requests = 12, Rounds = 5;

    public async Task RunAsync(BenchmarkReport report, CancellationToken cancellationToken)
    {
        var options = new ModelRepositoryOptions { SampleRate = Fs, KernelSeconds = 1, Stride = Stride, Batch = Batch, Witnesses = Witnesses };
        int k = options.Kernel, threads = Environment.ProcessorCount;
        var models = ModelRepositoryBuilder.Build(options);
        var dir = Path.Combine(Path.GetTempPath(), "gwrepro-bench-server-" + Guid.NewGuid().ToString("N")[..8]);
        await ModelRepository.WriteAsync(dir, models, cancellationToken);
        report.Note($"load average before the run: {File.ReadAllText("/proc/loadavg").Trim()} (best of {Rounds} rounds per figure; the machine's cores are shared)");
        report.Note($"K {k}, stride {Stride}, B {Batch} windows/request, {Witnesses} witnesses/detector, {threads} ORT intra-op threads on both sides, {Environment.ProcessorCount} logical CPUs");
        try
        {
            await using var server = await InferenceServer.StartAsync(new ServerOptions
            {
                ModelRepository = dir, GrpcPort = 0, HttpPort = 0, MetricsPort = 0, IntraOpThreads = threads, InterOpThreads = 1,
            }, _ => { }, cancellationToken);
            using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{server.GrpcPort}", new GrpcChannelOptions { MaxReceiveMessageSize = null, MaxSendMessageSize = null });
            var client = new GRPCInferenceService.GRPCInferenceServiceClient(channel);
            Session Open(string name) => new(models.Single(m => m.Name == name), threads);

            // DeepClean: the same witness batches, unary gRPC vs session.Run, with all cores to ORT and with one (leaving one to the transport).
            using (var deepclean = Open("deepclean-h1"))
                await DeepCleanAsync(report, client, deepclean, k, $"{threads} thread(s)", cancellationToken);
            if (threads > 1)
            {
                await using var single = await InferenceServer.StartAsync(new ServerOptions
                {
                    ModelRepository = dir, GrpcPort = 0, HttpPort = 0, MetricsPort = 0, IntraOpThreads = 1, InterOpThreads = 1, ModelControl = ModelControlMode.Explicit,
                }, _ => { }, cancellationToken);
                await single.Core.Models.LoadAsync("deepclean-h1", cancellationToken);
                using var channel1 = GrpcChannel.ForAddress($"http://127.0.0.1:{single.GrpcPort}", new GrpcChannelOptions { MaxReceiveMessageSize = null, MaxSendMessageSize = null });
                using var deepclean1 = new Session(models.Single(m => m.Name == "deepclean-h1"), 1);
                await DeepCleanAsync(report, new GRPCInferenceService.GRPCInferenceServiceClient(channel1), deepclean1, k, "1 thread", cancellationToken);
            }

            // gwe2e: a stream of updates vs snapshotter -> cleaners -> postproc -> bbhnet in process with the state carried.
            int channels = 2 * Witnesses + 2, update = Batch * Stride;
            var updates = Enumerable.Range(0, Requests).Select(i => Signal(channels * update, 100 + i)).ToList();
            var streamRequests = Enumerable.Range(0, Rounds).Select(round => updates.Select((u, i) =>
                Sequence(Raw(ModelRepositoryBuilder.EndToEnd, "snapshot_update", u, [1, channels, update]), 1000 + round, i == 0, i == updates.Count - 1)).ToList()).ToList();
            using (var snap = Open("snapshotter"))
            using (var h1 = Open("deepclean-h1"))
            using (var l1 = Open("deepclean-l1"))
            using (var post = Open("postproc"))
            using (var bbh = Open("bbhnet"))
            {
                double bestLocal = double.MaxValue, bestServer = double.MaxValue;
                long streamBytes = 0, responseBytes = 0;
                for (int round = 0; round < Rounds; round++)
                {
                    var sw = Stopwatch.StartNew();
                    var state = new float[channels * k];
                    foreach (var u in updates)
                    {
                        var s = snap.Run(("snapshot_update", u, [1, channels, update]), ("input_snapshot", state, [1, channels, k]));
                        state = s["output_snapshot"];
                        var nh = h1.Run(("witness", s["witness_h1"], [Batch, Witnesses, k]))["noise"];
                        var nl = l1.Run(("witness", s["witness_l1"], [Batch, Witnesses, k]))["noise"];
                        var w = post.Run(("strain", s["strain"], [Batch, 2, k]), ("noise_h1", nh, [Batch, k]), ("noise_l1", nl, [Batch, k]))["whitened"];
                        bbh.Run(("strain", w, [Batch, 2, k]));
                    }
                    bestLocal = Math.Min(bestLocal, sw.Elapsed.TotalSeconds);

                    sw.Restart();
                    using var call = client.StreamInfer(cancellationToken);
                    var reader = Task.Run(async () =>
                    {
                        long bytes = 0;
                        int count = 0;
                        await foreach (var r in call.ResponseStream.ReadAllAsync(cancellationToken))
                        {
                            if (r.ErrorMessage.Length > 0) throw new InvalidOperationException(r.ErrorMessage);
                            if (r.InferResponse.Outputs.Count != 3) throw new InvalidOperationException("gwe2e answered without its three outputs");
                            bytes += r.CalculateSize() + 5;
                            count++;
                        }
                        if (count != Requests) throw new InvalidOperationException($"{count} responses for {Requests} requests");
                        return bytes;
                    }, cancellationToken);
                    long sent = 0;
                    for (int i = 0; i < updates.Count; i++)
                    {
                        var req = streamRequests[round][i];
                        sent += req.CalculateSize() + 5;
                        await call.RequestStream.WriteAsync(req, cancellationToken);
                    }
                    await call.RequestStream.CompleteAsync();
                    responseBytes = await reader;
                    bestServer = Math.Min(bestServer, sw.Elapsed.TotalSeconds);
                    streamBytes = sent;
                }
                double local = Requests * Batch / bestLocal, remote = Requests * Batch / bestServer;
                report.Figure("gwe2e in process (5 models, state carried)", local, "inf/s");
                report.Figure("gwe2e via gRPC stream (loopback)", remote, "inf/s");
                report.Figure("gwe2e gRPC / in process", remote / local, "x");

                // Wire: the stream carries B·stride new samples per channel per request; without the snapshotter a client sends B full windows.
                double dataSeconds = Requests * (double)update / Fs;
                var full = Raw(ModelRepositoryBuilder.EndToEnd, "snapshot_update", new float[Batch * channels * k], [Batch, channels, k]);
                double fullPerSecond = (full.CalculateSize() + 5) * Requests / dataSeconds;
                report.Figure("stream request bytes per s of data", streamBytes / dataSeconds, "B/s");
                report.Figure("full-window request bytes per s of data", fullPerSecond, "B/s");
                report.Figure("full windows / stream (request side)", fullPerSecond / (streamBytes / dataSeconds), "x");
                report.Figure("gwe2e response bytes per s of data (noise windows + scores)", responseBytes / dataSeconds, "B/s");
                // The same comparison for 2 s kernels (K = 8192), from the serialized sizes of the two kinds of request.
                var update2 = Raw(ModelRepositoryBuilder.EndToEnd, "snapshot_update", new float[channels * update], [1, channels, update]);
                var full2 = Raw(ModelRepositoryBuilder.EndToEnd, "snapshot_update", new float[Batch * channels * 2 * k], [Batch, channels, 2 * k]);
                report.Figure("full windows / stream (request side) with 2 s kernels, from message sizes", (full2.CalculateSize() + 5.0) / (Sequence(update2, 1, false, false).CalculateSize() + 5.0), "x");
                report.Note($"request-side reduction is K/stride = {k}/{Stride} = {k / Stride} for this geometry; it reaches 1000x from K/stride >= 1000 (e.g. 2 s kernels at stride 8)");
            }
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    private static async Task DeepCleanAsync(BenchmarkReport report, GRPCInferenceService.GRPCInferenceServiceClient client, Session deepclean, int k, string label, CancellationToken cancellationToken)
    {
            // Both sides get their inputs ready-made: tensors over the arrays in process, serialized-ready requests for gRPC.
            var batches = Enumerable.Range(0, Requests).Select(i => Signal(Batch * Witnesses * k, i)).ToList();
            var requests = batches.Select(b => Raw("deepclean-h1", "witness", b, [Batch, Witnesses, k])).ToList();
            double bestLocal = double.MaxValue, bestServer = double.MaxValue, bestPipelined = double.MaxValue, bestServerCompute = double.MaxValue;
            for (int round = 0; round < Rounds; round++)
            {
                var sw = Stopwatch.StartNew();
                foreach (var b in batches) deepclean.Run(("witness", b, [Batch, Witnesses, k]));
                bestLocal = Math.Min(bestLocal, sw.Elapsed.TotalSeconds);
                sw.Restart();
                var before = await InferStatsAsync(client, cancellationToken);
                foreach (var r in requests) await client.ModelInferAsync(r, cancellationToken: cancellationToken);
                var after = await InferStatsAsync(client, cancellationToken);
                bestServerCompute = Math.Min(bestServerCompute, (after.ComputeInfer.Ns - before.ComputeInfer.Ns) / (double)Requests / 1e6);
                bestServer = Math.Min(bestServer, sw.Elapsed.TotalSeconds);
                // Two requests in flight (as perf_analyzer --concurrency-range 2): the next upload overlaps the current run.
                sw.Restart();
                var lanes = Enumerable.Range(0, 2).Select(async lane =>
                {
                    for (int i = lane; i < requests.Count; i += 2) await client.ModelInferAsync(requests[i], cancellationToken: cancellationToken);
                });
                await Task.WhenAll(lanes);
                bestPipelined = Math.Min(bestPipelined, sw.Elapsed.TotalSeconds);
            }
            double local = Requests * Batch / bestLocal, remote = Requests * Batch / bestServer, pipelined = Requests * Batch / bestPipelined;
            report.Figure($"deepclean {label}: in process", local, "inf/s");
            report.Figure($"deepclean {label}: via gRPC (unary, 1 in flight, loopback)", remote, "inf/s");
            report.Figure($"deepclean {label}: gRPC 1 in flight / in process", remote / local, "x");
            report.Figure($"deepclean {label}: via gRPC (unary, 2 in flight, loopback)", pipelined, "inf/s");
            report.Figure($"deepclean {label}: gRPC 2 in flight / in process", pipelined / local, "x");
            // Where the server's time goes (all rounds, both modes): per request, from its statistics.
            report.Figure($"deepclean {label}: server-side ORT run per request, 1 in flight (best round)", bestServerCompute, "ms");
            var st = await InferStatsAsync(client, cancellationToken);
            double n = st.Success.Count;
            report.Figure($"deepclean {label}: server-side request time per request (all rounds)", st.Success.Ns / n / 1e6, "ms");
            report.Figure($"deepclean {label}: server-side queue per request", st.Queue.Ns / n / 1e6, "ms");
            report.Figure($"deepclean {label}: server-side compute (input+infer+output) per request", (st.ComputeInput.Ns + st.ComputeInfer.Ns + st.ComputeOutput.Ns) / n / 1e6, "ms");
            report.Figure($"deepclean {label}: in-process run per request", bestLocal / Requests * 1e3, "ms");
    }

    private static async Task<InferStatistics> InferStatsAsync(GRPCInferenceService.GRPCInferenceServiceClient client, CancellationToken ct) =>
        (await client.ModelStatisticsAsync(new ModelStatisticsRequest { Name = "deepclean-h1" }, cancellationToken: ct)).ModelStats.Single().InferenceStats;

    private static ModelInferRequest Raw(string model, string input, float[] data, long[] shape) => InferRequests.Fp32(model, input, data, shape);

    private static ModelInferRequest Sequence(ModelInferRequest r, long id, bool start, bool end) => InferRequests.InSequence(r, checked((ulong)id), start, end);

    private static float[] Signal(int n, int seed)
    {
        var rng = new Random(seed);
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float)(rng.NextDouble() - 0.5);
        return x;
    }

    /// <summary>An in-process ONNX Runtime session with the server's settings (same threads, no spinning).</summary>
    private sealed class Session : IDisposable
    {
        private readonly SessionOptions _options;
        private readonly InferenceSession _session;

        public Session(RepositoryModel model, int threads)
        {
            _options = new SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1 };
            _options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
            _session = new InferenceSession(model.Onnx!.ToByteArray(), _options);
        }

        public Dictionary<string, float[]> Run(params (string Name, float[] Data, int[] Shape)[] inputs)
        {
            var values = inputs.Select(i => NamedOnnxValue.CreateFromTensor(i.Name, new DenseTensor<float>(i.Data, i.Shape))).ToList();
            using var results = _session.Run(values);
            return results.ToDictionary(r => r.Name, r => r.AsTensor<float>().ToArray());
        }

        public void Dispose()
        {
            _session.Dispose();
            _options.Dispose();
        }
    }
}

internal static class StreamClientExtensions
{
    public static AsyncDuplexStreamingCall<ModelInferRequest, ModelStreamInferResponse> StreamInfer(this GRPCInferenceService.GRPCInferenceServiceClient client, CancellationToken ct) =>
        client.ModelStreamInfer(cancellationToken: ct);
}
