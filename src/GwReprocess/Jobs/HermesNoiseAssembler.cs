using System.Threading.Channels;
using GwReprocess.Inference;
using GwReprocess.Time;

namespace GwReprocess.Jobs;

/// <summary>Noise assembly under the hermes contract: each detector's stream answered in request order, its server-averaged output placed with its lag (or its raw windows averaged here), frames released once every detector covers them.</summary>
/// <remarks>
/// Response <c>n</c> of a server-averaged stream holds stream samples <c>[n·U − lag, (n+1)·U − lag)</c>: hermes's aggregator returns a
/// sample once the last of the num_updates windows whose tail covers it has arrived. The first <c>lag</c> values precede the
/// stream and are dropped. A sample's average only takes windows ending within num_updates·stride ≤ K after it, so samples
/// at least K into the stream come from real data only; the job's padding (≥ K + margin + settling) keeps frames there.
/// </remarks>
/// <param name="job">The job's shared context.</param>
/// <param name="memory">Where noise goes.</param>
/// <param name="committed">Frames committed before this stream started (skipped when releasing); not changed while the stream runs.</param>
/// <param name="firstFrame">The first frame this stream writes.</param>
/// <param name="address">The server's address, for errors.</param>
internal sealed class HermesNoiseAssembler(StreamContext job, StreamMemory memory, IReadOnlySet<Segment> committed, int firstFrame, string address)
{
    /// <summary>Seconds of the core segment this stream got answers for first.</summary>
    public double DataSeconds { get; private set; }

    /// <summary>Reads every detector's responses, places their noise and passes on the indices of frames whose inputs are complete.</summary>
    public async Task RunAsync(IReadOnlyList<InferenceStream> streams, ChannelWriter<int> ready, CancellationToken ct)
    {
        var detectors = job.Layout.Detectors;
        int count = detectors.Count, u = job.Geometry.Update, b = job.Layout.Batch, k = job.Layout.Kernel;
        var merged = Channel.CreateUnbounded<(int Detector, InferenceResult Result)>(new UnboundedChannelOptions { SingleReader = true });
        var pumps = new Task[count];
        for (int d = 0; d < count; d++)
        {
            int detector = d;
            pumps[d] = Task.Run(async () =>
            {
                try
                {
                    await foreach (var r in streams[detector].ReadAllAsync(ct).ConfigureAwait(false))
                        await merged.Writer.WriteAsync((detector, r), ct).ConfigureAwait(false);
                }
                catch (Exception e)
                {
                    // One detector's stream failing fails the attempt at once: the others cannot finish without it.
                    merged.Writer.TryComplete(e);
                }
            }, CancellationToken.None);
        }
        _ = Task.WhenAll(pumps).ContinueWith(_ => merged.Writer.TryComplete(), TaskScheduler.Default);

        var placers = new ResponsePlacer<InferenceResult>[count];
        var toSkip = new long[count];
        var aggregators = new NoiseAggregator?[count];
        for (int d = 0; d < count; d++)
        {
            placers[d] = new ResponsePlacer<InferenceResult>(job.Settings.MaxInFlight + 1);
            var h = detectors[d].Hermes!;
            toSkip[d] = h.Lag;
            if (!h.ServerAggregated) aggregators[d] = new NoiseAggregator(job.Geometry.Aggregation);
        }
        var values = new double[Math.Max(u, job.Geometry.Update + 2 * k)];
        var release = new FrameRelease(job, memory, committed, firstFrame, withScores: false);

        void Drain(int d, bool all)
        {
            var a = aggregators[d]!;
            while (true)
            {
                int n = all ? a.DrainAll(values) : a.Drain(values);
                if (n == 0) return;
                memory.Noise[d].Append(values.AsSpan(0, n));
            }
        }

        void Place(int d, InferenceResult x)
        {
            var h = detectors[d].Hermes!;
            if (h.ServerAggregated)
            {
                var output = x.Output(h.Output, u, address);
                int skip = (int)Math.Min(toSkip[d], u);
                toSkip[d] -= skip;
                var dest = values.AsSpan(0, u - skip);
                var src = output.AsSpan(skip);
                for (int i = 0; i < dest.Length; i++) dest[i] = src[i];
                memory.Noise[d].Append(dest);
            }
            else
            {
                var noise = x.Output(h.Output, b * k, address);
                for (int i = 0; i < b; i++) aggregators[d]!.Add(x.RequestId * b + i, noise.AsSpan(i * k, k));
                Drain(d, x.RequestId == memory.Updates - 1);
            }
        }

        await foreach (var (d, r) in merged.Reader.ReadAllAsync(ct).ConfigureAwait(false))
        {
            job.Metrics.Answered(r.RoundTrip);
            placers[d].Add(r.RequestId, r);
            bool advanced = false;
            while (placers[d].TryTake(out var x))
            {
                Place(d, x);
                advanced = true;
            }
            if (!advanced) continue;
            long answered = long.MaxValue;
            foreach (var p in placers) answered = Math.Min(answered, p.Next);
            DataSeconds += job.Processed.Advance(memory.TimeOf(answered * u));
            await release.ReleaseReadyAsync(ready, ct).ConfigureAwait(false);
            if (answered == memory.Updates) break;
        }
        for (int d = 0; d < count; d++)
            if (placers[d].Next < memory.Updates)
                throw new InferenceStreamException($"{address}: the {detectors[d].Ifo} stream ('{detectors[d].Hermes!.Model}') ended after {placers[d].Next} of {memory.Updates} responses", true);
        release.CheckAllCovered();
        ready.Complete();
    }
}
