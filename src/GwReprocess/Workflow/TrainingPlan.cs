using GwReprocess.Jobs;
using GwReprocess.Models;
using GwReprocess.Time;

namespace GwReprocess.Workflow;

/// <summary>
/// Which model cleans which client job when a workflow trains (<c>[training]</c>): the planned jobs grouped into chunks of at
/// most <c>chunk</c> seconds per analyzable segment, each with its training span, by deepclean-prod's rules.
/// </summary>
/// <remarks>
/// <para>Chunks are made of whole client jobs (greedily, in time order, while the chunk's span from its first job's start
/// stays within <c>chunk</c> seconds), so every job streams to one model version. A segment's first chunk trains on the
/// segment's own first min(<c>span</c>, length / 2) seconds; each later chunk on the <c>span</c> seconds before its first
/// job (never before the segment's start).</para>
/// <para>Unlike deepclean-prod's short-segment rule, which leaves the training span uncleaned, the jobs clean all of the
/// analyzable time, the training span included (in-sample there), so the cleaned output covers every analyzable second;
/// judge the cleaning outside training spans. Segments shorter than <c>minimum</c> were dropped by the planner.</para>
/// </remarks>
public sealed record TrainingPlan(IReadOnlyList<TrainingSpan> Spans)
{
    /// <summary>The chunks of <paramref name="plan"/> (whose workflow has <c>[training]</c>), in time order.</summary>
    public static TrainingPlan Create(JobPlan plan)
    {
        var w = plan.Workflow;
        var t = w.Training ?? throw new InvalidOperationException("the workflow has no [training]");
        var spans = new List<TrainingSpan>();
        var jobs = plan.Jobs.OrderBy(j => j.Core.Start).ToList();
        int next = 0;
        foreach (var segment in plan.Analyzable.Coalesce())
        {
            bool first = true;
            var half = GpsDuration.FromNanoseconds(segment.Duration.TotalNanoseconds / 2);
            while (next < jobs.Count && segment.Contains(jobs[next].Core))
            {
                var start = jobs[next].Core.Start;
                var members = new List<JobSpec> { jobs[next++] };
                while (next < jobs.Count && segment.Contains(jobs[next].Core) && jobs[next].Core.End - start <= t.Chunk) members.Add(jobs[next++]);
                var train = first
                    ? Segment.FromStart(segment.Start, (t.Span <= half ? t.Span : half))
                    : new Segment(GpsTime.Max(segment.Start, start - t.Span), start);
                first = false;
                var validation = t.Validation ?? GpsDuration.FromSeconds(Math.Floor(train.Duration.TotalSeconds / 4));
                if (validation >= train.Duration)
                    throw new BadInputException($"{w.SourcePath}: training.validation: {validation} s is not shorter than the {train.Duration} s training span {train} of the chunk starting {start}");
                long version = t.VersionBase + spans.Count + 1;
                spans.Add(new TrainingSpan(version, train, validation, members, PinnedEnsemble.NameOf(w.Inference.Ensemble, version)));
            }
        }
        if (next != jobs.Count) throw new InvalidOperationException($"job {jobs[next].Name} lies in no analyzable segment");
        return new TrainingPlan(spans);
    }

    /// <summary>The chunk a job belongs to, by job name.</summary>
    public IReadOnlyDictionary<string, TrainingSpan> ByJob()
    {
        var map = new Dictionary<string, TrainingSpan>(StringComparer.Ordinal);
        foreach (var s in Spans)
            foreach (var j in s.Jobs) map[j.Name] = s;
        return map;
    }

}
