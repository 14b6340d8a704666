using System.Text;
using GwReprocess.Data;
using GwReprocess.Frames;
using GwReprocess.Time;
using GwReprocess.Workflow;

namespace GwReprocess.Analysis;

/// <summary>
/// The run-level index of a run's outputs, so the next step (a search, gwpy, a data-discovery server) need not glob:
/// per detector a LAL cache of the committed cleaned frames (<c>cleaned/IFO.lcf</c>) and a segment file of the time they
/// cover (<c>cleaned/IFO-cleaned-segments.txt</c>), and a LAL cache of the committed score files (<c>scores/index.lcf</c>).
/// </summary>
/// <remarks>
/// Written once after the jobs (by <c>gwrepro analyze</c>, the DAG's FINAL node), each file in one atomic put, from the
/// outputs present alone, so writing it again over the same outputs gives the same bytes. A file counts only when a
/// job's progress marker says it is committed.
/// </remarks>
public static class OutputCatalog
{
    /// <summary>The cache of a detector's cleaned frames, relative to the outputs.</summary>
    public static string CacheName(string ifo) => $"cleaned/{ifo}.lcf";

    /// <summary>The segment file of a detector's cleaned time, relative to the outputs (plain <c>start end</c> lines).</summary>
    public static string SegmentFileName(string ifo) => $"cleaned/{ifo}-cleaned-segments.txt";

    /// <summary>The cache of the score files, relative to the outputs.</summary>
    public const string ScoresCacheName = "scores/index.lcf";

    /// <summary>Writes the caches and segment files of <paramref name="workflow"/>'s outputs and returns each detector's coverage of <paramref name="plan"/>.</summary>
    public static async Task<IReadOnlyList<DetectorCoverage>> WriteAsync(RunOutputs outputs, WorkflowConfig workflow, JobPlan plan, CancellationToken cancellationToken)
    {
        var committed = await CommittedAsync(outputs, cancellationToken).ConfigureAwait(false);
        var planned = new SegmentList(plan.Jobs.Select(j => j.Core)).Coalesce();
        var scores = await CommittedFilesAsync(outputs, "scores/", ".h5", committed, cancellationToken).ConfigureAwait(false);
        var scoreCache = new FrameCache(scores.Select(f => new FrameCacheEntry(f.Name.Observatory, f.Name.FrameType, f.Name.Span, outputs.LocationOf(f.Key))));
        var result = new List<DetectorCoverage>();
        foreach (var d in workflow.Detectors)
        {
            var files = await CommittedFilesAsync(outputs, $"cleaned/{d.Ifo}/", ".gwf", committed, cancellationToken).ConfigureAwait(false);
            var cache = new FrameCache(files.Select(f => new FrameCacheEntry(f.Name.Observatory, f.Name.FrameType, f.Name.Span, outputs.LocationOf(f.Key))));
            var cleaned = cache.Coverage();
            await outputs.WriteTextAsync(CacheName(d.Ifo), cache.Format(), cancellationToken).ConfigureAwait(false);
            await outputs.WriteTextAsync(SegmentFileName(d.Ifo), SegmentFile.Format(cleaned, SegmentFileFormat.Plain), cancellationToken).ConfigureAwait(false);
            var edges = plan.Analyzable.Subtract(planned);
            // A strain-only run cleans nothing by design: its jobs are missing only where their score files are not.
            var missing = planned.Subtract(workflow.StrainOnly ? scoreCache.Coverage() : cleaned);
            var incomplete = plan.Jobs.Where(j => missing.Intersect(new SegmentList([j.Core])).Count > 0).Select(j => j.Name).ToList();
            result.Add(new DetectorCoverage(d.Ifo, plan.Analyzable.TotalDuration.TotalSeconds, cleaned.TotalDuration.TotalSeconds,
                edges.TotalDuration.TotalSeconds, missing.TotalDuration.TotalSeconds, files.Count, CacheName(d.Ifo), SegmentFileName(d.Ifo), incomplete)
            {
                StrainOnly = workflow.StrainOnly,
                SearchedSeconds = scoreCache.Coverage().TotalDuration.TotalSeconds,
                ScoreFiles = scores.Count,
            });
        }
        await outputs.WriteTextAsync(ScoresCacheName, scoreCache.Format(), cancellationToken).ConfigureAwait(false);
        return result;
    }

    /// <summary>Output frame spans some job's progress marker (<c>progress/JOB/START-DURATION</c>) records as committed.</summary>
    private static async Task<HashSet<Segment>> CommittedAsync(RunOutputs outputs, CancellationToken ct)
    {
        var spans = new HashSet<Segment>();
        foreach (var key in await outputs.ListAsync("progress/", "", ct).ConfigureAwait(false))
        {
            string name = key[(key.LastIndexOf('/') + 1)..];
            int dash = name.IndexOf('-');
            if (dash > 0 && GpsTime.TryParse(name[..dash], out var start) && GpsDuration.TryParse(name[(dash + 1)..], out var duration))
                spans.Add(Segment.FromStart(start, duration));
        }
        return spans;
    }

    private static async Task<List<(string Key, FrameFileName Name)>> CommittedFilesAsync(RunOutputs outputs, string prefix, string suffix,
        HashSet<Segment> committed, CancellationToken ct)
    {
        var files = new List<(string, FrameFileName)>();
        foreach (var key in await outputs.ListAsync(prefix, suffix, ct).ConfigureAwait(false))
            if (FrameFileName.TryParse(key) is { } name && committed.Contains(name.Span)) files.Add((key, name));
        // Time order (then name), as a frame cache lists files; keys sort GPS times of different widths wrongly.
        files.Sort((a, b) => a.Item2.Span.CompareTo(b.Item2.Span) is int c && c != 0 ? c : string.CompareOrdinal(a.Item1, b.Item1));
        return files;
    }
}
