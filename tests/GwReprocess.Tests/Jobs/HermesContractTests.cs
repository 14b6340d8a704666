using GwReprocess.Data;
using GwReprocess.Inference;
using GwReprocess.Jobs;
using Inference;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace GwReprocess.Tests.Jobs;

/// <summary>The hermes contract as the client learns it from configs (the committed hermes repository), and the aggregator lag it derives, checked against the aggregator's own graph.</summary>
public sealed class HermesContractTests
{
    private static string Repo => HermesRunFixture.Committed;

    private static Task<ModelConfig> ConfigOf(string dir, string name) => Task.FromResult(ModelConfigFile.Read(Path.Combine(dir, name, ModelConfigFile.FileName)));

    private static List<(string Ifo, ChannelName Strain, IReadOnlyList<ChannelName> Witnesses, string? Ensemble)> Detectors(int witnesses, string? ensemble = null) =>
        [("H1", new ChannelName("H1:GDS-CALIB_STRAIN"), Enumerable.Range(0, witnesses).Select(i => new ChannelName($"H1:W{i}")).ToList(), ensemble)];

    private static Task<StreamLayout> LayoutAsync(ModelConfig ensemble, int witnesses = 8, string dir = "") =>
        StreamLayout.FromConfigsAsync(ensemble, n => ConfigOf(dir.Length > 0 ? dir : Repo, n), Detectors(witnesses));

    private static ModelConfig Ensemble() => ConfigOf(Repo, HermesRunFixture.H1Ensemble).Result;

    [Fact]
    public async Task The_hermes_repository_offers_witnesses_only_updates_and_a_server_average_lagging_by_num_updates_minus_one_strides()
    {
        var layout = await LayoutAsync(Ensemble());
        Assert.Equal(StreamContract.Hermes, layout.Contract);
        Assert.Equal(StreamContract.Hermes, StreamLayout.ContractOf(Ensemble()));
        Assert.Equal((4096, 16, 32, 512), (layout.Kernel, layout.Stride, layout.Batch, layout.UpdateSamples));
        Assert.Null(layout.ScoreOutput);
        var h = Assert.Single(layout.Detectors).Hermes!;
        // aggregator-0.5's state holds (B + num_updates − 1)·stride = (32 + 128 − 1)·16 = 2544 samples.
        Assert.Equal(new HermesStream(HermesRunFixture.H1Ensemble, "snapshot_update", "output_stream", true, 128, 127 * 16), h);
        Assert.All(layout.Detectors[0].WitnessScaling, s => Assert.Equal(GwReprocess.Dsp.ChannelScaling.Identity, s));
    }

    [Fact]
    public void A_native_ensemble_is_recognised_by_its_per_detector_noise_outputs()
    {
        var c = new ModelConfig { Name = "gwe2e", Platform = "ensemble" };
        c.Output.Add(new ModelOutput { Name = "noise_h1" });
        c.Output.Add(new ModelOutput { Name = "score" });
        Assert.Equal(StreamContract.Native, StreamLayout.ContractOf(c));
        Assert.Null(StreamLayout.ContractOf(new ModelConfig { Name = "x" }));
    }

