using System.Threading.Channels;
using GwReprocess.Time;

namespace GwReprocess.Jobs;

/// <summary>Which output frames a stream's noise assembly has covered: each is passed on to the writer once every detector's noise (and the scores, where the stream has them) reaches past it by the band-pass margin.</summary>
/// <param name="job">The job's shared context.</param>
/// <param name="memory">The stream's noise and scores.</param>
/// <param name="committed">Frames committed before this stream started (skipped); not changed while the stream runs.</param>
/// <param name="firstFrame">The first frame this stream writes.</param>
/// <param name="withScores">Whether a frame also waits for the scores covering it (the native and detection contracts; hermes streams carry none).</param>
/// <param name="withNoise">Whether a frame waits for every detector's noise (all but the detection contract, which cleans nothing).</param>
internal sealed class FrameRelease(StreamContext job, StreamMemory memory, IReadOnlySet<Segment> committed, int firstFrame, bool withScores, bool withNoise = true)
{
    private int _next = firstFrame;

    /// <summary>Passes on the indices of the frames now covered, in order.</summary>
    public async Task ReleaseReadyAsync(ChannelWriter<int> ready, CancellationToken ct)
    {
        while (_next < job.Frames.Count)
        {
            if (committed.Contains(job.Frames[_next])) { _next++; continue; }
            long end = memory.Index(job.Frames[_next].End);
            if (withNoise)
                foreach (var n in memory.Noise) if (n.End < end + job.Geometry.Margin) return;
            if (withScores && memory.Scores.End < (end + job.Layout.ScoreDelay) / job.Geometry.Stride) return;
            await ready.WriteAsync(_next++, ct).ConfigureAwait(false);
        }
    }

    /// <summary>After the stream's last response: every frame left must have been passed on.</summary>
    public void CheckAllCovered()
    {
        if (_next < job.Frames.Count && job.Frames.Skip(_next).Any(f => !committed.Contains(f)))
            throw new InvalidOperationException($"frames from {job.Frames[_next]} were never covered by the stream (internal error)");
    }
}
