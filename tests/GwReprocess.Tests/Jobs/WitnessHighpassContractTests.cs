using GwReprocess.Data;
using GwReprocess.Dsp;
using GwReprocess.Jobs;
using GwReprocess.Models;
using GwReprocess.Tests.Cli;
using Inference;

namespace GwReprocess.Tests.Jobs;

/// <summary>The witness high-pass the models were fitted with against the workflow's: the layout finds every cleaner's, the client refuses a difference.</summary>
[Collection(SmallWienerRunCollection.Name)]
public sealed class WitnessHighpassContractTests(SmallWienerRunFixture run)
{
    private static readonly ChannelName[] Witnesses = [new("H1:PEM-CS_MAINSMON_EBAY_1_DQ"), new("H1:ASC-CHARD_P_INMON")];

    private static ModelEnsembling.Types.Step Step(string model, (string, string)[] inputs, (string, string)[] outputs)
    {
        var s = new ModelEnsembling.Types.Step { ModelName = model, ModelVersion = -1 };
        foreach (var (k, v) in inputs) s.InputMap.Add(k, v);
        foreach (var (k, v) in outputs) s.OutputMap.Add(k, v);
        return s;
    }

    /// <summary>gwe2e-deepclean's shape: the noise from deepclean-h1, while wiener-h1 (same witnesses) feeds postproc.</summary>
    private static (ModelConfig Ensemble, ModelConfig Wiener, ModelConfig Trained) Repository(WitnessHighpass? wiener, WitnessHighpass? trained)
    {
        var ensemble = new ModelConfig { Name = "gwe2e-deepclean", Platform = "ensemble", EnsembleScheduling = new ModelEnsembling() };
        ensemble.Input.Add(new ModelInput { Name = "snapshot_update", DataType = DataType.TypeFp32, Dims = { 1, 3, 4096 } });
        ensemble.Output.Add(new ModelOutput { Name = "noise_h1", DataType = DataType.TypeFp32, Dims = { 4, 4096 } });
        ensemble.EnsembleScheduling.Step.Add(Step("snapshotter", [("snapshot_update", "snapshot_update")], [("witness_h1", "witness_h1"), ("strain", "strain")]));
        ensemble.EnsembleScheduling.Step.Add(Step("wiener-h1", [("witness", "witness_h1")], [("noise", "noise_h1_wiener-h1")]));
        ensemble.EnsembleScheduling.Step.Add(Step("deepclean-h1", [("witness", "witness_h1")], [("noise", "noise_h1")]));
        ensemble.EnsembleScheduling.Step.Add(Step("postproc", [("strain", "strain"), ("noise_h1", "noise_h1_wiener-h1")], [("whitened", "whitened")]));
        ModelConfig Cleaner(string name, WitnessHighpass? hp)
        {
            var c = new ModelConfig { Name = name };
            c.Parameters[WienerCleaner.ChannelsParameter] = new ModelParameter { StringValue = string.Join(',', Witnesses.Select(w => w.Value)) };
            c.Parameters[WienerCleaner.ScalingParameter] = new ModelParameter { StringValue = "0:2,0:4" };
            WienerCleaner.AnnotateHighpass(c, hp);
            return c;
        }
        return (ensemble, Cleaner("wiener-h1", wiener), Cleaner("deepclean-h1", trained));
    }

    private static Task<StreamLayout> LayoutAsync((ModelConfig Ensemble, ModelConfig Wiener, ModelConfig Trained) r) =>
        StreamLayout.FromConfigsAsync(r.Ensemble, name => Task.FromResult(name == "wiener-h1" ? r.Wiener : name == "deepclean-h1" ? r.Trained : new ModelConfig { Name = name }),
            [("H1", new ChannelName("H1:GDS-CALIB_STRAIN"), Witnesses, null)]);

    [Fact]
    public async Task Every_cleaner_of_the_ensemble_is_checked_against_the_workflows_highpass()
    {
        var hp = new WitnessHighpass(1.0);
        var layout = await LayoutAsync(Repository(hp, hp));
        Assert.Equal([("wiener-h1", hp), ("deepclean-h1", hp)], layout.FittedHighpass);
        Assert.Null(layout.HighpassMismatch(new WitnessHighpass(1.0, 4)));
        Assert.Equal("model 'wiener-h1' was fitted on witnesses high-passed at 1 Hz order 4, the workflow's [cleaning] witness_highpass gives without a high-pass (they must match: refit the models or change the workflow)",
            layout.HighpassMismatch(null));
        Assert.Contains("the workflow's [cleaning] witness_highpass gives high-passed at 0.75 Hz order 4", layout.HighpassMismatch(new WitnessHighpass(0.75)));
        Assert.Contains("high-passed at 1 Hz order 2", layout.HighpassMismatch(new WitnessHighpass(1.0, 2)));

        // A trained cleaner whose high-pass differs from the Wiener's beside it is caught even though the Wiener agrees.
        var mixed = await LayoutAsync(Repository(hp, null));
        Assert.StartsWith("model 'deepclean-h1' was fitted on witnesses without a high-pass", mixed.HighpassMismatch(hp));

        // Models recording no witnesses say nothing about a high-pass: nothing to refuse.
        var bare = await StreamLayout.FromConfigsAsync(Repository(null, null).Ensemble, name => Task.FromResult(new ModelConfig { Name = name }),
            [("H1", new ChannelName("H1:GDS-CALIB_STRAIN"), Witnesses, null)]);
        Assert.Empty(bare.FittedHighpass);
        Assert.Null(bare.HighpassMismatch(hp));
    }

    [Fact]
    public async Task An_unreadable_recorded_highpass_is_bad_input_naming_the_model()
    {
        var r = Repository(null, null);
        r.Trained.Parameters[WienerCleaner.HighpassParameter] = new ModelParameter { StringValue = "1Hz" };
        var e = await Assert.ThrowsAsync<BadInputException>(() => LayoutAsync(r));
        Assert.Equal("deepclean-h1: parameter witness_highpass '1Hz' is not '<cutoff> Hz order <n>'", e.Message);
    }

    [Fact]
    public async Task The_client_refuses_a_workflow_whose_highpass_the_models_were_not_fitted_with()
    {
        // The fixture's Wiener cleaners were fitted without a high-pass (their configs record none): exit 2, one line, nothing cleaned.
        string workflow = await run.WorkflowAsync("highpass-mismatch", cleaning: "witness_highpass = 1.0");
        var result = await GwreproProcess.RunAsync(SmallWienerRunFixture.ClientArguments(workflow, run.ServerAddress), timeout: TimeSpan.FromMinutes(3));
        Assert.Equal(2, result.ExitCode);
        var lines = result.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var line = Assert.Single(lines, l => l.Contains("witness_highpass", StringComparison.Ordinal));
        Assert.Contains("model 'wiener-h1' was fitted on witnesses without a high-pass, the workflow's [cleaning] witness_highpass gives high-passed at 1 Hz order 4", line);
        Assert.False(Directory.Exists(Path.Combine(Path.GetDirectoryName(workflow)!, "out", "cleaned")));
    }
}
