using GwReprocess.Cleaning;
using GwReprocess.Frames;
using GwReprocess.Frames.Gwf;
using GwReprocess.Time;

namespace GwReprocess.Tests.Jobs;

/// <summary>Issue 18's provenance: every cleaned frame says which model and version cleaned it, in which workflow, by which gwrepro, and keeps the input strain's unit.</summary>
[Collection(ClientRunCollection.Name)]
public sealed class CleanedFrameProvenanceTests(ClientRunFixture run)
{
    [Theory]
    [InlineData("H1")]
    [InlineData("L1")]
    public async Task Cleaned_frame_names_cleaner_version_ensemble_workflow_and_program_and_keeps_the_unit(string ifo)
    {
        var (outDir, _, r) = await run.ReferenceRunAsync();
        Assert.True(r.ExitCode == 0, r.StdErr);
        var frame = new Segment(1_000_000_672, 1_000_000_704);
        string channel = $"{ifo}:GDS-CALIB_STRAIN";
        await using var gwf = await GwfFile.OpenAsync(Path.Combine(outDir, "cleaned", ifo, $"{ifo[0]}-{ifo}_CLEAN-{frame.Start}-{frame.Duration}.gwf"));

        string model = $"wiener-{ifo.ToLowerInvariant()}";
        string program = $"workflow client-test, gwrepro {typeof(CleaningProvenance).Assembly.GetName().Version}";
        var history = (await gwf.GetFrameDetailsAsync(0)).History;
        // A full-length frame (cut from one 32 s input file) carries the provenance record only.
        var h = Assert.Single(history);
        Assert.Equal(CleanedFrameWriter.HistoryName, h.Name);
        Assert.Equal((uint)frame.Start.Seconds, h.Time);
        Assert.Equal($"{program}: {channel}_DEEPCLEAN = {channel} minus the noise estimate of {model} version 1 (ensemble gwe2e version 1), band-passed to 15-500 Hz", h.Comment);

        var cleaned = await gwf.GetChannelAsync(channel + "_DEEPCLEAN");
        Assert.Equal($"{channel} minus the noise estimate of {model} version 1 (ensemble gwe2e version 1) band-passed to 15-500 Hz; {program}", cleaned.Comment);

        // The unit is the input strain's, read from the input frames independently of the client.
        var input = new FrameSource(FrameCache.Read(Path.Combine(run.Frames, $"{ifo}.lcf")));
        var raw = (await input.ReadAsync([channel], frame)).Channels[0];
        Assert.NotEqual("", raw.Unit);
        Assert.Equal(raw.Unit, cleaned.Unit);
        Assert.Equal(raw.Unit, cleaned.Vector.UnitY);
    }
}
