using System.Numerics;
using System.Runtime.InteropServices;
using GwReprocess.Data;
using GwReprocess.Frames.Hdf5;
using GwReprocess.Time;

namespace GwReprocess.Frames;

/// <summary>Finds the gaps inside read data (non-finite samples; GWOSC seconds with the DQmask DATA bit off) and refuses or zero-fills them per <see cref="GapPolicy"/>.</summary>
/// <remarks>
/// GWOSC marks the seconds it has no strain for twice: NaN samples, and a 0 DATA bit in <c>quality/simple/DQmask</c>.
/// Both count, so a file that zeroes or interpolates the samples but keeps the mask is still not read as data.
/// </remarks>
public static class StrainGaps
{
    /// <summary>The name of the DQmask bit that says the second holds data (bit 0 in every GWOSC release).</summary>
    public const string DataBit = "DATA";

    /// <summary>The runs of non-finite samples (NaN, ±inf) of <paramref name="series"/>, one segment per run, in time order.</summary>
    public static SegmentList NonFinite(TimeSeries series)
    {
        var x = series.Samples.Span;
        if (AllFinite(x)) return SegmentList.Empty;
        var runs = new List<Segment>();
        int i = 0;
        while (i < x.Length)
        {
            if (double.IsFinite(x[i])) { i++; continue; }
            int start = i;
            while (i < x.Length && !double.IsFinite(x[i])) i++;
            runs.Add(new Segment(series.TimeAt(start), series.TimeAt(i)));
        }
        return new SegmentList(runs).Coalesce();
    }

    /// <summary>Every client job reads every sample through here, so the common case is checked a vector at a time: x - x is 0 exactly when x is finite.</summary>
    private static bool AllFinite(ReadOnlySpan<double> x)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var vectors = MemoryMarshal.Cast<double, Vector<double>>(x);
            foreach (var v in vectors)
                if (!Vector.EqualsAll(v - v, Vector<double>.Zero)) return false;
            i = vectors.Length * Vector<double>.Count;
        }
        for (; i < x.Length; i++)
            if (!double.IsFinite(x[i])) return false;
        return true;
    }

    /// <summary>
    /// The seconds of a GWOSC file's DQmask whose DATA bit is 0, when <paramref name="channel"/> names its strain (under any of
    /// its names); empty for other channels, other layouts, or a file without that mask.
    /// </summary>
    public static SegmentList DataOff(Hdf5TimeSeriesFile file, string channel)
    {
        if (file.Layout != Hdf5Layout.Gwosc || file.Series.Count == 0 || file.Resolve(channel) != file.Series[0].Channel.Value) return SegmentList.Empty;
        if (!file.Masks.TryGetValue("DQmask", out var mask)) return SegmentList.Empty;
        int bit = 0;
        if (mask.BitNames.Count > 0)
        {
            bit = -1;
            for (int b = 0; b < mask.BitNames.Count; b++)
                if (mask.BitNames[b].Trim() == DataBit) { bit = b; break; }
            if (bit < 0) throw new Hdf5FormatException($"{file.Path}: quality/simple/DQShortnames has no {DataBit} bit ({string.Join(", ", mask.BitNames)}), so the seconds without data cannot be told");
        }
        var off = new List<Segment>();
        var m = mask.Series.Samples.Span;
        for (int i = 0; i < m.Length; i++)
            if ((((long)m[i] >> bit) & 1) == 0)
                off.Add(new Segment(mask.Series.TimeAt(i), mask.Series.TimeAt(i + 1)));
        return new SegmentList(off).Coalesce();
    }

    /// <summary>
    /// Applies <paramref name="policy"/> to the gaps of each series (replacing it when filled); <paramref name="dataOff"/> gives
    /// each channel's mask-off seconds. Returns what was filled, or null when nothing was.
    /// </summary>
    /// <exception cref="FrameGapException">Under <see cref="GapPolicy.Refuse"/>: names the earliest gap of any series (its <see cref="FrameGapException.Gaps"/> are that series' gaps).</exception>
    public static FilledGaps? Apply(TimeSeries[] series, GapPolicy policy, string file, Func<string, SegmentList>? dataOff = null)
    {
        Dictionary<string, SegmentList>? filled = null;
        FrameGapException? earliest = null;
        for (int c = 0; c < series.Length; c++)
        {
            var s = series[c];
            var nonFinite = NonFinite(s);
            var off = dataOff is null ? SegmentList.Empty : dataOff(s.Channel.Value).Intersect(new SegmentList([s.Span]));
            var gaps = nonFinite.Union(off);
            if (gaps.Count == 0) continue;
            if (policy == GapPolicy.Refuse)
            {
                if (earliest is null || gaps[0].Start < earliest.Gaps[0].Start) earliest = Refusal(file, s, gaps, nonFinite, off);
                continue;
            }
            series[c] = Zero(s, gaps);
            (filled ??= [])[s.Channel.Value] = gaps;
        }
        if (earliest is not null) throw earliest;
        return filled is null ? null : new FilledGaps(file, filled);
    }

    /// <summary>
    /// The part of <paramref name="span"/> before the refused gap, ending on a whole GPS second (so every channel's samples end
    /// on a shared boundary), or null when none is left: a reader hands this much on before it stops, as it would have read up to the gap.
    /// </summary>
    public static Segment? BeforeGap(Segment span, FrameGapException refusal)
    {
        long gap = refusal.Gaps[0].Start.TotalNanoseconds;
        long second = 1_000_000_000L;
        var end = GpsTime.FromNanoseconds(gap - (((gap % second) + second) % second));
        return end > span.Start ? new Segment(span.Start, GpsTime.Min(end, span.End)) : null;
    }

    /// <summary>A copy of <paramref name="series"/> with the samples inside <paramref name="gaps"/> set to 0.</summary>
    public static TimeSeries Zero(TimeSeries series, SegmentList gaps)
    {
        var samples = series.Samples.ToArray();
        foreach (var gap in gaps)
        {
            long from = Math.Max(0, FirstAtOrAfter(series, gap.Start)), to = Math.Min(samples.Length, FirstAtOrAfter(series, gap.End));
            if (to > from) samples.AsSpan((int)from, (int)(to - from)).Clear();
        }
        return series.WithSamples(samples);
    }

    private static long FirstAtOrAfter(TimeSeries series, GpsTime t) =>
        (long)Math.Ceiling((t - series.T0).TotalNanoseconds * series.SampleRate.Hertz / 1e9 - 1e-6);

    private static FrameGapException Refusal(string file, TimeSeries s, SegmentList gaps, SegmentList nonFinite, SegmentList off)
    {
        var first = gaps[0];
        var one = new SegmentList([first]);
        var why = new List<string>();
        if (nonFinite.Intersect(one).Count > 0) why.Add("non-finite samples");
        if (off.Intersect(one).Count > 0) why.Add($"DQmask {DataBit} bit off");
        return new FrameGapException(
            $"{file}: channel {s.Channel}: gap at {first} ({string.Join(" and ", why)}); {gaps.TotalDuration} s of gaps in {gaps.Count} span(s) of the {s.Span} read; " +
            "[data] gaps = \"zero\" would fill them with zeros", gaps);
    }
}
