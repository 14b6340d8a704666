using GwReprocess.Analysis;
using GwReprocess.Tests.Cli;
using GwReprocess.Tests.Jobs;
using GwReprocess.Time;

namespace GwReprocess.Tests.Workflow;

/// <summary>
/// <c>gwrepro dag</c> and <c>gwrepro run</c> with a strain-only workflow (LAL cache of H1 and L1 strain, no witnesses, a
/// detection-only ensemble): the plan says scores, the run writes score files and no frame, the report is written, and a
/// rerun finds every job done.
/// </summary>
[Collection(StrainOnlyRunCollection.Name)]
public sealed class StrainOnlyRunTests(StrainOnlyRunFixture fixture)
{
    [Fact]
    public async Task A_strain_only_workflow_plans_runs_end_to_end_and_resumes_with_every_job_done()
    {
        string workflow = await fixture.WorkflowAsync("run");
        string dir = Path.GetDirectoryName(workflow)!;
        string run = Path.Combine(dir, "rundir");

        var plan = await GwreproProcess.RunAsync(["dag", workflow, "--dry-run"], dir, timeout: TimeSpan.FromMinutes(1));
        Assert.True(plan.ExitCode == 0, plan.StdErr);
        Assert.Contains("frames:    jobs cut at input file boundaries: strain-only (no witnesses), so no cleaned frame; each score file keeps its input file's span (shorter only at segment edges)", plan.StdOut);

        var r = await GwreproProcess.RunAsync(["run", workflow, "--out", run, "--stop-grace", "10"], dir, timeout: TimeSpan.FromMinutes(8));
        Assert.True(r.ExitCode == 0, r.StdOut + r.StdErr);
        Assert.Contains("run: 1 of 1 client job(s) complete (1 run, 0 done before), 0 failed, 0 not run; final node analyze succeeded", r.StdOut);
        Assert.Contains("s of data searched (strain-only, nothing cleaned) in ", r.StdOut);
        Assert.Contains("report: " + Path.Combine(run, "report", "report.html"), r.StdOut);

        // Outputs go where the workflow says, relative to the run directory.
        string outDir = Path.Combine(run, "out");
        Assert.Empty(Directory.EnumerateFiles(run, "*.gwf", SearchOption.AllDirectories));
        var files = Directory.GetFiles(Path.Combine(outDir, "scores"), "*.h5").Select(Path.GetFileName).Order().ToList();
        Assert.Equal(Enumerable.Range(0, 4).Select(i => $"H1L1-CLEAN_SCORES-{1_000_000_004 + 4 * i}-4.h5"), files);
        // The highest score: the windows holding the H1 spike at T+10.5 s.
        var best = (Score: 0.0, Times: new List<double>());
        foreach (var f in files)
        {
            var (series, _) = InjectionRecovery.ReadScores(Path.Combine(outDir, "scores", f!));
            for (int i = 0; i < series.Length; i++)
            {
                double t = (series.T0 - StrainOnlyRunFixture.T).TotalSeconds + i / 16.0, v = series.Samples.Span[i];
                if (v > best.Score) best = (v, [t]);
                else if (v == best.Score) best.Times.Add(t);
            }
        }
        Assert.Equal(8.0, best.Score);
        Assert.Equal(Enumerable.Range(1, 16).Select(k => 10.5 + k / 16.0), best.Times);
        // The report's coverage: nothing cleaned (nothing is meant to be), and no job counted as failed or missing.
        using (var summary = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "report", "summary.json"))))
            foreach (var c in summary.RootElement.GetProperty("runs")[0].GetProperty("coverage").EnumerateArray())
                Assert.Equal((0.0, 0.0, 8.0), (c.GetProperty("cleaned_seconds").GetDouble(), c.GetProperty("failed_job_seconds").GetDouble(), c.GetProperty("segment_edge_seconds").GetDouble()));
        Assert.Equal(4, GwReprocess.Frames.FrameCache.Read(Path.Combine(outDir, "scores", "index.lcf")).Entries.Count);
        // The job cleaned nothing: its node is a search node, and the report says what was searched.
        Assert.True(File.Exists(Path.Combine(outDir, "done", "search_H1L1_1000000004_16")));
        Assert.Contains("JOB search_H1L1_1000000004_16 client.sub\n", File.ReadAllText(Path.Combine(run, "reprocess.dag")));
        string md = File.ReadAllText(Path.Combine(run, "report", "report.md"));
        Assert.Contains("\n## Coverage: what was searched\n", md);
        Assert.Contains(" | H1 | 24 | 16 | 8 | 0 | 4 | scores/index.lcf |\n", md);
        Assert.Contains(": no ASD-ratio plot: strain-only workflow (no witnesses): the jobs cleaned nothing and wrote scores only, so there is no cleaned/raw ASD ratio.\n", md);
        Assert.DoesNotContain("what was cleaned", md);

        var again = await GwreproProcess.RunAsync(["run", workflow, "--out", run, "--stop-grace", "10"], dir, timeout: TimeSpan.FromMinutes(4));
        Assert.True(again.ExitCode == 0, again.StdOut + again.StdErr);
        Assert.Contains("run: 1 of 1 client job(s) complete (0 run, 1 done before)", again.StdOut);
        // gwrepro dag of the run directory's copy (outputs relative to it, as the nodes see them) marks the job DONE by its scores.
        var resumed = await GwreproProcess.RunAsync(["dag", Path.Combine(run, "workflow.toml"), "--out", run, "--dry-run"], run, timeout: TimeSpan.FromMinutes(1));
        Assert.True(resumed.ExitCode == 0, resumed.StdErr);
        Assert.Contains("resume:    1 job(s) already committed, marked DONE", resumed.StdOut);
    }

    [Fact]
    public async Task A_strain_only_workflow_without_its_detection_only_repository_is_refused_with_one_line()
    {
        string dir = Path.Combine(fixture.Root, "no-models");
        Directory.CreateDirectory(dir);
        string workflow = Path.Combine(dir, "workflow.toml");
        await File.WriteAllTextAsync(workflow, StrainOnlyRunFixture.WorkflowText(fixture.Cache, "models"));
        var r = await GwreproProcess.RunAsync(["run", workflow, "--out", Path.Combine(dir, "rundir")], dir, timeout: TimeSpan.FromMinutes(1));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains($"gwrepro run: {workflow}: strain-only workflow (no witnesses): {Path.Combine(dir, "rundir", "models")} has no ensemble 'strain-maxabs' and gwrepro run builds cleaning repositories only; " +
                        "put a detection-only one there (input [1, 2, B·stride] of the strains, output 'score' only)", r.StdErr);
    }

    [Fact]
    public async Task A_simulated_strain_only_workflow_simulates_no_witnesses_and_writes_scores_only()
    {
        string dir = Path.Combine(fixture.Root, "simulated");
        Directory.CreateDirectory(dir);
        string workflow = Path.Combine(dir, "workflow.toml");
        string text = StrainOnlyRunFixture.WorkflowText(fixture.Cache, fixture.Repository)
            .Replace($"source = \"cache\"\ncache = \"{fixture.Cache}\"", "source = \"simulated\"", StringComparison.Ordinal)
            .Replace("[detectors.H1]", "[data.simulate]\nwitnesses = 0\ninjection_rate = 0\nframe_length = 8\ndirectory = \"frames\"\n\n[detectors.H1]", StringComparison.Ordinal);
        Assert.Contains("witnesses = 0", text);
        await File.WriteAllTextAsync(workflow, text);
        string run = Path.Combine(dir, "rundir");
        var r = await GwreproProcess.RunAsync(["run", workflow, "--out", run, "--stop-grace", "10"], dir, timeout: TimeSpan.FromMinutes(8));
        Assert.True(r.ExitCode == 0, r.StdOut + r.StdErr);
        Assert.Contains("0 failed, 0 not run; final node analyze succeeded", r.StdOut);
        // The simulated frames hold the strain alone; the outputs hold scores alone.
        var input = Directory.GetFiles(Path.Combine(run, "frames"), "H-*.gwf").Order().First();
        await using (var gwf = await GwReprocess.Frames.Gwf.GwfFile.OpenAsync(input))
        {
            Assert.Contains("H1:GDS-CALIB_STRAIN", gwf.ChannelNames);
            Assert.DoesNotContain(gwf.ChannelNames, c => GwReprocess.Simulation.SimulationOptions.DefaultWitnessNames.Any(w => c == "H1:" + w));
        }
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(run, "out"), "*.gwf", SearchOption.AllDirectories));
        // The 8 s input files cut the job [T+4, T+20) into three score spans.
        Assert.Equal(["H1L1-CLEAN_SCORES-1000000004-4.h5", "H1L1-CLEAN_SCORES-1000000008-8.h5", "H1L1-CLEAN_SCORES-1000000016-4.h5"],
            Directory.GetFiles(Path.Combine(run, "out", "scores"), "*.h5").Select(Path.GetFileName).Order());
    }
}
