using GwReprocess.Workflow;

namespace GwReprocess.Tests.Workflow;

public class DagGoldenTests
{
    private static string Data(params string[] parts) => Path.Combine([AppContext.BaseDirectory, "data", "workflow", .. parts]);

    private static JobPlan PlanLdg()
    {
        // As gwrepro dag plans it: segments, vetoes, the cache's coverage, and jobs cut at its files' boundaries.
        return JobPlanner.PlanFromFiles(WorkflowConfig.Load(Data("ldg", "workflow.toml")));
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
            // Simulated data's file spans are known at plan time, so the jobs own whole input files.
            Assert.Contains("frames:    jobs cut at input file boundaries", r.StdOut);
            var jobs = File.ReadAllLines(Path.Combine(run, "jobs.csv")).Skip(1).Select(l => l.Split(',')[0]).ToArray();
            Assert.DoesNotContain(File.ReadAllLines(Path.Combine(run, "reprocess.dag")), l => l.StartsWith("JOB ") && l.EndsWith(" DONE"));

            // The first job committed its outputs (its done marker is in the output prefix, relative to the run directory where the clients run).
            Directory.CreateDirectory(Path.Combine(run, "out", "done"));
            File.WriteAllText(Path.Combine(run, "out", "done", jobs[0]), "");
            // A marker beside the workflow file is no job's of this run directory.
            Directory.CreateDirectory(Path.Combine(dir.FullName, "out", "done"));
            File.WriteAllText(Path.Combine(dir.FullName, "out", "done", jobs[1]), "");
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

/// <summary>The run directory of a workflow whose server nodes serve TLS and require a bearer token (<c>[inference] tls_cert/tls_key/tls_ca/token_file</c>).</summary>
public class DagTlsTests
{
    private static string Data(params string[] parts) => Path.Combine([AppContext.BaseDirectory, "data", "workflow", .. parts]);

    private const string TlsKeys = "tls_cert = \"secrets/server.pem\"\ntls_key = \"secrets/server.key\"\ntls_ca = \"secrets/ca.pem\"\ntoken_file = \"secrets/token\"\n";

    private static JobPlan Plan(Func<string, string> edit)
    {
        string text = edit(File.ReadAllText(Data("ldg", "workflow.toml")));
        return JobPlanner.PlanFromFiles(WorkflowConfig.Parse(text, Data("ldg", "workflow.toml")));
    }

    private static JobPlan PlanLdgTls() => Plan(t => t.Replace("clients_per_server = 4\n", "clients_per_server = 4\n" + TlsKeys));

    [Fact]
    public void Ldg_tls_submit_files_are_byte_stable_and_name_only_the_run_directory_copies()
    {
        var files = DagWriter.Render(PlanLdgTls(), "/home/albert.einstein/bin/gwrepro").ToDictionary(f => f.Key, f => f.Value);
        string sourceExpected = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "data", "workflow", "ldg", "expected-tls"));
        bool update = Environment.GetEnvironmentVariable("GWREPRO_UPDATE_GOLDEN") == "1";
        foreach (var name in new[] { "client.sub", "server.sub" })
        {
            if (update) File.WriteAllText(Path.Combine(sourceExpected, name), files[name]);
            else Assert.Equal(File.ReadAllText(Data("ldg", "expected-tls", name)), files[name]);
        }
        // Only the submit files change: the DAG, jobs and config are those of the same workflow without TLS.
        foreach (var name in new[] { "reprocess.dag", "analyze.sub", "dagman.config", "jobs.csv" })
            Assert.Equal(File.ReadAllText(Data("ldg", "expected", name)), files[name]);
        Assert.Contains("transfer_input_files    = workflow.toml, jobs.csv, frames.lcf, tls-ca.pem, server.token\n", files["client.sub"]);
        Assert.Contains("transfer_input_files    = tls-cert.pem, tls-key.pem, server.token\n", files["server.sub"]);
        Assert.DoesNotContain("secrets/", string.Concat(files.Values));
    }

    [Fact]
    public void Without_a_private_CA_clients_connect_with_tls_against_the_system_store()
    {
        var files = DagWriter.Render(Plan(t => t.Replace("clients_per_server = 4\n", "clients_per_server = 4\ntls_cert = \"a.pem\"\ntls_key = \"a.key\"\n")), "/x/gwrepro")
            .ToDictionary(f => f.Key, f => f.Value);
        Assert.Contains("--server $(server) --tls\"", files["client.sub"]);
        Assert.Contains("transfer_input_files    = workflow.toml, jobs.csv, frames.lcf\n", files["client.sub"]);
        Assert.Contains("--tls-cert tls-cert.pem --tls-key tls-key.pem\"", files["server.sub"]);
    }

    [Fact]
    public void Server_nodes_get_transport_nice_and_clients_do_not()
    {
        var files = DagWriter.Render(Plan(t => t.Replace("clients_per_server = 4\n", "clients_per_server = 4\ntransport_nice = 10\n")), "/x/gwrepro")
            .ToDictionary(f => f.Key, f => f.Value);
        Assert.Contains("--rendezvous", files["server.sub"]);
        Assert.Matches(@"\narguments\s+= ""serve .* --transport-nice 10""\n", files["server.sub"]);
        Assert.DoesNotContain("transport-nice", files["client.sub"]);
    }

