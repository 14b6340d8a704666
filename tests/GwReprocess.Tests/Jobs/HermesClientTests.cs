using GwReprocess.Data;
using GwReprocess.Dsp;
using GwReprocess.Frames;
using GwReprocess.Jobs;
using GwReprocess.Tests.Cli;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit.Abstractions;

namespace GwReprocess.Tests.Jobs;

/// <summary>Issue 17's acceptance: gwrepro client streaming to the hermes DeepClean repository on gwrepro serve, one ensemble and sequence per detector.</summary>
[Collection(HermesRunCollection.Name)]
public sealed class HermesClientTests(HermesRunFixture run, ITestOutputHelper log)
{
    private const int U = 512, K = 4096, Lag = 127 * 16, Margin = 4096;

    private static Task<(string Out, GwreproProcess.Result Result)>? _reference;

    private Task<(string Out, GwreproProcess.Result Result)> ReferenceRunAsync()
    {
        lock (typeof(HermesClientTests)) return _reference ??= RunAsync("reference");
    }

    private async Task<(string Out, GwreproProcess.Result Result)> RunAsync(string name)
    {
        var workflow = await run.WorkflowAsync(name);
        var r = await GwreproProcess.RunAsync(HermesRunFixture.ClientArguments(workflow, run.ServerAddress), timeout: TimeSpan.FromMinutes(4));
        return (Path.Combine(Path.GetDirectoryName(workflow)!, "out"), r);
    }

    [Fact]
    public async Task Two_detectors_on_their_own_ensembles_match_the_three_models_run_in_process()
    {
        var (outDir, r) = await ReferenceRunAsync();
        Assert.True(r.ExitCode == 0, r.StdErr);
        Assert.Equal(4, r.StdErr.Split('\n').Count(l => l.Contains("committed frame", StringComparison.Ordinal)));
        // 120 updates per detector (the padded 16 s less the settling second, 512 samples each), each [1, 8, 512] float32 on its own sequence.
        var metrics = JobMetricsCsv.Read(Path.Combine(outDir, "metrics", "job.csv"));
        Assert.Equal(8, metrics.Sum(m => m.DataSeconds), 6);
        Assert.Equal(240, metrics.Sum(m => m.RequestsSent));
        Assert.Equal(240, metrics.Sum(m => m.Responses));
        Assert.InRange(metrics.Sum(m => m.BytesSent), 240L * 8 * 512 * 4, 240L * 8 * 512 * 4 * 101 / 100);
        Assert.True(metrics.Sum(m => m.BytesReceived) >= 240L * 512 * 4);
        foreach (var ifo in new[] { "H1", "L1" })
        {
            var files = Directory.EnumerateFiles(Path.Combine(outDir, "cleaned", ifo), "*.gwf").Order(StringComparer.Ordinal).ToList();
            Assert.Equal(4, files.Count);
            var cleaned = (await (await FrameSource.FromFilesAsync(files)).ReadAsync([$"{ifo}:GDS-CALIB_STRAIN_DEEPCLEAN"], HermesRunFixture.Core)).Channels[0];
            var (strain, noise) = await InProcessAsync(ifo);
            var band = Butterworth.Bandpass(8, 55, 65, 4096);
            double worst = 0, peak = 0;
            int a0 = (int)(HermesRunFixture.Core.Start - HermesRunFixture.Padded.Start).TotalSeconds * 4096;
            foreach (var frameStart in new[] { 0, 2 * 4096, 4 * 4096, 6 * 4096 })
            {
                // The client band-passes each frame's noise with a margin on both sides, and so does the reference.
                int a = a0 + frameStart, n = 2 * 4096;
                var filtered = SosFilter.FilterZeroPhase(band, noise.AsSpan(a - Margin, n + 2 * Margin));
                for (int i = 0; i < n; i++)
                {
                    double expected = strain[a + i] - filtered[Margin + i];
                    worst = Math.Max(worst, Math.Abs(cleaned.Samples.Span[frameStart + i] - expected));
                    peak = Math.Max(peak, Math.Abs(expected));
                }
            }
            log.WriteLine($"{ifo}: max |cleaned − reference| = {worst:G3}, peak {peak:G3}, relative {worst / peak:G3}");
            Assert.True(worst <= 1e-6 * peak, $"{ifo}: cleaned differs from the in-process reference by {worst:G3} (peak {peak:G3})");
        }
    }

