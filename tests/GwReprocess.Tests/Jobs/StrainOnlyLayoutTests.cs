using GwReprocess.Data;
using GwReprocess.Dsp;
using GwReprocess.Inference;
using GwReprocess.Jobs;

namespace GwReprocess.Tests.Jobs;

/// <summary>The detection-only contract as the client learns it from a repository's configs: snapshot and scored window, strains only, and the all-or-nothing witness rule.</summary>
[Collection(StrainOnlyRunCollection.Name)]
public sealed class StrainOnlyLayoutTests(StrainOnlyRunFixture run)
{
    private static readonly List<(string, ChannelName, IReadOnlyList<ChannelName>, string?)> StrainOnly =
    [
        ("H1", new ChannelName("H1:GDS-CALIB_STRAIN"), [], null),
        ("L1", new ChannelName("L1:GDS-CALIB_STRAIN"), [], null),
    ];

    private global::Inference.ModelConfig Read(string name) => ModelConfigFile.Read(Path.Combine(run.Repository, name, ModelConfigFile.FileName));

    [Fact]
    public async Task The_snapshot_length_comes_from_the_snapshotter_and_the_scored_window_from_the_scoring_step()
    {
        var layout = await StreamLayout.FromConfigsAsync(Read(StrainOnlyRepository.Ensemble), n => Task.FromResult(Read(n)), StrainOnly);
        Assert.Equal(StreamContract.Detection, layout.Contract);
        Assert.True(layout.DetectionOnly);
        Assert.Equal((8192, 4096, 256, 4, 2, 1024), (layout.Kernel, layout.ScoreWindow, layout.Stride, layout.Batch, layout.Channels, layout.UpdateSamples));
        Assert.Equal(["score"], layout.OutputNames);
        Assert.Equal(["H1:GDS-CALIB_STRAIN", "L1:GDS-CALIB_STRAIN"], layout.ChannelOrder.Select(c => c.Value));
        Assert.Equal([ChannelScaling.Identity, ChannelScaling.Identity], layout.Scaling);
        Assert.Equal("snapshot_update", layout.InputName);
    }

    [Fact]
    public async Task The_repository_check_names_the_detection_contract_and_what_fits_it()
    {
        var described = await RepositoryContracts.DescribeAsync(run.Repository);
        var detection = described.Single(d => d.Ensemble == StrainOnlyRepository.Ensemble);
        Assert.Equal(StreamContract.Detection, detection.Contract);
        Assert.Equal("detection contract (strain-only workflows): one sequence per job, 'snapshot_update' [1, 2, 1024] of the detectors' strains only " +
                     "(snapshot L = 8192, stride 256, B = 4); 'score' [4, 1] on the last 4096 samples of each snapshot; nothing cleaned", detection.Description);
        Assert.Equal(StreamContract.Native, described.Single(d => d.Ensemble == "gwe2e").Contract);

        Assert.Null(await RepositoryContracts.MisfitAsync(run.Repository, StrainOnlyRepository.Ensemble, StrainOnly));
        Assert.StartsWith("model 'gwe2e' cleans (native contract: ", await RepositoryContracts.MisfitAsync(run.Repository, "gwe2e", StrainOnly));
        var own = StrainOnly.Select((d, i) => (d.Item1, d.Item2, d.Item3, i == 1 ? "deepclean-stream" : null)).ToList();
        Assert.Equal("detectors.L1.ensemble 'deepclean-stream': a strain-only workflow (no witnesses) streams every detector together to [inference] ensemble, a detection-only one; " +
                     "a detector's own ensemble is for cleaning under the hermes contract", await RepositoryContracts.MisfitAsync(run.Repository, StrainOnlyRepository.Ensemble, own));
    }

    [Fact]
    public async Task A_detection_only_ensemble_for_another_number_of_detectors_is_refused()
    {
        var e = await Assert.ThrowsAsync<BadInputException>(() => StreamLayout.FromConfigsAsync(Read(StrainOnlyRepository.Ensemble), n => Task.FromResult(Read(n)), StrainOnly.Take(1).ToList()));
        Assert.Equal("model 'strain-maxabs': input 'snapshot_update' takes 2 channels; the workflow's detectors give 1 strains (H1)", e.Message);
    }
}
