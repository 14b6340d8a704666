using System.Threading.Channels;
using GwReprocess.Inference;
using GwReprocess.Time;

namespace GwReprocess.Jobs;

/// <summary>Noise assembly: responses in request order → each detector's noise windows averaged into one estimate per sample, scores appended; frames released once covered.</summary>
/// <param name="job">The job's shared context.</param>
/// <param name="memory">Where noise and scores go.</param>
/// <param name="committed">Frames committed before this stream started (skipped when releasing); not changed while the stream runs.</param>
/// <param name="firstFrame">The first frame this stream writes.</param>
/// <param name="address">The server's address, for errors.</param>
internal sealed class NoiseAssembler(StreamContext job, StreamMemory memory, IReadOnlySet<Segment> committed, int firstFrame, string address)
{
    /// <summary>Seconds of the core segment this stream got answers for first.</summary>
    public double DataSeconds { get; private set; }

    /// <summary>Reads the responses, puts them in request order, averages the noise windows and passes on the indices of frames whose inputs are complete.</summary>
    public async Task RunAsync(InferenceStream stream, ChannelWriter<int> ready, CancellationToken ct)
    {
        var placer = new ResponsePlacer<InferenceResult>(job.Settings.MaxInFlight + 1);
        var aggregators = job.Settings.Detectors.Select(_ => new NoiseAggregator(job.Geometry.Aggregation)).ToArray();
        var scratch = new double[job.Geometry.Update + 2 * job.Geometry.Kernel];
        var scoreRow = new double[job.Layout.Batch]; // the store copies it; stays zero without a score output
        int next = firstFrame;
        int b = job.Layout.Batch, k = job.Layout.Kernel;

        async Task ReleaseReadyAsync()
        {
            while (next < job.Frames.Count)
            {
                if (committed.Contains(job.Frames[next])) { next++; continue; }
                long end = memory.Index(job.Frames[next].End);
                if (memory.Noise.Any(n => n.End < end + job.Geometry.Margin) || memory.Scores.End < end / job.Geometry.Stride) return;
                await ready.WriteAsync(next++, ct).ConfigureAwait(false);
            }
        }

        void Drain(int d, bool all)
        {
            while (true)
            {
                int n = all ? aggregators[d].DrainAll(scratch) : aggregators[d].Drain(scratch);
                if (n == 0) return;
                memory.Noise[d].Append(scratch.AsSpan(0, n));
            }
        }

        await foreach (var r in stream.ReadAllAsync(ct).ConfigureAwait(false))
        {
            job.Metrics.Answered(r.RoundTrip);
            placer.Add(r.RequestId, r);
            while (placer.TryTake(out var x))
            {
                for (int d = 0; d < job.Settings.Detectors.Count; d++)
                {
                    var noise = Output(x, job.Layout.Detectors[d].NoiseOutput, b * k);
                    for (int i = 0; i < b; i++) aggregators[d].Add(x.RequestId * b + i, noise.AsSpan(i * k, k));
                    Drain(d, false);
                }
                if (job.Layout.ScoreOutput is { } so)
                {
                    var scores = Output(x, so, b);
                    for (int i = 0; i < b; i++) scoreRow[i] = scores[i];
                }
                memory.Scores.Append(scoreRow);
                DataSeconds += job.Processed.Advance(memory.TimeOf((x.RequestId + 1) * job.Geometry.Update));
                if (x.RequestId == memory.Updates - 1)
                    for (int d = 0; d < job.Settings.Detectors.Count; d++) Drain(d, true);
                await ReleaseReadyAsync().ConfigureAwait(false);
            }
            if (placer.Next == memory.Updates) break;
        }
        if (placer.Next < memory.Updates)
            throw new InferenceStreamException($"{address}: the stream ended after {placer.Next} of {memory.Updates} responses", true);
        if (next < job.Frames.Count && job.Frames.Skip(next).Any(f => !committed.Contains(f)))
            throw new InvalidOperationException($"frames from {job.Frames[next]} were never covered by the stream (internal error)");
        ready.Complete();
    }

    private float[] Output(InferenceResult r, string name, int expected)
    {
        if (!r.Outputs.TryGetValue(name, out var v))
            throw new InferenceStreamException($"{address}: response {r.RequestId} has no output '{name}'", false);
        if (v.Length != expected)
            throw new InferenceStreamException($"{address}: output '{name}' of response {r.RequestId} has {v.Length} values, expected {expected}", false);
        return v;
    }
}