    [Fact]
    public void Transferring_sites_send_the_model_repository_and_the_tls_files_to_the_server()
    {
        var files = DagWriter.Render(Plan(t => t.Replace("clients_per_server = 4\n", "clients_per_server = 4\n" + TlsKeys)
            .Replace("profile = \"ldg\"", "profile = \"igwn-osg\"")), "/x/gwrepro").ToDictionary(f => f.Key, f => f.Value);
        Assert.Contains("transfer_input_files    = model-repository, tls-cert.pem, tls-key.pem, server.token\n", files["server.sub"]);
        Assert.Contains("transfer_input_files    = workflow.toml, jobs.csv, frames.lcf, tls-ca.pem, server.token\n", files["client.sub"]);
        Assert.Empty(DagChecker.Check(files["reprocess.dag"], "reprocess.dag", out _));
    }

    /// <summary>TrainingPlanTests' workflow reading the LAL cache <paramref name="cache"/>, with <paramref name="extra"/> tables (site, inference, condor).</summary>
    private static WorkflowConfig CacheWorkflow(string cache, string extra, string training = "") =>
        WorkflowConfig.Parse(TrainingPlanTests.Workflow(training, extra).Replace("[data]\n", $"[data]\nsource = \"cache\"\ncache = \"{cache}\"\n", StringComparison.Ordinal), "w.toml");

    [Theory]
    [InlineData("caches/H1L1.lcf", "caches/H1L1.lcf", true)]
    [InlineData("./H1L1.lcf", "H1L1.lcf", false)]
    [InlineData("./old/../caches//H1L1.lcf", "caches/H1L1.lcf", true)]
    [InlineData("/cvmfs/frames/H1L1.lcf", null, false)]
    [InlineData("s3://frames/H1L1.lcf", null, false)]
    public void A_relative_frame_cache_is_sent_to_the_client_and_training_jobs_under_the_path_the_workflow_names(string cache, string? sent, bool preserved)
    {
        // An OSG job starts in a sandbox holding only what it is sent: without the cache every client and training job would fail.
        var workflow = CacheWorkflow(cache, "[site]\nprofile = \"igwn-osg\"\naccounting_group = \"igwn.dev.o4.cbc.allsky.gwrepro\"\n\n[inference]\nmodel_repository = \"s3://models/repo\"\n",
            training: "[training]\nprogram = \"/opt/train/gwrepro-train\"\n");
        var files = DagWriter.Render(TrainingPlanTests.Plan(workflow), "/x/gwrepro").ToDictionary(f => f.Key, f => f.Value);
        string extra = sent is null ? "" : ", " + sent;
        Assert.Contains($"transfer_input_files    = workflow.toml, jobs.csv{extra}\n", files["client.sub"], StringComparison.Ordinal);
        Assert.Contains($"transfer_input_files    = workflow.toml{extra}\n", files[TrainingNodes.SubmitFile], StringComparison.Ordinal);
        foreach (var sub in new[] { "client.sub", TrainingNodes.SubmitFile })
            Assert.Equal(preserved, files[sub].Contains("\npreserve_relative_paths = true\n", StringComparison.Ordinal));
        Assert.DoesNotContain("preserve_relative_paths", files["server.sub"], StringComparison.Ordinal);
        // The training program is given the cache by the same path the job is sent it under.
        if (sent is not null) Assert.Contains($"--fit {sent} ", files[TrainingNodes.SubmitFile], StringComparison.Ordinal);
    }

