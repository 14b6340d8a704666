using GwReprocess.Frames;
using GwReprocess.Tests.Cli;
using GwReprocess.Tests.Frames;
using GwReprocess.Workflow;

namespace GwReprocess.Tests.Workflow;

/// <summary>
/// <c>gwrepro dag</c> on a workflow like workflows/gw150914.toml (relative <c>data.cache</c> and <c>model_repository</c>),
/// written somewhere else: the jobs read the run directory's copy of the workflow, so the cache is copied there with
/// absolute entries, a missing cache is refused before anything is written, and a missing repository is one warning line.
/// </summary>
public sealed class DagRelativePathsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("gwrepro-dag-paths-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private static readonly string[] Files = ["H-H1_LOSC_4_V2-1126259446-32.hdf5", "L-L1_LOSC_4_V2-1126259446-32.hdf5"];

    /// <summary>
    /// _dir/gwosc holds the GWOSC files; _dir/wf the workflow (repository <paramref name="repository"/>) and, when
    /// <paramref name="withCache"/>, its cache naming them relatively (../gwosc/…). Returns the workflow file.
    /// </summary>
    private string Workflow(string repository = "model-repository-strain", bool withCache = true)
    {
        string gwosc = Directory.CreateDirectory(Path.Combine(_dir, "gwosc")).FullName;
        foreach (var f in Files) File.Copy(RealData.PathOf(Path.Combine("gwosc", f)), Path.Combine(gwosc, f), overwrite: true);
        string wf = Directory.CreateDirectory(Path.Combine(_dir, "wf")).FullName;
        if (withCache) File.WriteAllText(Path.Combine(wf, "gw.lcf"), string.Concat(Files.Select(f => $"{f[0]} {f[2..14]} 1126259446 32 ../gwosc/{f}\n")));
        string text = File.ReadAllText(Path.Combine(SourceTree.Root, "workflows", "gw150914.toml"))
            .Replace("cache = \"gw150914.lcf\"", "cache = \"gw.lcf\"", StringComparison.Ordinal)
            .Replace("model_repository = \"model-repository-strain\"", $"model_repository = \"{repository}\"", StringComparison.Ordinal);
        Assert.Contains("cache = \"gw.lcf\"", text);
        string path = Path.Combine(wf, "gw.toml");
        File.WriteAllText(path, text);
        return path;
    }

    private static Task<GwreproProcess.Result> DagAsync(string workflow, string run, string workingDirectory) =>
        GwreproProcess.RunAsync(["dag", workflow, "--out", run, "--executable", "/opt/gwrepro/bin/gwrepro"], workingDirectory, timeout: TimeSpan.FromMinutes(1));

    [Fact]
    public async Task Dag_copies_a_relative_cache_from_beside_the_workflow_with_absolute_entries_and_the_planned_job_reads_it()
    {
        string workflow = Workflow(Path.Combine(SourceTree.Root, "model-repository-strain"));
        string run = Path.Combine(_dir, "run");
        var r = await DagAsync(workflow, run, _dir);
        Assert.True(r.ExitCode == 0, r.StdOut + r.StdErr);
        Assert.Equal("", r.StdErr);
        Assert.Contains($"cache:     {Path.Combine(_dir, "wf", "gw.lcf")} copied to {Path.Combine(run, "gw.lcf")} (its relative file names made absolute)\n", r.StdOut);
        Assert.Equal(Files.Select(f => $"{f[0]} {f[2..14]} 1126259446 32 {Path.Combine(_dir, "gwosc", f)}"), File.ReadAllLines(Path.Combine(run, "gw.lcf")));
        Assert.Empty(DagChecker.CheckFile(Path.Combine(run, RunDirectory.DagName)));

        // The job as the client runs it: the run directory's workflow copy and jobs.csv, nothing beside the original workflow.
        Directory.Delete(Path.Combine(_dir, "wf"), true);
        var copy = WorkflowConfig.Load(Path.Combine(run, RunDirectory.WorkflowName));
        var job = JobPlan.ReadJob(Path.Combine(run, "jobs.csv"), File.ReadAllLines(Path.Combine(run, "jobs.csv"))[1].Split(',')[0]);
        using var opener = new BucketFrameOpener();
        var inputs = await WorkflowClientJob.DetectorInputsAsync(copy, run, job, opener, CancellationToken.None);
        Assert.Equal(["H1", "L1"], inputs.Select(d => d.Ifo));
        for (int i = 0; i < 2; i++)
        {
            string channel = inputs[i].Strain.Value;
            var read = await inputs[i].Frames.ReadAsync([channel], job.Padded);
            var direct = await (await FrameSource.FromFilesAsync([Path.Combine(_dir, "gwosc", Files[i])])).ReadAsync([channel], job.Padded);
            Assert.Equal(32 * 4096, read[channel].Length);
            Assert.Equal(direct[channel].Samples.ToArray(), read[channel].Samples.ToArray());
        }
    }

    [Fact]
    public async Task Dag_takes_a_relative_cache_from_the_current_directory_when_none_is_beside_the_workflow()
    {
        string workflow = Workflow(Path.Combine(SourceTree.Root, "model-repository-strain"), withCache: false);
        string here = Directory.CreateDirectory(Path.Combine(_dir, "here")).FullName;
        File.WriteAllText(Path.Combine(here, "gw.lcf"), string.Concat(Files.Select(f => $"{f[0]} {f[2..14]} 1126259446 32 ../gwosc/{f}\n")));
        string run = Path.Combine(_dir, "run");
        var r = await DagAsync(workflow, run, here);
        Assert.True(r.ExitCode == 0, r.StdOut + r.StdErr);
        Assert.Contains("jobs:      1 client job(s), 10 s of data", r.StdOut);
        Assert.Contains($"cache:     {Path.Combine(here, "gw.lcf")} copied to {Path.Combine(run, "gw.lcf")}", r.StdOut);
        Assert.Equal(Files.Select(f => $"{f[0]} {f[2..14]} 1126259446 32 {Path.Combine(_dir, "gwosc", f)}"), File.ReadAllLines(Path.Combine(run, "gw.lcf")));

        // A second dag of the same run directory plans from its copy and leaves it alone.
        File.Delete(Path.Combine(here, "gw.lcf"));
        r = await DagAsync(workflow, run, here);
        Assert.True(r.ExitCode == 0, r.StdOut + r.StdErr);
        Assert.DoesNotContain("cache:", r.StdOut);
        Assert.Contains("jobs:      1 client job(s), 10 s of data", r.StdOut);
    }

    [Fact]
    public async Task A_cache_found_nowhere_is_one_line_naming_the_workflow_the_key_and_the_paths_and_nothing_is_written()
    {
        string workflow = Workflow(Path.Combine(SourceTree.Root, "model-repository-strain"), withCache: false);
        string run = Path.Combine(_dir, "run");
        var r = await DagAsync(workflow, run, _dir);
        Assert.Equal(2, r.ExitCode);
        Assert.Equal($"gwrepro dag: {workflow}: data.cache 'gw.lcf': no such frame cache at {Path.Combine(run, "gw.lcf")} (the run directory), " +
                     $"{Path.Combine(_dir, "wf", "gw.lcf")} (beside the workflow), {Path.Combine(_dir, "gw.lcf")} (here)\n", r.StdErr);
        Assert.False(Directory.Exists(run));

        // An existing run directory is left as it was.
        Directory.CreateDirectory(run);
        r = await DagAsync(workflow, run, _dir);
        Assert.Equal(2, r.ExitCode);
        Assert.Empty(Directory.EnumerateFileSystemEntries(run));
    }

    [Fact]
    public async Task A_relative_repository_the_run_directory_lacks_is_one_warning_line_with_where_the_servers_look_and_the_fix()
    {
        string workflow = Workflow("models");
        string run = Path.Combine(_dir, "run");
        var r = await DagAsync(workflow, run, _dir);
        Assert.True(r.ExitCode == 0, r.StdOut + r.StdErr);
        Assert.Equal($"warning: {workflow}: inference.model_repository 'models': the server jobs will look for {Path.Combine(run, "models")}, which does not exist; " +
                     "give inference.model_repository as an absolute path, or put the repository there\n", r.StdErr);
        Assert.Contains("--model-repository models ", File.ReadAllText(Path.Combine(run, "server.sub")));

        // A repository beside the workflow that serves it is named in the fix, and not copied.
        string beside = Path.Combine(_dir, "wf", "models");
        TestDirectories.Copy(Path.Combine(SourceTree.Root, "model-repository-strain"), beside);
        r = await DagAsync(workflow, run, _dir);
        Assert.True(r.ExitCode == 0, r.StdOut + r.StdErr);
        Assert.Equal($"warning: {workflow}: inference.model_repository 'models': the server jobs will look for {Path.Combine(run, "models")}, which does not exist; " +
                     $"{beside} serves this workflow: set inference.model_repository = \"{beside}\", or copy it to {Path.Combine(run, "models")}\n", r.StdErr);
        Assert.False(Directory.Exists(Path.Combine(run, "models")));

        // Copied there (as the warning says), no warning.
        TestDirectories.Copy(beside, Path.Combine(run, "models"));
        r = await DagAsync(workflow, run, _dir);
        Assert.True(r.ExitCode == 0, r.StdOut + r.StdErr);
        Assert.Equal("", r.StdErr);
    }

    [Fact]
    public async Task The_written_run_directory_runs_its_nodes_once_the_repository_is_put_where_the_warning_says()
    {
        string workflow = Workflow("model-repository-strain");
        string run = Path.Combine(_dir, "run");
        var r = await DagAsync(workflow, run, _dir);
        Assert.True(r.ExitCode == 0, r.StdOut + r.StdErr);
        Assert.StartsWith($"warning: {workflow}: inference.model_repository 'model-repository-strain': the server jobs will look for {Path.Combine(run, "model-repository-strain")}", r.StdErr);
        TestDirectories.Copy(Path.Combine(SourceTree.Root, "model-repository-strain"), Path.Combine(run, "model-repository-strain"));
        Directory.Delete(Path.Combine(_dir, "wf"), true);

        // The nodes as DAGMan would start them (a submit file's gwrepro is this one), in the run directory, from its copies alone.
        var nodes = await GwreproProcess.RunAsync(["run", "--dag", Path.Combine(run, RunDirectory.DagName), "--stop-grace", "10"], _dir, timeout: TimeSpan.FromMinutes(4));
        Assert.True(nodes.ExitCode == 0, nodes.StdOut + nodes.StdErr);
        Assert.Contains("run: 1 of 1 client job(s) complete (1 run, 0 done before), 0 failed, 0 not run; final node analyze succeeded", nodes.StdOut);
        Assert.True(File.Exists(Path.Combine(run, "gw150914-out", "done", "search_H1L1_1126259457_10")));
        Assert.Equal(["H1L1-CLEAN_SCORES-1126259457-10.h5"], Directory.GetFiles(Path.Combine(run, "gw150914-out", "scores"), "*.h5").Select(Path.GetFileName));
    }

    [Fact]
    public void The_run_directory_decides_relative_paths_and_absolute_ones_pass_through()
    {
        var w = WorkflowConfig.Load(Workflow("models"));
        var inputs = new RunInputs(w, Path.Combine(_dir, "run"));
        Assert.Equal(Path.Combine(_dir, "run", "gw.lcf"), inputs.Cache);
        Assert.Equal(Path.Combine(_dir, "run", "gw150914-out"), inputs.Outputs);
        Assert.Equal(Path.Combine(_dir, "run", "models"), inputs.ModelRepository);
        Assert.Equal([Path.Combine(_dir, "wf", "gw.lcf"), Path.Combine(Directory.GetCurrentDirectory(), "gw.lcf")], RunInputs.BesideWorkflowOrHere(w, "gw.lcf"));
        Assert.Empty(RunInputs.BesideWorkflowOrHere(w, "/abs/gw.lcf"));
        Assert.Empty(RunInputs.BesideWorkflowOrHere(w, "s3://bucket/gw.lcf"));
        // Without a run directory (gwrepro dag --dry-run, no --out) they are taken beside the workflow.
        Assert.Equal(Path.Combine(_dir, "wf", "gw.lcf"), new RunInputs(w, null).FindCache());
    }
}
