using GwReprocess.Frames;
using GwReprocess.Jobs;
using GwReprocess.Simulation;
using GwReprocess.Time;

namespace GwReprocess.Workflow;

/// <summary>Turns a workflow into jobs: science segments ∩ span ∩ frame availability, chunked (at input file boundaries where the files are known) and padded, balanced across servers.</summary>
public static class JobPlanner
{
    /// <summary>
    /// Plans the jobs. <paramref name="science"/> holds each detector's science segments (vetoes already
    /// removed), or null where the workflow gives none (all of the span counts); <paramref name="frames"/>
    /// holds the time frame files cover, or null when it is not known in advance (simulated data). <paramref name="files"/>
    /// holds the first detector's input file spans (the files the client cuts its output frames from): when given, jobs
    /// own whole files and are cut only at file boundaries, so each cleaned frame has its input file's span and one job
    /// writes it (except at a segment's padded edges); when null (files not listed at plan time), jobs are cut every
    /// <c>[jobs] length</c> as before and cleaned frames are cut at job boundaries too.
    /// </summary>
    public static JobPlan Plan(WorkflowConfig workflow, IReadOnlyDictionary<string, SegmentList>? science = null, SegmentList? frames = null,
        IReadOnlyList<Segment>? files = null)
    {
        var analyzable = new SegmentList([workflow.Data.Span]);
        foreach (var detector in workflow.Detectors)
            if (science is not null && science.TryGetValue(detector.Ifo, out var s))
                analyzable = analyzable.Intersect(s);
        if (frames is not null) analyzable = analyzable.Intersect(frames);

        // deepclean-prod's rule: a segment too short to train on is not cleaned either.
        if (workflow.Training is { } training)
            analyzable = new SegmentList(analyzable.Coalesce().Where(s => s.Duration >= training.Minimum));
        var layout = workflow.Jobs;
        var chunks = files is null
            ? analyzable.Chunk(layout.Length, layout.Minimum, layout.Padding)
            : analyzable.Chunk(layout.Length, layout.Minimum, layout.Padding, files.SelectMany(f => new[] { f.Start, f.End }).ToList());
        var jobs = new List<JobSpec>(chunks.Count);
        int servers = Math.Max(1, workflow.Inference.ServerCount);
        string tag = workflow.IfoTag;
        for (int i = 0; i < chunks.Count; i++)
        {
            var c = chunks[i];
            // Sequence ids must be unique among the streams a server holds at once; jobs never share a
            // start time, and a retried job reuses its id (its START flag resets the state anyway).
            ulong sequence = (ulong)Math.Max(1, c.Core.Start.Seconds);
            jobs.Add(new JobSpec(NodeNames.Client(tag, c.Core, workflow.StrainOnly), c.Core, c.Padded, i % servers, sequence));
        }
        return new JobPlan(workflow, analyzable, jobs) { OnFrameGrid = files is not null };
    }

    /// <summary>
    /// Plans a workflow from the files it names: science and veto segments, and, for a LAL cache or simulated data, the
    /// frame files (a cache's coverage limits the analyzable time; the files' boundaries place the jobs). A bucket's files
    /// are not listed at plan time, so its jobs are not aligned to them. <paramref name="cache"/>, when given, is the LAL cache
    /// to read instead of <c>data.cache</c> beside the workflow (the run directory's, which the jobs read: <see cref="RunInputs.FindCache"/>).
    /// </summary>
    public static JobPlan PlanFromFiles(WorkflowConfig workflow, string? cache = null)
    {
        SegmentList? frames = null;
        IReadOnlyList<Segment>? files = null;
        string first = workflow.Detectors[0].Ifo;
        switch (workflow.Data.Kind)
        {
            case DataSourceKind.Cache:
            {
                string baseDir = Path.GetDirectoryName(Path.GetFullPath(workflow.SourcePath)) ?? ".";
                var entries = FrameCache.Read(cache ?? Path.Combine(baseDir, workflow.Data.Cache!));
                frames = FrameCoverage(workflow, entries);
                files = entries.Entries.Where(e => e.Observatory.Contains(first[0], StringComparison.Ordinal)).Select(e => e.Span).ToList();
                break;
            }
            case DataSourceKind.Simulated:
                // The simulator's file spans are a function of the workflow alone, so they are known before the frames exist.
                files = SimulationRun.FileSpans(WorkflowSimulation.Options(workflow), first);
                break;
        }
        return Plan(workflow, ReadScience(workflow), frames, files);
    }

    /// <summary>Reads the science and veto segment files a workflow names, relative to the workflow file.</summary>
    public static Dictionary<string, SegmentList> ReadScience(WorkflowConfig workflow)
    {
        var result = new Dictionary<string, SegmentList>();
        string baseDir = Path.GetDirectoryName(Path.GetFullPath(workflow.SourcePath)) ?? ".";
        foreach (var d in workflow.Detectors)
        {
            if (d.Segments is null) continue;
            var segments = SegmentFile.Read(Path.Combine(baseDir, d.Segments)).Coalesce();
            foreach (var veto in d.Vetoes) segments = segments.Subtract(SegmentFile.Read(Path.Combine(baseDir, veto)));
            result[d.Ifo] = segments;
        }
        return result;
    }

    /// <summary>Frame coverage common to every detector from a LAL cache (entries are matched to detectors by observatory letter).</summary>
    public static SegmentList FrameCoverage(WorkflowConfig workflow, FrameCache cache)
    {
        SegmentList? common = null;
        foreach (var d in workflow.Detectors)
        {
            var mine = new FrameCache(cache.Entries.Where(e => e.Observatory.Contains(d.Ifo[0], StringComparison.Ordinal))).Coverage();
            common = common is null ? mine : common.Intersect(mine);
        }
        return common ?? SegmentList.Empty;
    }
}