    [Fact]
    public async Task A_server_restart_mid_run_gives_byte_identical_frames()
    {
        var (referenceOut, reference) = await ReferenceRunAsync();
        Assert.True(reference.ExitCode == 0, reference.StdErr);
        var workflow = await run.WorkflowAsync("restart", cleaning: "retries = 8");
        await using var client = GwreproBackground.Start("client", HermesRunFixture.ClientArguments(workflow, run.ServerAddress), run.Root);
        await client.WaitForLineAsync("committed frame", TimeSpan.FromMinutes(2));
        await run.Server.KillAsync();
        await run.Server.DisposeAsync();
        run.Server = await run.StartServerAsync("server-again");
        int exit = await client.WaitForExitAsync(TimeSpan.FromMinutes(3));
        Assert.True(exit == 0, client.StdErr);
        Assert.Contains("retry 1 of 8", client.StdErr);
        // Four 2 s frames, the kill after the first commit: a loaded machine may commit another before the kill lands, never all.
        Assert.Matches("from frame [23] of 4", client.StdErr);
        string outDir = Path.Combine(Path.GetDirectoryName(workflow)!, "out");
        foreach (var ifo in new[] { "H1", "L1" })
        {
            var expected = ClientRunDirectory.Files(referenceOut, $"cleaned/{ifo}");
            var actual = ClientRunDirectory.Files(outDir, $"cleaned/{ifo}");
            Assert.Equal(expected.Keys, actual.Keys);
            foreach (var (f, bytes) in expected) Assert.True(bytes.AsSpan().SequenceEqual(actual[f]), $"{f} differs");
        }
    }

    [Fact]
    public async Task Raw_windows_averaged_on_the_client_over_the_aggregators_span_clean_as_the_server_average_does()
    {
        var (referenceOut, reference) = await ReferenceRunAsync();
        Assert.True(reference.ExitCode == 0, reference.StdErr);
        // Both detectors on one ensemble without aggregator: the snapshotter's two instances hold both sequences. A causal
        // latency of num_updates·stride = 0.5 s takes exactly the windows hermes's aggregator averages.
        var workflow = await run.WorkflowAsync("raw", cleaning: "causal_latency = 0.5");
        File.WriteAllText(workflow, File.ReadAllText(workflow).Replace(HermesRunFixture.L1Ensemble, HermesRunFixture.RawEnsemble, StringComparison.Ordinal)
            .Replace($"\"{HermesRunFixture.H1Ensemble}\"", $"\"{HermesRunFixture.RawEnsemble}\"", StringComparison.Ordinal));
        var r = await GwreproProcess.RunAsync(HermesRunFixture.ClientArguments(workflow, run.ServerAddress), timeout: TimeSpan.FromMinutes(4));
        Assert.True(r.ExitCode == 0, r.StdErr);
        Assert.Contains("H1 and L1 stream to the same ensemble 'deepclean-raw'", r.StdErr);
        string outDir = Path.Combine(Path.GetDirectoryName(workflow)!, "out");
        foreach (var ifo in new[] { "H1", "L1" })
        {
            string channel = $"{ifo}:GDS-CALIB_STRAIN_DEEPCLEAN";
            async Task<double[]> Read(string root) => (await (await FrameSource.FromFilesAsync(Directory.EnumerateFiles(Path.Combine(root, "cleaned", ifo), "*.gwf")))
                .ReadAsync([channel], HermesRunFixture.Core)).Channels[0].Samples.ToArray();
            var server = await Read(referenceOut);
            var client = await Read(outDir);
            double worst = 0, peak = 0;
            for (int i = 0; i < server.Length; i++)
            {
                worst = Math.Max(worst, Math.Abs(server[i] - client[i]));
                peak = Math.Max(peak, Math.Abs(server[i]));
            }
            log.WriteLine($"{ifo}: client-side vs server-side average: max difference {worst:G3}, peak {peak:G3}, relative {worst / peak:G3}");
            Assert.True(worst <= 1e-5 * peak, $"{ifo}: client-side average differs from the server's by {worst:G3} (peak {peak:G3})");
        }
    }

