using GwReprocess.Inference;
using GwReprocess.Models;
using GwReprocess.Workflow;

namespace GwReprocess.Tests.Models;

/// <summary>
/// The committed <c>model-repository/</c> is what <c>gwrepro models build</c> writes for workflows/local-demo.toml, plus the DeepClean
/// cleaners <c>gwrepro-train</c> trained on the first 512 s and the ensemble the demo streams to, which adds their estimates to the Wiener cleaners' (trained on what those leave).
/// </summary>
public sealed class CommittedModelRepositoryTests
{
    private static string Repository => Path.Combine(SourceTree.Root, "model-repository");

    private static WorkflowConfig Demo => WorkflowConfig.Load(Path.Combine(SourceTree.Root, "workflows", "local-demo.toml"));

    [Fact]
    public void PassesTheRepositoryCheckAndTheOnnxChecker()
    {
        Assert.Empty(ModelRepositoryCheck.Check(Repository));
        Assert.Equal(["bbh-templates", "bbhnet", "deepclean-h1", "deepclean-l1", "deepclean-stream", "gwe2e", "gwe2e-deepclean", "gwe2e-deepclean-bbhnet", "noise-sum", "postproc", "snapshotter", "snapshotter-stream", "wiener-h1", "wiener-l1"],
            ModelRepository.ModelNames(Repository));
        var (code, output) = ModelTestSupport.OnnxChecker(Directory.GetFiles(Repository, "model.onnx", SearchOption.AllDirectories));
        Assert.True(code == 0, output);
        long bytes = Directory.GetFiles(Repository, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
        Assert.True(bytes < 4_000_000, $"model-repository/ holds {bytes} bytes");
    }

    [Fact]
    public async Task EveryCleanerWasFittedOnTheDemoWorkflowsWitnessHighpassAndAWorkflowWithoutItIsRefused()
    {
        var demo = Demo;
        Assert.Equal(new GwReprocess.Dsp.WitnessHighpass(0.5, 4), demo.Cleaning.WitnessHighpass);
        foreach (var det in demo.Detectors)
            foreach (var kind in new[] { CleanerKind.Wiener, CleanerKind.DeepClean })
            {
                var config = ModelConfigFile.Read(Path.Combine(Repository, ModelRepositoryBuilder.CleanerName(kind, det.Ifo), "config.pbtxt"));
                Assert.Equal(demo.Cleaning.WitnessHighpass, WienerCleaner.HighpassOf(config));
            }
        var detectors = demo.Detectors.Select(d => (d.Ifo, d.Strain, d.Witnesses, d.Ensemble)).ToList();
        foreach (var ensemble in new[] { "gwe2e", "gwe2e-deepclean", "gwe2e-deepclean-bbhnet" })
        {
            Assert.Null(await GwReprocess.Jobs.RepositoryContracts.MisfitAsync(Repository, ensemble, detectors, demo.Cleaning.WitnessHighpass));
            var why = await GwReprocess.Jobs.RepositoryContracts.MisfitAsync(Repository, ensemble, detectors, null);
            Assert.Equal("model 'wiener-h1' was fitted on witnesses high-passed at 0.5 Hz order 4, the workflow's [cleaning] witness_highpass gives without a high-pass (they must match: refit the models or change the workflow)", why);
        }
    }

    [Fact]
    public void MatchesTheDemoWorkflowsChannelsRateAndBatch()
    {
        var demo = Demo;
        Assert.Equal("model-repository", demo.Inference.ModelRepository);
        var ensemble = ModelConfigFile.Read(Path.Combine(Repository, demo.Inference.Ensemble, "config.pbtxt"));
        int stride = 4096 / demo.Inference.Rate, d = demo.Detectors.Count, cw = demo.Detectors[0].Witnesses.Count;
        Assert.Equal(new long[] { 1, d * cw + d, demo.Inference.Batch * stride }, ensemble.Input.Single().Dims);
        Assert.Equal(new long[] { demo.Inference.Batch, 1 }, ensemble.Output.Single(o => o.Name == "score").Dims);
        foreach (var det in demo.Detectors)
        {
            var cleaner = ModelConfigFile.Read(Path.Combine(Repository, ModelRepositoryBuilder.CleanerName(CleanerKind.Wiener, det.Ifo), "config.pbtxt"));
            var (channels, scaling) = WienerCleaner.FromConfig(cleaner)!.Value;
            Assert.Equal(det.Witnesses.Select(w => w.Value), channels.Select(c => c.Value));
            Assert.All(scaling, s => Assert.True(s.Scale > 0));
            Assert.Equal(new long[] { demo.Inference.Batch, cw, 4096 }, cleaner.Input.Single().Dims);
        }
        // The demo streams to the trained DeepClean beside the Wiener cleaner: gwe2e with each detector's noise output the sum (noise-sum)
        // of wiener-<ifo>'s estimate and deepclean-<ifo> version 1's, trained on what the Wiener leaves, while wiener-<ifo> alone still
        // feeds postproc and the template bank calibrated on its output; both take the client's high-passed, standardised witnesses.
        // It scores with the BBHnet gwrepro-train trained behind the same cleaning and whitening: gwe2e-deepclean with bbhnet version 1
        // in place of the template bank, every other step the same.
        Assert.Equal("gwe2e-deepclean-bbhnet", demo.Inference.Ensemble);
        var banked = ModelConfigFile.Read(Path.Combine(Repository, "gwe2e-deepclean", "config.pbtxt"));
        var scorer = ensemble.EnsembleScheduling.Step.Single(s => s.OutputMap.Values.Contains("score"));
        Assert.Equal(("bbhnet", 1L), (scorer.ModelName, scorer.ModelVersion));
        Assert.Equal(banked.EnsembleScheduling.Step.Where(s => s.ModelName != "bbh-templates").Select(s => s.ToString()),
            ensemble.EnsembleScheduling.Step.Where(s => s.ModelName != "bbhnet").Select(s => s.ToString()));
        var bbhnet = ModelRepository.ReadOnnx(Path.Combine(Repository, "bbhnet", "1", ModelRepository.OnnxFileName)).MetadataProps.ToDictionary(m => m.Key, m => m.Value);
        Assert.Equal(("true", "bbhnet-deepfiltering", "local-demo"), (bbhnet["trained"], bbhnet["architecture"], bbhnet["workflow"]));
        // Trained on background simulated well after the demo's hour: none of the demo's injections.
        Assert.Equal("[1000010000, 1000011792)", bbhnet["training_span"]);
        var linear = ModelConfigFile.Read(Path.Combine(Repository, ModelRepositoryBuilder.EndToEnd, "config.pbtxt"));
        Assert.Equal(linear.EnsembleScheduling.Step.Count + 2 * demo.Detectors.Count, ensemble.EnsembleScheduling.Step.Count);
        foreach (var det in demo.Detectors)
        {
            string name = ModelRepositoryBuilder.CleanerName(CleanerKind.DeepClean, det.Ifo), wiener = ModelRepositoryBuilder.CleanerName(CleanerKind.Wiener, det.Ifo);
            string noise = "noise_" + det.Ifo.ToLowerInvariant();
            var step = ensemble.EnsembleScheduling.Step.Single(s => s.ModelName == name);
            Assert.Equal(1, step.ModelVersion);
            Assert.Equal($"{noise}_{name}", step.OutputMap["noise"]);
            var sum = ensemble.EnsembleScheduling.Step.Single(s => s.ModelName == "noise-sum" && s.OutputMap["noise"] == noise);
            Assert.Equal(($"{noise}_{wiener}", $"{noise}_{name}"), (sum.InputMap["noise_linear"], sum.InputMap["noise_nonlinear"]));
            Assert.Equal($"{noise}_{wiener}", ensemble.EnsembleScheduling.Step.Single(s => s.ModelName == "postproc").InputMap[noise]);
            var trained = ModelConfigFile.Read(Path.Combine(Repository, name, "config.pbtxt"));
            var (channels, scaling) = WienerCleaner.FromConfig(trained)!.Value;
            Assert.Equal(det.Witnesses.Select(w => w.Value), channels.Select(c => c.Value));
            Assert.Equal(WienerCleaner.FromConfig(ModelConfigFile.Read(Path.Combine(Repository, wiener, "config.pbtxt")))!.Value.Scaling, scaling);
            var onnx = ModelRepository.ReadOnnx(Path.Combine(Repository, name, "1", ModelRepository.OnnxFileName));
            var meta = onnx.MetadataProps.ToDictionary(m => m.Key, m => m.Value);
            Assert.Equal("true", meta["trained"]);
            Assert.Equal("[1000000000, 1000000448)", meta["training_span"]);
            Assert.Equal("55-65", meta["bands_hz"]);
        }
        var detector = ModelConfigFile.Read(Path.Combine(Repository, "bbh-templates", "config.pbtxt"));
        Assert.Contains("high-passed at 0.5 Hz order 4", ModelConfigFile.Read(Path.Combine(Repository, "wiener-h1", "config.pbtxt")).Parameters["description"].StringValue);
        Assert.Contains("calibrated: rho0 =", detector.Parameters["description"].StringValue);
        Assert.Contains("whitening FIR from each detector's strain ASD", ModelConfigFile.Read(Path.Combine(Repository, "postproc", "config.pbtxt")).Parameters["description"].StringValue);
    }
}
