using GwReprocess.Workflow;

namespace GwReprocess.Tests.Workflow;

/// <summary>What a workflow makes of one client job, as <c>gwrepro client</c> asks the library for it.</summary>
public sealed class WorkflowClientJobTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("gwrepro-client-job-");

    public void Dispose() => _dir.Delete(true);

    private string JobsCsv(int jobs)
    {
        string path = Path.Combine(_dir.FullName, $"jobs-{jobs}.csv");
        File.WriteAllLines(path, ["name,start,end", .. Enumerable.Range(0, jobs).Select(i => $"job{i},{i},{i + 1}"), ""]);
        return path;
    }

    [Fact]
    public void The_barrier_waits_for_the_clients_that_can_run_at_once_not_for_every_job()
    {
        string path = Path.Combine(_dir.FullName, "w.toml");
        File.WriteAllText(path, RunEndToEndTests.Workflow);
        var workflow = WorkflowConfig.Load(path); // one server, two clients per server
        Assert.Equal(2, WorkflowClientJob.Barrier(workflow, JobsCsv(5)).Expected);
        Assert.Equal(1, WorkflowClientJob.Barrier(workflow, JobsCsv(1)).Expected);
        Assert.Equal(1, WorkflowClientJob.Barrier(workflow, JobsCsv(0)).Expected);
        Assert.Equal(workflow.Barrier.Mode, WorkflowClientJob.Barrier(workflow, JobsCsv(5)).Mode);
    }

    [Fact]
    public async Task Each_detector_reads_only_its_own_simulated_frames()
    {
        string path = Path.Combine(_dir.FullName, "w.toml");
        File.WriteAllText(path, RunEndToEndTests.Workflow);
        var workflow = WorkflowConfig.Load(path);
        string frames = Directory.CreateDirectory(Path.Combine(_dir.FullName, "frames")).FullName;
        File.WriteAllText(Path.Combine(frames, "H1.lcf"), $"H H1_SIM 1000000000 32 file://localhost{frames}/H-H1_SIM-1000000000-32.gwf\n");
        File.WriteAllText(Path.Combine(frames, "L1.lcf"), $"L L1_SIM 1000000000 32 file://localhost{frames}/L-L1_SIM-1000000000-32.gwf\n");
        var job = new GwReprocess.Jobs.JobSpec("j", default, default, 0, 1);
        using var opener = new GwReprocess.Frames.BucketFrameOpener();
        var inputs = await WorkflowClientJob.DetectorInputsAsync(workflow, _dir.FullName, job, opener, CancellationToken.None);
        Assert.Equal(["H1", "L1"], inputs.Select(d => d.Ifo));
        Assert.All(inputs, d => Assert.Equal(d.Ifo, Assert.Single(d.Frames.Cache.Entries).Observatory + "1"));

        File.Delete(Path.Combine(frames, "L1.lcf"));
        var e = await Assert.ThrowsAsync<BadInputException>(() => WorkflowClientJob.DetectorInputsAsync(workflow, _dir.FullName, job, opener, CancellationToken.None));
        Assert.Contains("no frame cache for L1", e.Message);
    }
}
