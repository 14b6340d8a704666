using GwReprocess.Analysis;
using GwReprocess.Jobs;
using GwReprocess.Tests.Cli;
using GwReprocess.Time;

namespace GwReprocess.Tests.Jobs;

/// <summary>
/// Issue 19's strain-only workflows: <c>gwrepro client</c> streams only the strains to a detection-only ensemble on
/// <c>gwrepro serve</c>, writes only the scores (placed at the end of their windows) and no GWF, checkpoints by score
/// files, and refuses a workflow and an ensemble that do not go together with one line and exit code 2.
/// </summary>
[Collection(StrainOnlyRunCollection.Name)]
public sealed class StrainOnlyClientTests(StrainOnlyRunFixture run)
{
    private static readonly Segment[] Spans = [.. Enumerable.Range(0, 4).Select(i => Segment.FromStart(StrainOnlyRunFixture.Core.Start + GpsDuration.FromSeconds(4 * i), GpsDuration.FromSeconds(4)))];

    private static string ScoreFile(string outDir, Segment span) => Path.Combine(outDir, "scores", $"H1L1-CLEAN_SCORES-{span.Start}-{span.Duration}.h5");

    [Fact]
    public async Task Scores_only_are_written_each_at_its_windows_end_with_the_detectors_score_and_no_frame()
    {
        string workflow = await run.WorkflowAsync("scores");
        string outDir = Path.Combine(Path.GetDirectoryName(workflow)!, "out");
        var r = await GwreproProcess.RunAsync(StrainOnlyRunFixture.ClientArguments(workflow, run.ServerAddress), timeout: TimeSpan.FromMinutes(4));
        Assert.True(r.ExitCode == 0, r.StdErr);
        Assert.Contains("client job: strain-only: 'strain-maxabs' is detection-only: streaming H1:GDS-CALIB_STRAIN, L1:GDS-CALIB_STRAIN unscaled at 4096 Hz " +
                        "([1, 2, 1024] per request), one score per 256 samples on a 1 s window (snapshot 2 s); writing scores only, no cleaned frames", r.StdErr);
        Assert.Equal(4, r.StdErr.Split('\n').Count(l => l.Contains("client job: committed scores ", StringComparison.Ordinal)));
        Assert.DoesNotContain("committed frame", r.StdErr);
        Assert.Contains("client job: done: 4 score file(s) (no cleaned frames) written, 0 already committed, 0 retries, 16 s of data", r.StdErr);

        Assert.Empty(Directory.EnumerateFiles(outDir, "*.gwf", SearchOption.AllDirectories));
        Assert.False(Directory.Exists(Path.Combine(outDir, "cleaned")));
        Assert.True(File.Exists(Path.Combine(outDir, "done", "job")));
        Assert.Equal(Spans.Select(s => $"{s.Start}-{s.Duration}").Order(), Directory.EnumerateFiles(Path.Combine(outDir, "progress", "job")).Select(Path.GetFileName).Order());

        // Score i of a span is window j = (span start − T)·fs/stride + i of the stream (started at T, the padded start): it ends
        // at sample (j+1)·stride, which is its time, and scores the K samples before it: exactly max |x| of the frames' data there.
        var best = (Score: 0.0, Times: new List<double>());
        foreach (var span in Spans)
        {
            var (series, window) = InjectionRecovery.ReadScores(ScoreFile(outDir, span));
            Assert.Equal("H1L1:BBH_SCORE", series.Channel.Value);
            Assert.Equal(1.0, window);
            Assert.Equal(16, series.SampleRate.Hertz);
            Assert.Equal(span.Start + GpsDuration.FromNanoseconds(62_500_000), series.T0);
            Assert.Equal(64, series.Length);
            long first = (long)(span.Start - StrainOnlyRunFixture.T).TotalSeconds * 4096;
            for (int i = 0; i < series.Length; i++)
            {
                long end = first + (i + 1) * StrainOnlyRepository.Stride;
                double value = series.Samples.Span[i];
                Assert.True(run.ExpectedScore(end) == value, $"{span} score {i}: {value}, expected {run.ExpectedScore(end)}");
                double t = (series.T0 - StrainOnlyRunFixture.T).TotalSeconds + i / 16.0;
                if (value > best.Score) best = (value, [t]);
                else if (value == best.Score) best.Times.Add(t);
            }
        }
        // The H1 spike of 8 at T+10.5 s: the 16 windows holding it, ending in (10.5, 11.5] s.
        Assert.Equal(8.0, best.Score);
        Assert.Equal(Enumerable.Range(1, 16).Select(k => 10.5 + k / 16.0), best.Times);

        var metrics = JobMetricsCsv.Read(Path.Combine(outDir, "metrics", "job.csv"));
        Assert.Equal(16, metrics.Sum(m => m.DataSeconds), 6);
        Assert.Equal(metrics.Sum(m => m.RequestsSent), metrics.Sum(m => m.Responses));
        // The stream covers the padded 24 s less the settling second, in 0.25 s requests of [1, 2, 1024] float32: strains only.
        Assert.Equal(92, metrics.Sum(m => m.RequestsSent));
        Assert.InRange(metrics.Sum(m => m.BytesSent), 92L * 2 * 1024 * 4, 92L * 2 * 1024 * 4 * 105 / 100);
    }

