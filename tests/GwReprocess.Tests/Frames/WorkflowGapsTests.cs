using GwReprocess.Frames;
using GwReprocess.Frames.Hdf5;
using GwReprocess.Jobs;
using GwReprocess.Time;
using GwReprocess.Workflow;

namespace GwReprocess.Tests.Frames;

/// <summary><c>[data] gaps</c> is read with the other <c>[data]</c> keys and reaches the frame source a client job reads GWOSC files through.</summary>
public sealed class WorkflowGapsTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("workflow-gaps-");

    public void Dispose() => _dir.Delete(true);

    private static string Workflow(string? gaps) => $"""
        [run]
        name = "gw150914"

        [data]
        source = "cache"
        cache = "gwosc.lcf"
        start = 1126259448
        end = 1126259476
        {(gaps is null ? "" : $"gaps = \"{gaps}\"")}

        [detectors.H1]
        strain = "H1:LOSC-STRAIN"

        [outputs]
        uri = "out"
        """;

    [Fact]
    public void The_key_defaults_to_refuse_and_takes_zero()
    {
        Assert.Equal(GapPolicy.Refuse, WorkflowConfig.Parse(Workflow(null), "w.toml").Data.Gaps);
        Assert.Equal(GapPolicy.Refuse, WorkflowConfig.Parse(Workflow("refuse"), "w.toml").Data.Gaps);
        Assert.Equal(GapPolicy.Zero, WorkflowConfig.Parse(Workflow("zero"), "w.toml").Data.Gaps);
        var e = Assert.Throws<BadInputException>(() => WorkflowConfig.Parse(Workflow("interpolate"), "w.toml"));
        Assert.Contains("data.gaps", e.Message);
        Assert.Contains("'interpolate' is not one of refuse, zero", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Theory]
    [InlineData("refuse")]
    [InlineData("zero")]
    public async Task A_client_jobs_frame_source_applies_the_workflows_policy(string gaps)
    {
        // The real H1 file with NaN over GPS [1126259470, 1126259472), listed in the workflow's cache.
        var real = (await Hdf5TimeSeriesReader.ReadAsync(RealData.PathOf("gwosc/H-H1_LOSC_4_V2-1126259446-32.hdf5")))["H1:GWOSC-STRAIN"];
        var samples = real.Samples.ToArray();
        samples.AsSpan(24 * 4096, 2 * 4096).Fill(double.NaN);
        string h5 = Path.Combine(_dir.FullName, "H-H1_LOSC_4_V2-1126259446-32.hdf5");
        GwoscTestFile.Write(h5, "H1", real.WithSamples(samples), Enumerable.Repeat(127u, 32).ToArray());
        File.WriteAllText(Path.Combine(_dir.FullName, "gwosc.lcf"), $"H LOSC_4_V2 1126259446 32 file://localhost{h5}\n");
        string path = Path.Combine(_dir.FullName, "w.toml");
        File.WriteAllText(path, Workflow(gaps));
        var workflow = WorkflowConfig.Load(path);

        var job = new JobSpec("j", new Segment(1126259448, 1126259476), new Segment(1126259448, 1126259476), 0, 1);
        using var opener = new BucketFrameOpener();
        var input = Assert.Single(await WorkflowClientJob.DetectorInputsAsync(workflow, _dir.FullName, job, opener, CancellationToken.None));
        var span = new Segment(1126259450, 1126259474);
        if (gaps == "refuse")
        {
            var e = await Assert.ThrowsAsync<FrameGapException>(() => input.Frames.ReadAsync([input.Strain.Value], span));
            Assert.Contains($"{h5}: channel H1:LOSC-STRAIN: gap at [1126259470, 1126259472)", e.Message);
            return;
        }
        var data = await input.Frames.ReadAsync([input.Strain.Value], span);
        var read = data.Channels[0].Samples.Span;
        Assert.Equal(24 * 4096, read.Length);
        for (int i = 0; i < read.Length; i++)
        {
            double expected = i >= 20 * 4096 && i < 22 * 4096 ? 0.0 : samples[4 * 4096 + i];
            Assert.Equal(BitConverter.DoubleToInt64Bits(expected), BitConverter.DoubleToInt64Bits(read[i]));
        }
        Assert.Equal(new SegmentList([new Segment(1126259470, 1126259472)]), Assert.Single(data.Filled).Channels["H1:LOSC-STRAIN"]);
    }
}
