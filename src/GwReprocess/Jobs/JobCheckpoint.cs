using System.Globalization;
using System.Text;
using GwReprocess.Storage;
using GwReprocess.Time;

namespace GwReprocess.Jobs;

/// <summary>A job's progress in its output prefix: which output frames are committed, and whether the job is done.</summary>
/// <remarks>
/// Keys: <c>progress/&lt;job&gt;/&lt;gpsstart&gt;-&lt;duration&gt;</c> per committed frame (written after the frame itself is
/// committed, so a marker never points at a missing file) and <c>done/&lt;job&gt;</c> when all are; <c>gwrepro dag</c> marks
/// jobs with a done marker DONE when it regenerates a DAG. A restarted job (DAG retry, preemption) skips committed frames
/// and resumes at the first missing one.
/// </remarks>
public sealed class JobCheckpoint(IBucket bucket, string outputPrefix, string job)
{
    private readonly string _prefix = BucketUri.AsPrefix(outputPrefix);

    private string ProgressPrefix => $"{_prefix}progress/{job}/";

    /// <summary>The key of the job's done marker.</summary>
    public string DoneKey => $"{_prefix}done/{job}";

    /// <summary>Records that the output frame spanning <paramref name="frame"/> is committed.</summary>
    public async Task MarkCommittedAsync(Segment frame, CancellationToken cancellationToken = default) =>
        await bucket.PutIfAbsentAsync(ProgressPrefix + Name(frame), Encoding.UTF8.GetBytes(Stamp()), cancellationToken).ConfigureAwait(false);

    /// <summary>The output frames already committed, in time order.</summary>
    public async Task<SegmentList> CommittedAsync(CancellationToken cancellationToken = default)
    {
        var frames = new List<Segment>();
        await foreach (var o in bucket.ListAsync(ProgressPrefix, cancellationToken).ConfigureAwait(false))
        {
            string name = o.Key[ProgressPrefix.Length..];
            int dash = name.IndexOf('-');
            if (dash <= 0 || !GpsTime.TryParse(name[..dash], out var start) || !GpsDuration.TryParse(name[(dash + 1)..], out var duration))
                throw new BadInputException($"{bucket.UriOf(o.Key)}: not a progress marker (expected <gpsstart>-<duration>)");
            frames.Add(Segment.FromStart(start, duration));
        }
        return new SegmentList(frames);
    }

    /// <summary>The first frame of <paramref name="frames"/> (the job's output frames in order) not yet committed, or null when all are.</summary>
    public async Task<int?> FirstMissingAsync(IReadOnlyList<Segment> frames, CancellationToken cancellationToken = default)
    {
        var committed = (await CommittedAsync(cancellationToken).ConfigureAwait(false)).ToHashSet();
        for (int i = 0; i < frames.Count; i++)
            if (!committed.Contains(frames[i])) return i;
        return null;
    }

    /// <summary>True when the job finished in an earlier attempt.</summary>
    public Task<bool> IsDoneAsync(CancellationToken cancellationToken = default) => bucket.ExistsAsync(DoneKey, cancellationToken);

    /// <summary>Marks the whole job done.</summary>
    public async Task MarkDoneAsync(CancellationToken cancellationToken = default) =>
        await bucket.PutIfAbsentAsync(DoneKey, Encoding.UTF8.GetBytes(Stamp()), cancellationToken).ConfigureAwait(false);

    private static string Name(Segment frame) => $"{frame.Start}-{frame.Duration}";

    private static string Stamp() => string.Create(CultureInfo.InvariantCulture,
        $"{Environment.MachineName} {Environment.ProcessId} {DateTimeOffset.UtcNow:O}");
}