    [Fact]
    public async Task A_window_that_ends_before_its_snapshot_is_placed_by_its_delay_and_scores_as_the_undelayed_one()
    {
        // The delayed crop scores the window ending 1024 samples (4 strides) before each snapshot's end, as the stream whitener does:
        // placed by its window_delay, every score is the same window's, at the same time, as without the delay.
        string workflow = await run.WorkflowAsync("delayed", ensemble: StrainOnlyRepository.DelayedEnsemble);
        string outDir = Path.Combine(Path.GetDirectoryName(workflow)!, "out");
        var r = await GwreproProcess.RunAsync(StrainOnlyRunFixture.ClientArguments(workflow, run.ServerAddress), timeout: TimeSpan.FromMinutes(4));
        Assert.True(r.ExitCode == 0, r.StdErr);
        Assert.Contains("one score per 256 samples on a 1 s window (snapshot 2 s, window ending 0.25 s before it); writing scores only", r.StdErr);
        int compared = 0;
        foreach (var span in Spans)
        {
            var (series, window) = InjectionRecovery.ReadScores(ScoreFile(outDir, span));
            Assert.Equal(1.0, window);
            Assert.Equal(span.Start + GpsDuration.FromNanoseconds(62_500_000), series.T0);
            Assert.Equal(64, series.Length);
            long first = (long)(span.Start - StrainOnlyRunFixture.T).TotalSeconds * 4096;
            for (int i = 0; i < series.Length; i++, compared++)
            {
                long end = first + (i + 1) * StrainOnlyRepository.Stride;
                Assert.True(run.ExpectedScore(end) == series.Samples.Span[i], $"{span} score {i}: {series.Samples.Span[i]}, expected {run.ExpectedScore(end)}");
            }
        }
        Assert.Equal(256, compared);
    }

    [Fact]
    public async Task A_killed_strain_only_job_resumes_from_its_first_missing_score_file_and_writes_identical_bytes()
    {
        string full = await run.WorkflowAsync("full");
        var reference = await GwreproProcess.RunAsync(StrainOnlyRunFixture.ClientArguments(full, run.ServerAddress), timeout: TimeSpan.FromMinutes(4));
        Assert.True(reference.ExitCode == 0, reference.StdErr);

        string workflow = await run.WorkflowAsync("killed");
        string outDir = Path.Combine(Path.GetDirectoryName(workflow)!, "out");
        var killed = await GwreproProcess.RunAsync(StrainOnlyRunFixture.ClientArguments(workflow, run.ServerAddress), null,
            new Dictionary<string, string?> { ["GWREPRO_CLIENT_KILL_AFTER_FRAMES"] = "2" }, TimeSpan.FromMinutes(4));
        Assert.True(killed.ExitCode != 0, killed.StdErr);
        Assert.Equal(2, Directory.EnumerateFiles(Path.Combine(outDir, "progress", "job")).Count());
        Assert.False(File.Exists(Path.Combine(outDir, "done", "job")));
        var firstTwo = Spans.Take(2).ToDictionary(s => s, s => File.GetLastWriteTimeUtc(ScoreFile(outDir, s)));

        await Task.Delay(50); // so that a rewritten file would show a later modification time
        var r = await GwreproProcess.RunAsync(StrainOnlyRunFixture.ClientArguments(workflow, run.ServerAddress), timeout: TimeSpan.FromMinutes(4));
        Assert.True(r.ExitCode == 0, r.StdErr);
        Assert.Contains("client job: job: 2 of 4 score span(s) already committed; resuming", r.StdErr);
        Assert.Equal(2, r.StdErr.Split('\n').Count(l => l.Contains("client job: committed scores ", StringComparison.Ordinal)));
        foreach (var (span, written) in firstTwo) Assert.Equal(written, File.GetLastWriteTimeUtc(ScoreFile(outDir, span)));
        string fullOut = Path.Combine(Path.GetDirectoryName(full)!, "out");
        foreach (var span in Spans) Assert.Equal(File.ReadAllBytes(ScoreFile(fullOut, span)), File.ReadAllBytes(ScoreFile(outDir, span)));
        Assert.Empty(Directory.EnumerateFiles(outDir, "*.gwf", SearchOption.AllDirectories));

        var again = await GwreproProcess.RunAsync(StrainOnlyRunFixture.ClientArguments(workflow, run.ServerAddress), timeout: TimeSpan.FromMinutes(4));
        Assert.True(again.ExitCode == 0, again.StdErr);
        Assert.Contains("client job: job: already done", again.StdErr);
    }

