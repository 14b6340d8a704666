using System.Threading.Channels;
using GwReprocess.Data;
using GwReprocess.Dsp;
using GwReprocess.Frames;
using GwReprocess.Time;

namespace GwReprocess.Jobs;

/// <summary>Update production: frames → pieces → resampled to 4096 Hz → standardised → snapshot updates, detectors interleaved in time.</summary>
internal sealed class UpdateProducer(StreamContext job, StreamMemory memory)
{
    /// <summary>Length of the pieces frames are cut into before resampling, so memory stays small whatever the frame length.</summary>
    private static readonly GpsDuration Piece = GpsDuration.FromSeconds(16);

    /// <summary>Reads the stream's span, resamples and standardises it, and writes the updates in order; keeps the strain in memory.</summary>
    public async Task RunAsync(ChannelWriter<SnapshotUpdate> output, CancellationToken ct)
    {
        var dets = job.Settings.Detectors;
        int d0 = dets.Count;
        var builder = new UpdateBuilder(job.Layout.Scaling, job.Geometry.Update);
        var witnessOffset = new int[d0];
        for (int d = 1; d < d0; d++) witnessOffset[d] = witnessOffset[d - 1] + dets[d - 1].Witnesses.Count;
        int strainOffset = dets.Sum(d => d.Witnesses.Count);
        var span = new Segment(memory.Start, job.Settings.Job.Padded.End);
        var readers = dets.Select(d => d.Frames.ReadChunksAsync([.. d.Witnesses.Select(w => w.Value), d.Strain.Value], span, ct).GetAsyncEnumerator(ct)).ToArray();
        var resamplers = new MultiChannelResampler?[d0];
        var highpass = WitnessFilters(job.Settings);
        var current = new FrameChunk?[d0];
        var cursor = Enumerable.Repeat(memory.Start, d0).ToArray();
        var finished = new bool[d0];
        long produced = 0;
        try
        {
            void Append(int d, double[][] outs)
            {
                int w = dets[d].Witnesses.Count;
                for (int c = 0; c < w; c++)
                {
                    // The resampler hands back fresh arrays, so the witness is filtered in place; the strain is not filtered.
                    highpass?[d][c].Process(outs[c], outs[c]);
                    builder.Append(witnessOffset[d] + c, outs[c]);
                }
                builder.Append(strainOffset + d, outs[w]);
                // Strain is kept to be cleaned; a detection-only stream cleans nothing.
                if (!job.Layout.DetectionOnly) memory.Strain[d].Append(outs[w]);
            }

            while (produced < memory.Updates)
            {
                int d = -1;
                for (int i = 0; i < d0; i++)
                    if (!finished[i] && (d < 0 || cursor[i] < cursor[d])) d = i;
                if (d < 0) break;
                if (current[d] is null || cursor[d] >= current[d]!.Span.End)
                {
                    if (!await readers[d].MoveNextAsync().ConfigureAwait(false))
                    {
                        finished[d] = true;
                        if (resamplers[d] is { } r) Append(d, r.Flush());
                        continue;
                    }
                    var chunk = readers[d].Current;
                    if (chunk.Filled is { } filled) job.Reporter.Info(filled.ToString());
                    if (chunk.Span.Start != cursor[d])
                        throw new BadInputException($"{dets[d].Ifo}: no data for [{cursor[d]}, {chunk.Span.Start}) (next file {chunk.Location})");
                    resamplers[d] ??= CreateResampler(dets[d], chunk);
                    if (memory.StrainUnit[d].Length == 0) memory.StrainUnit[d] = chunk.Channels[dets[d].Witnesses.Count].Unit;
                    current[d] = chunk;
                }
                var piece = new Segment(cursor[d], GpsTime.Min(cursor[d] + Piece, current[d]!.Span.End));
                Append(d, resamplers[d]!.Process(Slice(current[d]!, piece)));
                cursor[d] = piece.End;
                while (produced < memory.Updates && builder.TryTake() is { } u)
                {
                    await output.WriteAsync(u, ct).ConfigureAwait(false);
                    produced++;
                }
            }
            if (produced < memory.Updates)
                throw new BadInputException($"{string.Join(", ", dets.Select(x => x.Ifo))}: frames end before the job's padded end {job.Settings.Job.Padded.End} ({produced} of {memory.Updates} updates)");
        }
        finally
        {
            foreach (var r in readers) await r.DisposeAsync().ConfigureAwait(false);
        }
        output.Complete();
    }

    /// <summary>One high-pass per witness of each detector, its state carried through the whole stream (so no output depends on where a read or request ends); null without one.</summary>
    private static WitnessHighpassFilter[][]? WitnessFilters(ClientJobSettings settings) =>
        settings.Cleaning.WitnessHighpass is { } hp
            ? settings.Detectors.Select(d => d.Witnesses.Select(_ => hp.CreateFilter(ClientJob.Rate)).ToArray()).ToArray()
            : null;

    private static MultiChannelResampler CreateResampler(DetectorInput d, FrameChunk chunk)
    {
        var rates = new List<(string, SampleRate)>();
        foreach (var series in chunk.Channels)
        {
            var filter = ResamplingFilter.ForRates(series.SampleRate, SampleRate.Processing, series.Channel.Value);
            if (!filter.IsIdentity && filter.HalfLength / (double)filter.Up / series.SampleRate.Hertz > ClientJob.ResamplerSettling.TotalSeconds)
                throw new BadInputException($"{series.Channel}: at {series.SampleRate} its resampling filter reaches further than the {ClientJob.ResamplerSettling} s settling allowance");
            rates.Add((series.Channel.Value, series.SampleRate));
        }
        return MultiChannelResampler.ForRates(rates, SampleRate.Processing, Math.Max(1, Environment.ProcessorCount));
    }

    private static ReadOnlyMemory<double>[] Slice(FrameChunk chunk, Segment piece)
    {
        var result = new ReadOnlyMemory<double>[chunk.Channels.Count];
        for (int c = 0; c < result.Length; c++)
        {
            var s = chunk.Channels[c];
            long from = s.IndexOf(piece.Start), to = s.IndexOf(piece.End);
            if (from < 0 || to > s.Length) throw new BadInputException($"{s.Channel}: {chunk.Location} holds {s.Span}, not all of {piece}");
            var samples = s.Samples.Slice((int)from, (int)(to - from));
            foreach (double x in samples.Span)
                if (!double.IsFinite(x))
                    throw new BadInputException($"{s.Channel}: non-finite sample in {piece} ({chunk.Location})");
            result[c] = samples;
        }
        return result;
    }
}
