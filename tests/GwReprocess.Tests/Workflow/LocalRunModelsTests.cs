using GwReprocess.Models;
using GwReprocess.Time;
using GwReprocess.Workflow;

namespace GwReprocess.Tests.Workflow;

/// <summary>
/// What <c>gwrepro run</c> asks the model build for when it has no repository to copy: the typed request carries
/// model-repository/README.md's choices (Wiener cleaners and the calibrated template bank fitted on the first 512 s,
/// hop and batch from [inference]) that it used to pass to <c>gwrepro models build</c> as arguments.
/// </summary>
public sealed class LocalRunModelsTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("gwrepro-run-models-");

    public void Dispose() => _dir.Delete(true);

    [Fact]
    public async Task The_run_asks_for_fitted_cleaners_and_templates_over_the_first_512_s_in_the_workflow_order()
    {
        string workflow = Path.Combine(_dir.FullName, "tiny.toml");
        File.WriteAllText(workflow, RunEndToEndTests.Workflow.Replace("end = 1000000064", "end = 1000001000"));
        var run = LocalRun.Create(workflow, Path.Combine(_dir.FullName, "run"));
        // The fit cache is written from the simulated caches; empty ones do (nothing is read until the build).
        Directory.CreateDirectory(run.FramesDirectory!);
        foreach (var ifo in new[] { "H1", "L1" }) File.WriteAllText(Path.Combine(run.FramesDirectory!, GwReprocess.Simulation.SimulationRun.CacheName(ifo)), "");

        var request = await run.ModelRepositoryRequestAsync(CancellationToken.None);
        Assert.Equal(run.ModelRepository, request.Directory);
        var m = request.Models;
        Assert.Equal((CleanerKind.Wiener, DetectorKind.Templates), (m.Cleaner, m.Detector));
        Assert.Equal((4096, 1.0, 4096 / 16, 8), (m.SampleRate, m.KernelSeconds, m.Stride, m.Batch));
        Assert.Equal((1, 1, 20210826), (m.Instances, m.SnapshotterInstances, m.Seed));

        var fit = request.Fit!;
        Assert.Equal(Path.Combine(run.FramesDirectory!, "H1L1.lcf"), fit.Frames);
        Assert.True(File.Exists(fit.Frames));
        Assert.Equal((GpsTime.FromSeconds(1000000000), GpsTime.FromSeconds(1000000512)), (fit.Start!.Value, fit.End!.Value));
        Assert.Equal(["H1", "L1"], fit.Detectors.Select(d => d.Ifo));
        Assert.Equal(["L1:PEM-CS_MAINSMON_EBAY_1_DQ", "L1:ASC-INP1_P_INMON"], fit.Detectors[1].Witnesses.Select(w => w.Value));
        Assert.Equal("L1:GDS-CALIB_STRAIN", fit.Detectors[1].Strain.Value);
        Assert.Equal(workflow, fit.ChannelSource);
        Assert.Equal((32, 0, (15.0, 500.0), 1025), (fit.Taps, fit.Advance, fit.Band, fit.WhitenTaps));
        Assert.NotNull(fit.Simulation); // the template background is the simulator's injection-free rendering
    }
}