    public static TheoryData<string, string?, string, string> Misfits => new()
    {
        {
            "witnesses", "[detectors.H1]\nstrain = \"H1:GDS-CALIB_STRAIN\"\nwitnesses = [\"H1:PEM-CS_MAINSMON_EBAY_1_DQ\"]\n\n[detectors.L1]\nstrain = \"L1:GDS-CALIB_STRAIN\"\nwitnesses = [\"L1:PEM-CS_MAINSMON_EBAY_1_DQ\"]",
            StrainOnlyRepository.Ensemble,
            "gwrepro client: model 'strain-maxabs' is detection-only (input 'snapshot_update' [1, 2, 1024]; output 'score' [4, 1]): the workflow lists witnesses for H1, L1; " +
            "stream a strain-only workflow (no witnesses) to it, or name a cleaning ensemble"
        },
        {
            "cleaning", null, "gwe2e",
            "gwrepro client: model 'gwe2e' cleans (native contract: input 'snapshot_update' [1, 4, 1024]; outputs 'noise_h1' [4, 4096], 'noise_l1' [4, 4096], 'score' [4, 1]): " +
            "the workflow's detectors list no witnesses, and a strain-only workflow needs a detection-only ensemble (input [1, 2, B·stride] of the strains, output 'score' only)"
        },
        {
            "mixed", "[detectors.H1]\nstrain = \"H1:GDS-CALIB_STRAIN\"\nwitnesses = [\"H1:PEM-CS_MAINSMON_EBAY_1_DQ\"]\n\n[detectors.L1]\nstrain = \"L1:GDS-CALIB_STRAIN\"",
            "gwe2e",
            "gwrepro client: detectors L1 list no witnesses while H1 do: a workflow either cleans (every detector lists its witnesses) or is strain-only (none does: scores only, with a detection-only ensemble)"
        },
    };

    [Theory]
    [MemberData(nameof(Misfits))]
    public async Task A_workflow_and_an_ensemble_that_do_not_go_together_are_refused_with_one_line(string name, string? detectors, string ensemble, string line)
    {
        string workflow = await run.WorkflowAsync("misfit-" + name, detectors, ensemble);
        var r = await GwreproProcess.RunAsync(StrainOnlyRunFixture.ClientArguments(workflow, run.ServerAddress, "--quiet"), timeout: TimeSpan.FromMinutes(2));
        Assert.Equal(2, r.ExitCode);
        Assert.Equal(line, r.StdErr.Trim());
        Assert.False(Directory.Exists(Path.Combine(Path.GetDirectoryName(workflow)!, "out", "scores")));
    }

    [Fact]
    public async Task A_padding_shorter_than_the_snapshot_and_the_settling_is_refused_with_one_line()
    {
        string workflow = await run.WorkflowAsync("short-padding", padding: 2);
        var r = await GwreproProcess.RunAsync(StrainOnlyRunFixture.ClientArguments(workflow, run.ServerAddress, "--quiet"), timeout: TimeSpan.FromMinutes(2));
        Assert.Equal(2, r.ExitCode);
        Assert.Equal("gwrepro client: job: padding 2 s is too short: it must hold the detection-only ensemble's snapshot L/fs = 2 s + 1 s resampler settling = 3 s", r.StdErr.Trim());
    }
}