    [Fact]
    public async Task Mismatches_are_named_in_one_line_before_streaming()
    {
        var channels = await Assert.ThrowsAsync<BadInputException>(() => LayoutAsync(Ensemble(), witnesses: 9));
        Assert.Equal("model 'deepclean-stream-0.5': input 'snapshot_update' takes 8 channels; the workflow lists 9 witnesses for H1 (the hermes contract sends witnesses only, strain stays on the client)", channels.Message);

        var missing = Ensemble();
        missing.Output.Clear();
        missing.Output.Add(new ModelOutput { Name = "prediction", DataType = DataType.TypeFp32, Dims = { 1, 512 } });
        var e = await Assert.ThrowsAsync<BadInputException>(() => StreamLayout.FromConfigsAsync(missing, n => ConfigOf(Repo, n), Detectors(8, HermesRunFixture.H1Ensemble)));
        Assert.Equal("model 'deepclean-stream-0.5': no output 'output_stream' [1, 512] or 'noise' [32, 4096] for H1 (outputs: prediction)", e.Message);

        string dir = Directory.CreateTempSubdirectory("gwrepro-hermes-contract-").FullName;
        try
        {
            TestDirectories.Copy(Repo, dir);
            var agg = ModelConfigFile.Read(Path.Combine(dir, "aggregator-0.5", ModelConfigFile.FileName));
            agg.SequenceBatching.State[0].Dims[0] = 2540;
            await ModelConfigFile.WriteAsync(Path.Combine(dir, "aggregator-0.5", ModelConfigFile.FileName), agg);
            var stride = await Assert.ThrowsAsync<BadInputException>(() => LayoutAsync(Ensemble(), dir: dir));
            Assert.Equal("model 'aggregator-0.5': state 'input_online_average' of 2540 samples is not (B + num_updates − 1)·stride for B = 32, stride 16 and num_updates·stride ≤ K = 4096", stride.Message);
            Assert.DoesNotContain('\n', stride.Message);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task An_ensemble_returning_raw_noise_windows_is_averaged_on_the_client()
    {
        var raw = Ensemble();
        raw.Output.Clear();
        raw.Output.Add(new ModelOutput { Name = "noise", DataType = DataType.TypeFp32, Dims = { 32, 4096 } });
        raw.EnsembleScheduling.Step.Remove(raw.EnsembleScheduling.Step.Single(s => s.ModelName == "aggregator-0.5"));
        var layout = await LayoutAsync(raw);
        Assert.Equal(new HermesStream(HermesRunFixture.H1Ensemble, "snapshot_update", "noise", false, 0, 0), layout.Detectors[0].Hermes);
    }

    [Fact]
    public void The_aggregator_graph_returns_each_sample_lag_samples_after_it_was_sent()
    {
        // Every window carries, at each of its samples, that sample's index in the stream (window k of request n ends at
        // n·U + (k+1)·stride), so an average of any windows covering a sample is the sample's own index.
        const int B = 32, K = 4096, S = 16, U = B * S, Lag = 127 * S;
        using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 };
        using var session = new InferenceSession(Path.Combine(Repo, "aggregator-0.5", "1", "model.onnx"), options);
        var state = new float[2544];
        for (int n = 0; n < 12; n++)
        {
            var update = new float[B * K];
            for (int k = 0; k < B; k++)
                for (int t = 0; t < K; t++) update[k * K + t] = n * U + (k + 1) * S - K + t;
            using var results = session.Run([
                NamedOnnxValue.CreateFromTensor("update", new DenseTensor<float>(update, [B, K])),
                NamedOnnxValue.CreateFromTensor("input_online_average", new DenseTensor<float>(state, [2544])),
            ]);
            var output = results.Single(r => r.Name == "output_stream").AsTensor<float>().ToArray();
            state = results.Single(r => r.Name == "output_online_average").AsTensor<float>().ToArray();
            Assert.Equal(U, output.Length);
            // hermes: the first num_updates·stride outputs lack windows from before the stream (under-estimated).
            if (n < 5) continue;
            for (int j = 0; j < U; j++) Assert.Equal(n * U + j - Lag, output[j], 0.05);
        }
    }

    [Fact]
    public async Task Models_check_reports_the_contract_and_which_workflows_fit()
    {
        string dir = Directory.CreateTempSubdirectory("gwrepro-hermes-check-").FullName;
        try
        {
            string repo = Path.Combine(dir, "repo");
            TestDirectories.Copy(Repo, repo);
            await HermesRunFixture.AddCopyAsync(repo, "-l1");
            string fits = Path.Combine(dir, "fits.toml"), seven = Path.Combine(dir, "seven.toml");
            string text = HermesRunFixture.WorkflowText(Path.Combine(dir, "frames"), repo);
            await File.WriteAllTextAsync(fits, text);
            await File.WriteAllTextAsync(seven, text.Replace(", \"H1:ASC-PRC2_P_INMON\"", "", StringComparison.Ordinal));
            var r = await Cli.GwreproProcess.RunAsync("models", "check", repo, "--workflow", fits);
            Assert.True(r.ExitCode == 0, r.StdErr);
            Assert.Contains("ensemble 'deepclean-stream-0.5': hermes contract: one detector per sequence, 'snapshot_update' [1, 8, 512] of witnesses only (K = 4096, stride 16, B = 32); 'output_stream' [1, 512] averaged on the server over 128 windows (lags the input by 2032 samples)", r.StdOut);
            Assert.Contains($"{fits} fits (H1 → 'deepclean-stream-0.5', L1 → 'deepclean-stream-0.5-l1')", r.StdOut);
            r = await Cli.GwreproProcess.RunAsync("models", "check", repo, "--workflow", seven);
            Assert.Equal(2, r.ExitCode);
            Assert.Contains($"gwrepro models check: {seven} does not fit (H1 → 'deepclean-stream-0.5', L1 → 'deepclean-stream-0.5-l1'): model 'deepclean-stream-0.5': input 'snapshot_update' takes 8 channels; the workflow lists 7 witnesses for H1", r.StdErr);
        }
        finally { Directory.Delete(dir, true); }
    }
}
