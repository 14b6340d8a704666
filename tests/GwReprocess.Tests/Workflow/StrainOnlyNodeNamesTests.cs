using GwReprocess.Time;
using GwReprocess.Workflow;

namespace GwReprocess.Tests.Workflow;

/// <summary>A strain-only workflow's client nodes clean nothing, so they are named <c>search_…</c>; a cleaning workflow's keep <c>clean_…</c>.</summary>
public sealed class StrainOnlyNodeNamesTests
{
    private static WorkflowConfig Shipped(string file) => WorkflowConfig.Load(Path.Combine(SourceTree.Root, "workflows", file));

    [Fact]
    public void A_client_node_is_search_for_a_strain_only_workflow_and_clean_otherwise()
    {
        var core = new Segment(GpsTime.Parse("1126259457"), GpsTime.Parse("1126259467.5"));
        Assert.Equal("search_H1L1_1126259457_10p5", NodeNames.Client("H1L1", core, strainOnly: true));
        Assert.Equal("clean_H1L1_1126259457_10p5", NodeNames.Client("H1L1", core));
        Assert.True(NodeNames.IsValidToken(NodeNames.Client("H1L1", core, strainOnly: true)));
        Assert.False(NodeNames.IsTraining(NodeNames.Client("H1L1", core, strainOnly: true)));
    }

    [Fact]
    public async Task Gw150914_plans_a_search_node_that_the_dag_checker_accepts_and_jobs_csv_round_trips()
    {
        var w = Shipped("gw150914.toml");
        Assert.True(w.StrainOnly);
        var plan = JobPlanner.PlanFromFiles(w);
        Assert.Equal(["search_H1L1_1126259457_10"], plan.Jobs.Select(j => j.Name));
        var files = DagWriter.Render(plan, "/opt/gwrepro/bin/gwrepro").ToDictionary(f => f.Key, f => f.Value);
        string dag = files[RunDirectory.DagName];
        Assert.Contains("JOB search_H1L1_1126259457_10 client.sub\n" +
                        "VARS search_H1L1_1126259457_10 jobname=\"search_H1L1_1126259457_10\" server=\"server_0\"\n" +
                        "RETRY search_H1L1_1126259457_10 3 UNLESS-EXIT 2\n" +
                        "CATEGORY search_H1L1_1126259457_10 clients\n", dag);
        Assert.DoesNotContain("clean_", dag);
        Assert.Empty(DagChecker.Check(dag, "gw150914.dag", out _));

        var dir = Directory.CreateTempSubdirectory("gwrepro-search-names-");
        try
        {
            var run = await DagWriter.WriteAsync(plan, dir.FullName, "/opt/gwrepro/bin/gwrepro", new HashSet<string> { "search_H1L1_1126259457_10" });
            Assert.Empty(DagChecker.CheckFile(run.DagFile));
            Assert.Contains("JOB search_H1L1_1126259457_10 client.sub DONE\n", File.ReadAllText(run.DagFile));
            Assert.Equal(plan.Jobs[0], JobPlan.ReadJob(Path.Combine(dir.FullName, "jobs.csv"), "search_H1L1_1126259457_10"));
        }
        finally { dir.Delete(true); }
    }

    [Theory]
    [InlineData("local-search.toml", "search_")]
    [InlineData("local-demo.toml", "clean_")]
    [InlineData("ldg-o3-deepclean.toml", "clean_")]
    public void Every_client_node_of_a_shipped_workflow_has_the_prefix_of_what_it_does(string file, string prefix)
    {
        var plan = JobPlanner.Plan(Shipped(file));
        Assert.NotEmpty(plan.Jobs);
        Assert.All(plan.Jobs, j => Assert.StartsWith(prefix, j.Name, StringComparison.Ordinal));
    }
}
