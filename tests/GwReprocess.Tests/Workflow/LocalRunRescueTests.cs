using GwReprocess.Workflow;

namespace GwReprocess.Tests.Workflow;

/// <summary>
/// <c>gwrepro run</c>'s two resume mechanisms agree: the DAG regenerated from committed outputs (DONE jobs) and the
/// rescue DAG the executor applies after it. A rescue DAG that claims more than the outputs hold is set aside.
/// </summary>
public sealed class LocalRunRescueTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("gwrepro-rescue-");

    public void Dispose() => _dir.Delete(true);

    private string P(string name) => Path.Combine(_dir.FullName, name);

    private const string Workflow = """
        [run]
        name = "tiny"

        [data]
        source = "simulated"
        start = 1000000000
        end = 1000000064

        [data.simulate]
        frame_length = 32
        directory = "frames"

        [detectors.H1]
        strain = "H1:GDS-CALIB_STRAIN"
        witnesses = ["H1:PEM-CS_MAINSMON_EBAY_1_DQ"]

        [jobs]
        length = 24
        minimum = 16
        padding = 8

        [inference]
        model_repository = "models"
        ensemble = "gwe2e"
        rate = 16
        batch = 8

        [outputs]
        uri = "out"

        """;

    private async Task<(LocalRun Run, IReadOnlyList<string> Jobs)> WriteDag()
    {
        File.WriteAllText(P("w.toml"), Workflow);
        var run = LocalRun.Create(P("w.toml"), P("run"));
        var (plan, _) = await run.WriteDagAsync("/usr/bin/gwrepro", CancellationToken.None);
        return (run, plan.Jobs.Select(j => j.Name).ToList());
    }

    private void Commit(string job)
    {
        Directory.CreateDirectory(P("run/out/done"));
        File.WriteAllText(P("run/out/done/" + job), "");
    }

    private void WriteRescue(int number, params string[] done) =>
        File.WriteAllText(P($"run/reprocess.dag.rescue{number:D3}"), RescueDag.Format("reprocess.dag", DateTime.UtcNow, 3, done, []));

    [Fact]
    public async Task A_rescue_dag_that_repeats_the_committed_outputs_is_resumed_from()
    {
        var (_, jobs) = await WriteDag();
        Assert.True(jobs.Count >= 2);
        Commit(jobs[0]);
        var (run, _) = await WriteDag();
        WriteRescue(1, jobs[0]);
        var r = run.ReconcileRescues();
        Assert.Equal(P("run/reprocess.dag.rescue001"), r.Applies);
        Assert.Null(r.Disagreement);
        Assert.Empty(r.SetAside);
        Assert.True(File.Exists(P("run/reprocess.dag.rescue001")));
    }

    [Fact]
    public async Task A_rescue_dag_claiming_a_job_whose_outputs_are_gone_is_set_aside_like_condor_submit_dag_force()
    {
        var (run, jobs) = await WriteDag();
        WriteRescue(1, jobs[0]);
        WriteRescue(2, jobs[0], jobs[1]);
        var r = run.ReconcileRescues();
        Assert.Null(r.Applies);
        Assert.Equal($"reprocess.dag.rescue002: it marks {jobs[0]} DONE but its outputs are not committed (no done/{jobs[0]} under out)", r.Disagreement);
        Assert.Equal([P("run/reprocess.dag.rescue001.old"), P("run/reprocess.dag.rescue002.old")], r.SetAside);
        Assert.Empty(DagFile.RescueFiles(run.DagFile));

        // The executor then runs from the regenerated DAG alone (nothing to apply), and a failure numbers its rescue 001 again.
        Assert.Equal(P("run/reprocess.dag.rescue001"), RescueDag.NextPath(run.DagFile));
    }

    [Fact]
    public async Task A_rescue_dag_of_another_workflow_is_set_aside()
    {
        var (run, _) = await WriteDag();
        WriteRescue(1, "clean_H1_999_24");
        var r = run.ReconcileRescues();
        Assert.Equal("reprocess.dag.rescue001: it marks clean_H1_999_24 DONE, a node the DAG written from the workflow does not have", r.Disagreement);
        Assert.Single(r.SetAside);
    }

    [Fact]
    public async Task No_rescue_dag_nothing_to_reconcile()
    {
        var (run, _) = await WriteDag();
        var r = run.ReconcileRescues();
        Assert.Null(r.Applies);
        Assert.Null(r.Disagreement);
        Assert.Empty(r.SetAside);
    }
}
