using System.Threading.Channels;
using GwReprocess.Inference;
using GwReprocess.Time;

namespace GwReprocess.Jobs;

/// <summary>Noise assembly: responses in request order → each detector's noise windows averaged into one estimate per sample (none under the detection contract), scores appended; frames released once covered.</summary>
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
        var release = new FrameRelease(job, memory, committed, firstFrame, withScores: true, withNoise: !job.Layout.DetectionOnly);
        // A detection-only stream has no noise output: only the scores are placed.
        int noiseDetectors = job.Layout.DetectionOnly ? 0 : job.Settings.Detectors.Count;
        int b = job.Layout.Batch, k = job.Layout.Kernel;

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
                for (int d = 0; d < noiseDetectors; d++)
                {
                    var noise = x.Output(job.Layout.Detectors[d].NoiseOutput, b * k, address);
                    for (int i = 0; i < b; i++) aggregators[d].Add(x.RequestId * b + i, noise.AsSpan(i * k, k));
                    Drain(d, false);
                }
                if (job.Layout.ScoreOutput is { } so)
                {
                    var scores = x.Output(so, b, address);
                    for (int i = 0; i < b; i++) scoreRow[i] = scores[i];
                }
                memory.Scores.Append(scoreRow);
                DataSeconds += job.Processed.Advance(memory.TimeOf((x.RequestId + 1) * job.Geometry.Update));
                if (x.RequestId == memory.Updates - 1)
                    for (int d = 0; d < noiseDetectors; d++) Drain(d, true);
                await release.ReleaseReadyAsync(ready, ct).ConfigureAwait(false);
            }
            if (placer.Next == memory.Updates) break;
        }
        if (placer.Next < memory.Updates)
            throw new InferenceStreamException($"{address}: the stream ended after {placer.Next} of {memory.Updates} responses", true);
        release.CheckAllCovered();
        ready.Complete();
    }
}