    [Fact]
    public async Task A_witness_count_the_ensemble_does_not_take_is_refused_before_streaming()
    {
        var workflow = await run.WorkflowAsync("seven");
        File.WriteAllText(workflow, File.ReadAllText(workflow).Replace(", \"L1:ASC-PRC2_P_INMON\"", "", StringComparison.Ordinal));
        var r = await GwreproProcess.RunAsync(HermesRunFixture.ClientArguments(workflow, run.ServerAddress), timeout: TimeSpan.FromMinutes(2));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("model 'deepclean-stream-0.5-l1': input 'snapshot_update' takes 8 channels; the workflow lists 7 witnesses for L1", r.StdErr);
        Assert.False(Directory.Exists(Path.Combine(Path.GetDirectoryName(workflow)!, "out", "cleaned")));
    }

    /// <summary>
    /// The detector's strain at 4096 Hz over the padded span and its noise by stream sample: the snapshotter, network and aggregator
    /// run in process on the witnesses, each stateful model fed its previous state output (zeros first), as Triton carries implicit state;
    /// the aggregator's output placed <see cref="Lag"/> samples earlier.
    /// </summary>
    private async Task<(double[] Strain, double[] Noise)> InProcessAsync(string ifo)
    {
        var source = new FrameSource(FrameCache.Read(Path.Combine(run.Frames, $"{ifo}.lcf")));
        var channels = new List<string> { $"{ifo}:GDS-CALIB_STRAIN" };
        channels.AddRange(HermesRunFixture.WitnessNames.Select(w => $"{ifo}:{w}"));
        var data = await source.ReadAsync(channels, HermesRunFixture.Padded);
        var at4096 = TimeSeriesSignal.ResampleAll(data.Channels, SampleRate.Processing);
        int c = HermesRunFixture.Witnesses;
        int updates = (16 * 4096 - 4096) / U;
        using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 };
        string Model(string name) => Path.Combine(HermesRunFixture.Committed, name, "1", "model.onnx");
        using var snapshotter = new InferenceSession(Model("snapshotter"), options);
        using var network = new InferenceSession(Model("deepclean"), options);
        using var aggregator = new InferenceSession(Model("aggregator-0.5"), options);
        var snapshot = new float[c * K];
        var average = new float[2544];
        var noise = new double[updates * U - Lag];
        var update = new float[c * U];
        for (int n = 0; n < updates; n++)
        {
            for (int ch = 0; ch < c; ch++)
            {
                var w = at4096[1 + ch].Samples.Span.Slice(n * U, U);
                for (int j = 0; j < U; j++) update[ch * U + j] = (float)w[j];
            }
            float[] windows, predicted, output;
            using (var s = snapshotter.Run([
                       NamedOnnxValue.CreateFromTensor("snapshot_update", new DenseTensor<float>(update, [1, c, U])),
                       NamedOnnxValue.CreateFromTensor("input_snapshot", new DenseTensor<float>(snapshot, [1, c, K]))]))
            {
                windows = s.Single(x => x.Name == "deepclean.witness_snapshot").AsTensor<float>().ToArray();
                snapshot = s.Single(x => x.Name == "output_snapshot").AsTensor<float>().ToArray();
            }
            using (var d = network.Run([NamedOnnxValue.CreateFromTensor("witness", new DenseTensor<float>(windows, [32, c, K]))]))
                predicted = d.Single(x => x.Name == "noise").AsTensor<float>().ToArray();
            using (var a = aggregator.Run([
                       NamedOnnxValue.CreateFromTensor("update", new DenseTensor<float>(predicted, [32, K])),
                       NamedOnnxValue.CreateFromTensor("input_online_average", new DenseTensor<float>(average, [2544]))]))
            {
                output = a.Single(x => x.Name == "output_stream").AsTensor<float>().ToArray();
                average = a.Single(x => x.Name == "output_online_average").AsTensor<float>().ToArray();
            }
            for (int j = 0; j < U; j++)
                if (n * U + j - Lag >= 0) noise[n * U + j - Lag] = output[j];
        }
        return (at4096[0].Samples.ToArray(), noise);
    }
}
