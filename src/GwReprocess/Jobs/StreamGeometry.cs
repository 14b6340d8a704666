using GwReprocess.Data;
using GwReprocess.Time;

namespace GwReprocess.Jobs;

/// <summary>The sample arithmetic of a job: K, stride, update, margins, in samples at 4096 Hz, checked against the padding.</summary>
internal sealed record StreamGeometry(int Kernel, int Stride, int Update, int Margin, int Settling, AggregationOptions Aggregation)
{
    /// <summary>The geometry of <paramref name="layout"/> for this job; refuses paddings and frames the stream cannot serve byte-reproducibly.</summary>
    public static StreamGeometry Check(ClientJobSettings s, StreamLayout layout, IReadOnlyList<Segment> frames)
    {
        if (layout.DetectionOnly) return CheckDetection(s, layout, frames);
        int margin = Samples(s.Cleaning.Margin, "cleaning.margin");
        int settling = Samples(ClientJob.ResamplerSettling, "settling");
        int edge = Samples(s.Cleaning.Edge, "cleaning.edge");
        int? causal = s.Cleaning.CausalLatency is { } c ? Samples(c, "cleaning.causal_latency") : null;
        var aggregation = new AggregationOptions(layout.Kernel, layout.Stride, causal is null ? edge : 0, causal);
        try { aggregation.Validate(); }
        catch (ArgumentOutOfRangeException e) { throw new BadInputException($"[cleaning] {(causal is null ? "edge" : "causal_latency")}: {e.Message.Split('\n')[0].Split(" (Parameter")[0]}"); }

        double k = layout.Kernel / (double)ClientJob.Rate;
        var before = s.Job.Core.Start - s.Job.Padded.Start;
        var after = s.Job.Padded.End - s.Job.Core.End;
        if (before.TotalSeconds < k)
            throw new BadInputException($"{s.Job.Name}: padding {before} s is shorter than the model's window K/fs = {k:0.###} s: the first outputs would come from the snapshotter's zero-filled warm-up");
        double needBefore = k + s.Cleaning.Margin.TotalSeconds + ClientJob.ResamplerSettling.TotalSeconds;
        if (before.TotalSeconds < needBefore)
            throw new BadInputException($"{s.Job.Name}: padding {before} s is too short: it must hold the window K/fs = {k:0.###} s + the band-pass margin {s.Cleaning.Margin} s + {ClientJob.ResamplerSettling} s resampler settling = {needBefore:0.###} s");
        double needAfter = k + s.Cleaning.Margin.TotalSeconds + ClientJob.ResamplerSettling.TotalSeconds + layout.UpdateSamples / (double)ClientJob.Rate;
        if (after.TotalSeconds < needAfter)
            throw new BadInputException($"{s.Job.Name}: padding after the segment {after} s is too short: it must hold the window, the band-pass margin, the resampler settling and one update = {needAfter:0.###} s");
        CheckGrid(s, layout, frames, "output frame");
        return new StreamGeometry(layout.Kernel, layout.Stride, layout.UpdateSamples, margin, settling, aggregation);
    }

    /// <summary>
    /// A detection-only stream cleans nothing, so it needs no band-pass margin and no windows after a span: before each span the
    /// padding holds the whole snapshot (its first score's window, background included, lies in settled real data), after it
    /// the resampler settling and one update (the request holding the span's last window).
    /// </summary>
    private static StreamGeometry CheckDetection(ClientJobSettings s, StreamLayout layout, IReadOnlyList<Segment> frames)
    {
        int settling = Samples(ClientJob.ResamplerSettling, "settling");
        double snapshot = layout.Kernel / (double)ClientJob.Rate;
        var before = s.Job.Core.Start - s.Job.Padded.Start;
        var after = s.Job.Padded.End - s.Job.Core.End;
        double needBefore = snapshot + ClientJob.ResamplerSettling.TotalSeconds;
        if (before.TotalSeconds < needBefore)
            throw new BadInputException($"{s.Job.Name}: padding {before} s is too short: it must hold the detection-only ensemble's snapshot L/fs = {snapshot:0.###} s + {ClientJob.ResamplerSettling} s resampler settling = {needBefore:0.###} s");
        double needAfter = (layout.ScoreDelay + layout.UpdateSamples) / (double)ClientJob.Rate + ClientJob.ResamplerSettling.TotalSeconds;
        if (after.TotalSeconds < needAfter)
            throw new BadInputException($"{s.Job.Name}: padding after the segment {after} s is too short: it must hold the scored window's delay ({layout.ScoreDelay / (double)ClientJob.Rate:0.###} s), the resampler settling and one update = {needAfter:0.###} s");
        CheckGrid(s, layout, frames, "score span");
        return new StreamGeometry(layout.Kernel, layout.Stride, layout.UpdateSamples, 0, settling, new AggregationOptions(layout.Kernel, layout.Stride, 0, null));
    }

    private static void CheckGrid(ClientJobSettings s, StreamLayout layout, IReadOnlyList<Segment> frames, string what)
    {
        foreach (var f in frames)
        {
            long offset = SamplesBetween(s.Job.Padded.Start, f.Start);
            if (offset % layout.Stride != 0 || SamplesBetween(f.Start, f.End) % layout.Stride != 0)
                throw new BadInputException($"{s.Job.Name}: {what} {f} does not start and end on the {layout.Stride}-sample window grid of the stream started at {s.Job.Padded.Start}");
        }
        if (layout.UpdateSamples % 8 != 0)
            throw new BadInputException($"model '{layout.Model}': an update of {layout.UpdateSamples} samples is not a whole number of nanoseconds at 4096 Hz");
    }

    private static int Samples(GpsDuration d, string what)
    {
        long ns = d.TotalNanoseconds * ClientJob.Rate;
        if (ns % 1_000_000_000 != 0) throw new BadInputException($"{what}: {d} s is not a whole number of samples at {ClientJob.Rate} Hz");
        return checked((int)(ns / 1_000_000_000));
    }

    /// <summary>Samples at 4096 Hz from <paramref name="from"/> to <paramref name="to"/>; the interval must be a whole number of samples.</summary>
    internal static long SamplesBetween(GpsTime from, GpsTime to)
    {
        long ns = (to - from).TotalNanoseconds;
        long q = Math.DivRem(checked(ns * ClientJob.Rate), 1_000_000_000L, out long r);
        if (r != 0) throw new BadInputException($"[{from}, {to}) is not a whole number of samples at {ClientJob.Rate} Hz");
        return q;
    }

    /// <summary>The time <paramref name="samples"/> samples after <paramref name="origin"/>.</summary>
    internal static GpsTime After(GpsTime origin, long samples) => origin + TimeSeries.DurationOf(samples, SampleRate.Processing);
}
