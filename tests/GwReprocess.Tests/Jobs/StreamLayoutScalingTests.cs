using GwReprocess.Data;
using GwReprocess.Dsp;
using GwReprocess.Jobs;
using GwReprocess.Models;
using Inference;

namespace GwReprocess.Tests.Jobs;

/// <summary>Where the client finds a detector's witness order and scaling when the ensemble's noise is a sum of a linear and a trained cleaner.</summary>
public sealed class StreamLayoutScalingTests
{
    private static ModelEnsembling.Types.Step Step(string model, (string, string)[] inputs, (string, string)[] outputs)
    {
        var s = new ModelEnsembling.Types.Step { ModelName = model, ModelVersion = -1 };
        foreach (var (k, v) in inputs) s.InputMap.Add(k, v);
        foreach (var (k, v) in outputs) s.OutputMap.Add(k, v);
        return s;
    }

    [Fact]
    public async Task The_scaling_comes_from_the_cleaner_behind_a_noise_sum()
    {
        var witnesses = new[] { new ChannelName("H1:PEM-CS_MAINSMON_EBAY_1_DQ"), new ChannelName("H1:ASC-CHARD_P_INMON") };
        var ensemble = new ModelConfig { Name = "gwe2e-deepclean", Platform = "ensemble", EnsembleScheduling = new ModelEnsembling() };
        ensemble.Input.Add(new ModelInput { Name = "snapshot_update", DataType = DataType.TypeFp32, Dims = { 1, 3, 4096 } });
        ensemble.Output.Add(new ModelOutput { Name = "noise_h1", DataType = DataType.TypeFp32, Dims = { 4, 4096 } });
        ensemble.EnsembleScheduling.Step.Add(Step("snapshotter", [("snapshot_update", "snapshot_update")], [("witness_h1", "witness_h1"), ("strain", "strain")]));
        ensemble.EnsembleScheduling.Step.Add(Step("wiener-h1", [("witness", "witness_h1")], [("noise", "noise_h1_wiener-h1")]));
        ensemble.EnsembleScheduling.Step.Add(Step("deepclean-h1", [("witness", "witness_h1")], [("noise", "noise_h1_deepclean-h1")]));
        ensemble.EnsembleScheduling.Step.Add(Step("noise-sum", [("noise_linear", "noise_h1_wiener-h1"), ("noise_nonlinear", "noise_h1_deepclean-h1")], [("noise", "noise_h1")]));
        var wiener = new ModelConfig { Name = "wiener-h1" };
        wiener.Parameters[WienerCleaner.ChannelsParameter] = new ModelParameter { StringValue = string.Join(',', witnesses.Select(w => w.Value)) };
        wiener.Parameters[WienerCleaner.ScalingParameter] = new ModelParameter { StringValue = "0.5:2,-1:4" };
        Task<ModelConfig> ConfigOf(string name) => Task.FromResult(name == "wiener-h1" ? wiener : new ModelConfig { Name = name });

        var layout = await StreamLayout.FromConfigsAsync(ensemble, ConfigOf, [("H1", new ChannelName("H1:GDS-CALIB_STRAIN"), witnesses, null)]);
        var stream = Assert.Single(layout.Detectors);
        Assert.Equal([new ChannelScaling(0.5, 2), new ChannelScaling(-1, 4)], stream.WitnessScaling);
        Assert.Empty(layout.Notes);

        // A wrong order in the cleaner behind the sum is refused by name, as for a cleaner producing the noise itself.
        wiener.Parameters[WienerCleaner.ChannelsParameter] = new ModelParameter { StringValue = string.Join(',', witnesses.Reverse().Select(w => w.Value)) };
        var e = await Assert.ThrowsAsync<BadInputException>(() => StreamLayout.FromConfigsAsync(ensemble, ConfigOf, [("H1", new ChannelName("H1:GDS-CALIB_STRAIN"), witnesses, null)]));
        Assert.Contains("model 'wiener-h1': witness 0 is H1:ASC-CHARD_P_INMON", e.Message);
    }
}
