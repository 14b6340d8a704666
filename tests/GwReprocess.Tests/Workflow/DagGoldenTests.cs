using GwReprocess.Workflow;

namespace GwReprocess.Tests.Workflow;

public class DagGoldenTests
{
    private static string Data(params string[] parts) => Path.Combine([AppContext.BaseDirectory, "data", "workflow", .. parts]);

    private static JobPlan PlanLdg()
    {
        var workflow = WorkflowConfig.Load(Data("ldg", "workflow.toml"));
        var cache = GwReprocess.Data.FrameCache.Read(Data("ldg", "frames.lcf"));
        return JobPlanner.Plan(workflow, JobPlanner.ReadScience(workflow), JobPlanner.FrameCoverage(workflow, cache));
    }

    [Fact]
    public void Ldg_run_directory_is_byte_stable()
    {
        var files = DagWriter.Render(PlanLdg(), "/home/albert.einstein/bin/gwrepro");
        // The golden copy lives in the source tree; the test output holds a copy of it.
        string sourceExpected = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "data", "workflow", "ldg", "expected"));
        bool update = Environment.GetEnvironmentVariable("GWREPRO_UPDATE_GOLDEN") == "1";
        foreach (var (name, text) in files)
        {
            if (update) File.WriteAllText(Path.Combine(sourceExpected, name), text);
            else Assert.Equal(File.ReadAllText(Data("ldg", "expected", name)), text);
        }
        Assert.Equal(["reprocess.dag", "client.sub", "server.sub", "analyze.sub", "dagman.config", "jobs.csv"], files.Select(f => f.Key).ToArray());
    }

    [Fact]
    public void Ldg_plan_honours_segments_vetoes_frames_and_padding()
    {
        var plan = PlanLdg();
        // H1 ∩ L1 ∩ frames minus the L1 veto, each stretch contracted by 8 s of padding.
        Assert.Equal("[[1238166018, 1238175000), [1238175100, 1238178306), [1238180000, 1238185000), [1238186000, 1238190594)]", plan.Analyzable.ToString());
        Assert.Equal(8, plan.Jobs.Count);
        Assert.All(plan.Jobs, j => Assert.Contains(plan.Analyzable, s => s.Contains(j.Padded)));
        Assert.Equal(21718, plan.DataDuration.TotalSeconds);
        Assert.Equal("clean_H1L1_1238175108_3190", plan.Jobs[3].Name);
    }

    [Fact]
    public async Task Written_directory_passes_the_checker_and_round_trips_jobs()
    {
        var dir = Directory.CreateTempSubdirectory("gwrepro-dag-");
        try
        {
            var plan = PlanLdg();
            var run = await DagWriter.WriteAsync(plan, dir.FullName, "/opt/gwrepro/bin/gwrepro");
            Assert.Empty(DagChecker.CheckFile(run.DagFile));
            Assert.True(Directory.Exists(Path.Combine(dir.FullName, "logs")));
            var job = JobPlan.ReadJob(Path.Combine(dir.FullName, "jobs.csv"), plan.Jobs[5].Name);
            Assert.Equal(plan.Jobs[5], job);
            var e = Assert.Throws<BadInputException>(() => JobPlan.ReadJob(Path.Combine(dir.FullName, "jobs.csv"), "clean_nope"));
            Assert.EndsWith("jobs.csv: no job named 'clean_nope'", e.Message);
        }
        finally { dir.Delete(true); }
    }

    [Fact]
    public void Committed_jobs_are_marked_done()
    {
        var plan = PlanLdg();
        var dag = DagWriter.Render(plan, "/x/gwrepro", new HashSet<string> { plan.Jobs[0].Name, plan.Jobs[2].Name })[0].Value;
        Assert.Contains($"JOB {plan.Jobs[0].Name} client.sub DONE\n", dag);
        Assert.Contains($"JOB {plan.Jobs[1].Name} client.sub\n", dag);
        Assert.Contains($"JOB {plan.Jobs[2].Name} client.sub DONE\n", dag);
        Assert.Empty(DagChecker.Check(dag, "resume.dag", out _));
    }
}

public class DagResumeCliTests
{
    [Fact]
    public async Task Regenerating_a_run_marks_committed_jobs_done()
    {
        var dir = Directory.CreateTempSubdirectory("gwrepro-resume-");
        try
        {
            string workflow = Path.Combine(dir.FullName, "w.toml");
            File.WriteAllText(workflow, """
                [run]
                name = "resume"
                [data]
                start = 1238166018
                end = 1238178306
                [detectors.H1]
                strain = "H1:GDS-CALIB_STRAIN"
                [outputs]
                uri = "out"
                [condor]
                executable = "/opt/gwrepro/bin/gwrepro"
                """);
            string run = Path.Combine(dir.FullName, "run");
            var r = await Cli.GwreproProcess.RunAsync("dag", workflow, "--out", run);
            Assert.Equal(0, r.ExitCode);
            Assert.Contains("3 client job(s)", r.StdOut);
            var jobs = File.ReadAllLines(Path.Combine(run, "jobs.csv")).Skip(1).Select(l => l.Split(',')[0]).ToArray();
            Assert.DoesNotContain(File.ReadAllLines(Path.Combine(run, "reprocess.dag")), l => l.StartsWith("JOB ") && l.EndsWith(" DONE"));

            // The first job committed its outputs (its done marker is in the output prefix).
            Directory.CreateDirectory(Path.Combine(dir.FullName, "out", "done"));
            File.WriteAllText(Path.Combine(dir.FullName, "out", "done", jobs[0]), "");
            r = await Cli.GwreproProcess.RunAsync("dag", workflow, "--out", run);
            Assert.Equal(0, r.ExitCode);
            Assert.Contains("resume:    1 job(s) already committed, marked DONE", r.StdOut);
            string dag = File.ReadAllText(Path.Combine(run, "reprocess.dag"));
            Assert.Contains($"JOB {jobs[0]} client.sub DONE\n", dag);
            Assert.Contains($"JOB {jobs[1]} client.sub\n", dag);
            r = await Cli.GwreproProcess.RunAsync("dag", "check", Path.Combine(run, "reprocess.dag"));
            Assert.Equal(0, r.ExitCode);
        }
        finally { dir.Delete(true); }
    }
}
