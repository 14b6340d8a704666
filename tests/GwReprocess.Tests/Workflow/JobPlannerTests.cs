using GwReprocess.Simulation;
using GwReprocess.Time;
using GwReprocess.Workflow;

namespace GwReprocess.Tests.Workflow;

/// <summary>Jobs on the input frame grid: each job owns whole input files, cut only at science segment edges.</summary>
public class JobPlannerTests
{
    private static Segment S(long a, long b) => new(a, b);

    private static GpsDuration D(long s) => GpsDuration.FromSeconds(s);

    [Fact]
    public void The_local_demo_plans_jobs_of_whole_input_files_and_cuts_only_the_segment_edges()
    {
        var w = WorkflowConfig.Load(Path.Combine(ShippedWorkflowsTests.WorkflowsDirectory(), "local-demo.toml"));
        var plan = JobPlanner.PlanFromFiles(w);
        Assert.True(plan.OnFrameGrid);
        // Input files: [0, 512) then 1024 s files on GPS multiples of 1024, the last cut at the span's end (offsets from 1000000000).
        var files = SimulationRun.FileSpans(WorkflowSimulation.Options(w), "H1");
        Assert.Equal([S(1000000000, 1000000512), S(1000000512, 1000001536), S(1000001536, 1000002560), S(1000002560, 1000003584), S(1000003584, 1000003600)], files);
        // About 1024 s each, rounded to whole files; the 16 s of padding at each edge of the one science segment is not owned.
        Assert.Equal([S(1000000016, 1000001536), S(1000001536, 1000002560), S(1000002560, 1000003584)], plan.Jobs.Select(j => j.Core));
        Assert.Equal(["clean_H1L1_1000000016_1520", "clean_H1L1_1000001536_1024", "clean_H1L1_1000002560_1024"], plan.Jobs.Select(j => j.Name));

        // The pieces the clients write (each input file ∩ its job's core) are the input files, but at the two edges.
        var pieces = plan.Jobs.SelectMany(j => files.Select(f => f.Intersect(j.Core)).OfType<Segment>().Where(p => !p.IsEmpty)).ToList();
        Assert.Equal([S(1000000016, 1000000512), S(1000000512, 1000001536), S(1000001536, 1000002560), S(1000002560, 1000003584)], pieces);
    }

    [Fact]
    public void Chunking_on_a_grid_cuts_at_the_file_nearest_the_job_length_and_never_leaves_a_sliver()
    {
        var cuts = new[] { 0L, 100, 1100, 2100, 2150, 3000 }.Select(t => GpsTime.FromSeconds(t)).ToList();
        // Usable [8, 2992): from 8, the cut nearest 1008 is 1100; from 1100, 2100 (2150 is farther); from 2100 the rest
        // (892 s) is within the length. The cut at 100 would leave a 92 s job, under the minimum.
        var chunks = new SegmentList([S(0, 3000)]).Chunk(D(1000), D(300), D(8), cuts);
        Assert.Equal([S(8, 1100), S(1100, 2100), S(2100, 2992)], chunks.Select(c => c.Core));
        Assert.All(chunks, c => Assert.Equal(c.Core.Protract(D(8)), c.Padded));

        // A cut leaving less than the minimum before the segment's end is skipped; with no usable cut the stretch is one job.
        Assert.Equal([S(8, 2992)], new SegmentList([S(0, 3000)]).Chunk(D(1000), D(300), D(8), [GpsTime.FromSeconds(2900)]).Select(c => c.Core));
        // Equally near cuts: the earlier one.
        Assert.Equal([S(0, 900), S(900, 2000)], new SegmentList([S(0, 2000)]).Chunk(D(1000), D(300), D(0), [GpsTime.FromSeconds(900), GpsTime.FromSeconds(1100)]).Select(c => c.Core));
        // Segments too short for a job yield none, as without a grid.
        Assert.Empty(new SegmentList([S(0, 200)]).Chunk(D(1000), D(300), D(8), cuts));
    }

    [Fact]
    public void Without_a_file_list_jobs_are_cut_every_job_length_as_before()
    {
        var w = WorkflowConfig.Parse(File.ReadAllText(Path.Combine(ShippedWorkflowsTests.WorkflowsDirectory(), "local-demo.toml")), "w.toml");
        var plan = JobPlanner.Plan(w);
        Assert.False(plan.OnFrameGrid);
        Assert.Equal([S(1000000016, 1000001040), S(1000001040, 1000002064), S(1000002064, 1000003088), S(1000003088, 1000003584)], plan.Jobs.Select(j => j.Core));
    }
}