    [Fact]
    public void A_cache_outside_the_run_directory_is_refused_on_a_transferring_site_and_not_sent_on_a_shared_one()
    {
        foreach (var cache in new[] { ".", "caches/..", "/r/../x.lcf" })
        {
            const string hepcloud = "[site]\nprofile = \"hepcloud\"\n";
            if (cache.StartsWith('/')) Assert.Null(CacheWorkflow(cache, hepcloud).Data.CacheInRunDirectory()); // absolute: the site's to mount
            else Assert.Contains("is not a file inside the run directory", Assert.Throws<BadInputException>(() => CacheWorkflow(cache, hepcloud)).Message, StringComparison.Ordinal);
        }
        WorkflowConfig Outside(string profile) => CacheWorkflow("../frames/o3a.lcf", $"[site]\nprofile = \"{profile}\"\naccounting_group = \"igwn.dev.o4.cbc.allsky.gwrepro\"\n");
        var e = Assert.Throws<BadInputException>(() => Outside("igwn-osg"));
        Assert.Contains("data.cache", e.Message, StringComparison.Ordinal);
        Assert.Contains("'../frames/o3a.lcf' is not a file inside the run directory", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
        var files = DagWriter.Render(TrainingPlanTests.Plan(Outside("ldg")), "/x/gwrepro").ToDictionary(f => f.Key, f => f.Value);
        Assert.Contains("transfer_input_files    = workflow.toml, jobs.csv\n", files["client.sub"], StringComparison.Ordinal);
        Assert.DoesNotContain("preserve_relative_paths", files["client.sub"], StringComparison.Ordinal);
    }

    [Fact]
    public void An_edited_template_that_would_not_send_the_cache_is_refused_on_a_transferring_site_naming_it()
    {
        var dir = Directory.CreateTempSubdirectory("gwrepro-templates-");
        try
        {
            foreach (var name in new[] { "server.sub", "analyze.sub", "dagman.config" }) File.WriteAllText(Path.Combine(dir.FullName, name), "queue\n");
            // A client.sub edited before preserve_relative_paths existed.
            string client = Path.Combine(dir.FullName, "client.sub");
            File.WriteAllText(client, "executable = {{executable}}\nshould_transfer_files = {{should_transfer_files}}\ntransfer_input_files = {{client_inputs}}\nqueue\n");
            JobPlan Plan(string profile, string cache) => TrainingPlanTests.Plan(CacheWorkflow(cache, $"[site]\nprofile = \"{profile}\"\n\n[condor]\ntemplates = \"{dir.FullName}\"\n"));
            var e = Assert.Throws<BadInputException>(() => DagWriter.Render(Plan("hepcloud", "caches/f.lcf"), "/x/gwrepro"));
            Assert.StartsWith($"{client}: no {{{{preserve_relative_paths}}}} placeholder", e.Message, StringComparison.Ordinal);
            Assert.Contains("caches/f.lcf", e.Message, StringComparison.Ordinal);
            // A bare name needs no folders kept, and a shared filesystem sends nothing.
            Assert.NotEmpty(DagWriter.Render(Plan("hepcloud", "f.lcf"), "/x/gwrepro"));
            Assert.NotEmpty(DagWriter.Render(Plan("local", "caches/f.lcf"), "/x/gwrepro"));
        }
        finally { dir.Delete(true); }
    }

    [Fact]
    public async Task Written_directory_holds_the_copies_and_passes_the_checker()
    {
        var dir = Directory.CreateTempSubdirectory("gwrepro-dag-tls-");
        try
        {
            string secrets = Directory.CreateDirectory(Path.Combine(dir.FullName, "wf", "secrets")).FullName;
            foreach (var (name, content) in new[] { ("server.pem", "CERT\n"), ("server.key", "KEY\n"), ("ca.pem", "CA\n"), ("token", "s3cr3t-token\n") })
                File.WriteAllText(Path.Combine(secrets, name), content);
            string text = File.ReadAllText(Data("ldg", "workflow.toml")).Replace("clients_per_server = 4\n", "clients_per_server = 4\n" + TlsKeys);
            foreach (var f in new[] { "H1-science.txt", "L1-science.json", "L1-veto.txt", "frames.lcf" }) File.Copy(Data("ldg", f), Path.Combine(dir.FullName, "wf", f));
            string wf = Path.Combine(dir.FullName, "wf", "workflow.toml");
            File.WriteAllText(wf, text);
            var workflow = WorkflowConfig.Load(wf);
            var plan = JobPlanner.Plan(workflow, JobPlanner.ReadScience(workflow), JobPlanner.FrameCoverage(workflow, GwReprocess.Frames.FrameCache.Read(Path.Combine(dir.FullName, "wf", "frames.lcf"))));
            string run = Path.Combine(dir.FullName, "run");
            var written = await DagWriter.WriteAsync(plan, run, "/opt/gwrepro/bin/gwrepro");
            Assert.Empty(DagChecker.CheckFile(written.DagFile));
            Assert.Equal("CERT\n", File.ReadAllText(Path.Combine(run, RunDirectory.TlsCertName)));
            Assert.Equal("KEY\n", File.ReadAllText(Path.Combine(run, RunDirectory.TlsKeyName)));
            Assert.Equal("CA\n", File.ReadAllText(Path.Combine(run, RunDirectory.TlsCaName)));
            Assert.Equal("s3cr3t-token\n", File.ReadAllText(Path.Combine(run, RunDirectory.TokenName)));
            foreach (var file in Directory.EnumerateFiles(run).Where(f => f.EndsWith(".sub", StringComparison.Ordinal) || f.EndsWith(".dag", StringComparison.Ordinal)))
                Assert.DoesNotContain("s3cr3t", File.ReadAllText(file));

            // A missing file is named with its key before anything is written.
            File.Delete(Path.Combine(secrets, "server.key"));
            string other = Path.Combine(dir.FullName, "run2");
            var e = await Assert.ThrowsAsync<BadInputException>(() => DagWriter.WriteAsync(plan, other, "/opt/gwrepro/bin/gwrepro"));
            Assert.Equal($"{wf}: inference.tls_key: {Path.Combine(dir.FullName, "wf", "secrets/server.key")}: no such file", e.Message);
            Assert.False(File.Exists(Path.Combine(other, RunDirectory.DagName)));
        }
        finally { dir.Delete(true); }
    }
}
