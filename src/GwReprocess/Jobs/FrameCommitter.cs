using System.Threading.Channels;
using GwReprocess.Data;
using GwReprocess.Frames.Hdf5;
using GwReprocess.Time;

namespace GwReprocess.Jobs;

/// <summary>
/// Cleaned-frame writing: for each released frame, band-pass and subtract, write the cleaned GWF per detector and the scores HDF5, commit, forget what is no longer needed.
/// Under the detection contract a released span gets its scores HDF5 only: nothing is cleaned, no GWF is written.
/// </summary>
/// <param name="job">The job's shared context.</param>
/// <param name="memory">The stream's strain, noise and scores.</param>
/// <param name="committed">Frames committed so far; each frame written is added.</param>
/// <param name="firstFrame">The first frame this stream writes.</param>
internal sealed class FrameCommitter(StreamContext job, StreamMemory memory, HashSet<Segment> committed, int firstFrame)
{
    /// <summary>Frames this stream committed.</summary>
    public int FramesWritten { get; private set; }

    /// <summary>Writes and commits the frames <paramref name="ready"/> names, in order.</summary>
    /// <remarks>
    /// A frame once started is finished and committed even when another stage fails meanwhile (only the job's own
    /// cancellation, <paramref name="jobCancellation"/>, stops it): its inputs are all in memory, and a bad frame later in
    /// the stream must not cost it.
    /// </remarks>
    public async Task RunAsync(ChannelReader<int> ready, CancellationToken ct, CancellationToken jobCancellation)
    {
        var frames = job.Frames;
        await foreach (int i in ready.ReadAllAsync(ct).ConfigureAwait(false))
        {
            var frame = frames[i];
            await WriteFrameAsync(frame, jobCancellation).ConfigureAwait(false);
            await job.Checkpoint.MarkCommittedAsync(frame, jobCancellation).ConfigureAwait(false);
            committed.Add(frame);
            FramesWritten++;
            double processed = (frame.End - frames[firstFrame].Start).TotalSeconds;
            job.Reporter.FrameCommitted(frame, i, frames.Count, processed / Math.Max(1e-9, job.Wall.Elapsed.TotalSeconds));
            long keepFrom = (i + 1 < frames.Count ? memory.Index(frames[i + 1].Start) : memory.Index(frame.End)) - job.Geometry.Margin;
            foreach (var n in memory.Noise) n.DropBefore(keepFrom);
            foreach (var s in memory.Strain) s.DropBefore(keepFrom);
            memory.Scores.DropBefore(Math.Max(0, keepFrom) / job.Geometry.Stride);
        }
    }

    private async Task WriteFrameAsync(Segment frame, CancellationToken ct)
    {
        var detectors = job.Settings.Detectors;
        long a = memory.Index(frame.Start), z = memory.Index(frame.End);
        if (job.Layout.DetectionOnly)
        {
            await WriteScoresAsync(frame, a, z, ct).ConfigureAwait(false);
            return;
        }
        int m = job.Cleaner.Margin;
        string? history = ShortFrameNote(frame);
        for (int d = 0; d < detectors.Count; d++)
        {
            var det = detectors[d];
            var noise = memory.Noise[d].Copy(a - m, z + m);
            for (int i = 0; i < noise.Length; i++)
                if (double.IsNaN(noise[i]))
                    throw new InvalidOperationException($"{det.Ifo}: no noise window covers {memory.TimeOf(a - m + i)} (internal error)");
            var cleaned = memory.Strain[d].Copy(a, z);
            job.Cleaner.Clean(cleaned, noise);
            await job.FrameWriter.WriteAsync(det.Ifo, det.Strain, memory.StrainUnit[d], frame, ClientJob.Rate, cleaned, job.Provenance[d], ct, history).ConfigureAwait(false);
        }
        if (job.Layout.ScoreOutput is not null) await WriteScoresAsync(frame, a, z, ct).ConfigureAwait(false);
    }

    /// <summary>Why <paramref name="frame"/> is shorter than the input file it was cut from, or null when it is not.</summary>
    /// <remarks>
    /// With jobs planned on the frame grid this happens only at a science segment's edge, where the job's padding is read but
    /// cannot be cleaned; without (a bucket's files), also where two jobs share an input file.
    /// </remarks>
    private string? ShortFrameNote(Segment frame)
    {
        var spec = job.Settings.Job;
        var file = job.Settings.Detectors[0].Frames.Cache.Select(frame).FirstOrDefault(e => e.Span.Contains(frame.Start));
        if (file is null || file.Span == frame) return null;
        var parts = new List<string>();
        foreach (var (part, pad) in new[] { (new Segment(file.Span.Start, frame.Start), spec.Core.Start - spec.Padded.Start), (new Segment(frame.End, file.Span.End), spec.Padded.End - spec.Core.End) })
        {
            if (part.Duration <= GpsDuration.Zero) continue;
            parts.Add(part.Duration <= pad
                ? $"samples [{part.Start}, {part.End}) not cleaned: within {pad} s of the science segment's edge (job {spec.Name}'s padding, read but not cleaned)"
                : $"samples [{part.Start}, {part.End}) not cleaned here: outside job {spec.Name}'s span {spec.Core} (beyond the science segment, or cleaned by another job where jobs are not on the frame grid)");
        }
        return parts.Count == 0 ? null : string.Join("; ", parts);
    }

    private async Task WriteScoresAsync(Segment frame, long a, long z, CancellationToken ct)
    {
        var s = job.Settings;
        int stride = job.Geometry.Stride;
        string tag = string.Concat(s.Detectors.Select(d => d.Ifo));
        // Score j is snapshot j of the stream, ending at sample (j+1)·stride, its scored window ScoreDelay (whole strides) before that:
        // the span's first score, j = (a + delay)/stride, is the window that ends one stride into it.
        int shift = job.Layout.ScoreDelay / stride;
        var values = memory.Scores.Copy(a / stride + shift, z / stride + shift);
        var series = new TimeSeries(new ChannelName($"{tag}:BBH_SCORE"), frame.Start + TimeSeries.DurationOf(stride, SampleRate.Processing),
            new SampleRate(ClientJob.Rate / (double)stride), values);
        // The HDF5 writer takes a file path, so the scores go through a local temporary file on their way to the bucket.
        string temp = Path.Combine(Path.GetTempPath(), $"gwrepro-scores-{Environment.ProcessId}-{Guid.NewGuid():N}.h5");
        try
        {
            await Hdf5TimeSeriesWriter.WriteAsync(temp, [series], new Dictionary<string, object> { ["window_seconds"] = job.Layout.ScoreWindow / (double)ClientJob.Rate },
                cancellationToken: ct).ConfigureAwait(false);
            await using var file = File.OpenRead(temp);
            await s.Output.WriteAsync($"{job.Prefix}scores/{tag}-{s.FrameType}_SCORES-{frame.Start}-{frame.Duration}.h5", file, ct).ConfigureAwait(false);
        }
        finally
        {
            File.Delete(temp);
        }
    }
}
