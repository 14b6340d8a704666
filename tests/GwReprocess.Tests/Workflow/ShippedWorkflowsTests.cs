using GwReprocess.Workflow;

namespace GwReprocess.Tests.Workflow;

public class ShippedWorkflowsTests
{
    /// <summary>The repository's workflows/ folder (found by walking up to the solution file).</summary>
    public static string WorkflowsDirectory() => Path.Combine(SourceTree.Root, "workflows");

    public static IEnumerable<object[]> Files() =>
        Directory.GetFiles(WorkflowsDirectory(), "*.toml").Order().Select(f => new object[] { Path.GetFileName(f) });

    [Theory]
    [MemberData(nameof(Files))]
    public void Every_shipped_workflow_is_valid_and_plans(string file)
    {
        var w = WorkflowConfig.Load(Path.Combine(WorkflowsDirectory(), file));
        // The cleaning workflows name DeepClean's 21 witnesses; the strain-only searches (local-search, gw150914) none.
        int witnesses = w.Detectors[0].Witnesses.Count;
        Assert.Contains(witnesses, new[] { 0, 21 });
        Assert.All(w.Detectors, d => Assert.Equal(witnesses, d.Witnesses.Count));
        var plan = JobPlanner.Plan(w);
        Assert.NotEmpty(plan.Jobs);
        var dag = DagWriter.Render(plan, "/opt/gwrepro/bin/gwrepro");
        Assert.Empty(DagChecker.Check(dag[0].Value, file, out _));
    }

    [Fact]
    public void Hepcloud_studies_scale_servers_with_gpus()
    {
        foreach (var (gpus, servers) in new[] { (4, 1), (40, 10), (80, 20) })
        {
            var w = WorkflowConfig.Load(Path.Combine(WorkflowsDirectory(), $"hepcloud-scaling-{gpus}gpu.toml"));
            Assert.Equal(servers, w.Inference.Servers);
            Assert.Equal(gpus, w.Inference.Servers * w.Inference.GpusPerServer);
            Assert.Equal(100, w.Inference.ClientsPerServer);
            Assert.Equal(98304, w.Data.Span.Duration.TotalSeconds);
        }
    }
}
