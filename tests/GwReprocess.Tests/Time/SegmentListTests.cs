using FsCheck;
using FsCheck.Fluent;
using GwReprocess.Time;

namespace GwReprocess.Tests.Time;

public class SegmentListTests
{
    private static SegmentList L(params (long s, long e)[] segs) => new(segs.Select(p => new Segment(p.s, p.e)));

    [Fact]
    public void Coalesce_sorts_merges_touching_and_drops_empty()
    {
        var raw = L((20, 30), (0, 10), (10, 15), (5, 8), (40, 40), (29, 35));
        Assert.Equal(L((0, 15), (20, 35)), raw.Coalesce());
        Assert.True(raw.Coalesce().IsCoalesced);
        Assert.False(raw.IsCoalesced);
    }

    [Fact]
    public void Hand_checked_algebra()
    {
        var a = L((0, 10), (20, 30), (40, 50));
        var b = L((5, 25), (45, 60));
        Assert.Equal(L((5, 10), (20, 25), (45, 50)), a.Intersect(b));
        Assert.Equal(L((0, 30), (40, 60)), a.Union(b));
        Assert.Equal(L((0, 5), (25, 30), (40, 45)), a.Subtract(b));
        Assert.Equal(L((10, 20), (30, 40), (50, 55)), a.Complement(new Segment(-0, 55)));
        Assert.Equal(L((-2, 12), (18, 32), (38, 52)), a.Protract(GpsDuration.FromSeconds(2)));
        Assert.Equal(L((0, 52)), a.Protract(GpsDuration.FromSeconds(5)).Intersect(L((0, 100))).Subtract(L((52, 100))));
        Assert.Equal(L((2, 8), (22, 28), (42, 48)), a.Contract(GpsDuration.FromSeconds(2)));
        Assert.Equal(SegmentList.Empty, a.Contract(GpsDuration.FromSeconds(5)));
        Assert.Equal(30, a.TotalDuration.TotalSeconds);
        Assert.Equal(new Segment(0, 50), a.Extent);
    }

    [Fact]
    public void Fractional_gps_boundaries_stay_exact()
    {
        var a = new SegmentList([new Segment(GpsTime.Parse("1126259446.25"), GpsTime.Parse("1126259478.75"))]);
        var b = new SegmentList([new Segment(GpsTime.Parse("1126259462.4"), GpsTime.Parse("1126259500"))]);
        var i = a.Intersect(b);
        Assert.Equal("[[1126259462.4, 1126259478.75)]", i.ToString());
        Assert.Equal(GpsDuration.Parse("16.35"), i.TotalDuration);
    }

    [Fact]
    public void Chunking_folds_short_remainders_and_keeps_padding_inside()
    {
        var segs = L((1000, 1000 + 8 + 4096 * 2 + 100 + 8), (20000, 20000 + 8 + 4096 + 400 + 8), (30000, 30200));
        var chunks = segs.Chunk(GpsDuration.FromSeconds(4096), GpsDuration.FromSeconds(300), GpsDuration.FromSeconds(8));
        var cores = chunks.Select(c => (c.Core.Start.Seconds, c.Core.End.Seconds)).ToArray();
        Assert.Equal(new (long, long)[]
        {
            (1008, 1008 + 4096),                     // first full chunk
            (1008 + 4096, 1008 + 4096 * 2 + 100),    // 100 s remainder < 300 folded into the last chunk
            (20008, 20008 + 4096),
            (20008 + 4096, 20008 + 4096 + 400),      // 400 s remainder >= 300 is a chunk of its own
            // [30000, 30200) is shorter than the minimum after padding: dropped.
        }, cores);
        foreach (var c in chunks)
        {
            Assert.Equal(8, c.PadBefore.TotalSeconds);
            Assert.Equal(8, c.PadAfter.TotalSeconds);
            Assert.Contains(segs, s => s.Contains(c.Padded));
        }
    }

    [Fact]
    public void A_segment_shorter_than_the_length_but_over_the_minimum_is_one_chunk()
    {
        var chunks = L((0, 1000)).Chunk(GpsDuration.FromSeconds(4096), GpsDuration.FromSeconds(300));
        Assert.Single(chunks);
        Assert.Equal(new Segment(0, 1000), chunks[0].Core);
    }

    [Fact]
    public void Chunk_rejects_nonsense_parameters()
    {
        var l = L((0, 100));
        Assert.Throws<ArgumentOutOfRangeException>(() => l.Chunk(GpsDuration.Zero, GpsDuration.Zero));
        Assert.Throws<ArgumentOutOfRangeException>(() => l.Chunk(GpsDuration.FromSeconds(10), GpsDuration.FromSeconds(11)));
    }

    // ---- properties over random lists (integer seconds keep the generator simple; the algebra is type-agnostic) ----

    private static SegmentList FromPairs(int[] xs)
    {
        var segs = new List<Segment>();
        for (int i = 0; i + 1 < xs.Length; i += 2)
        {
            long s = Math.Abs((long)xs[i]) % 10_000, d = Math.Abs((long)xs[i + 1]) % 500;
            segs.Add(new Segment(s, s + d));
        }
        return new SegmentList(segs);
    }

    private static bool Covers(SegmentList l, double t) => l.Any(s => s.Start.TotalSeconds <= t && t < s.End.TotalSeconds);

    private static IEnumerable<double> Probes(params SegmentList[] lists) =>
        lists.SelectMany(l => l).SelectMany(s => new[] { s.Start.TotalSeconds - 0.5, s.Start.TotalSeconds, s.Start.TotalSeconds + 0.5, s.End.TotalSeconds - 0.5, s.End.TotalSeconds });

    [FsCheck.Xunit.Property(MaxTest = 300)]
    public bool Intersection_is_inside_both(int[] x, int[] y)
    {
        var a = FromPairs(x); var b = FromPairs(y);
        var i = a.Intersect(b);
        return i.IsCoalesced && i.Subtract(a).Count == 0 && i.Subtract(b).Count == 0;
    }

    [FsCheck.Xunit.Property(MaxTest = 300)]
    public bool Inclusion_exclusion_holds(int[] x, int[] y)
    {
        var a = FromPairs(x).Coalesce(); var b = FromPairs(y).Coalesce();
        return (a.Union(b).TotalDuration + a.Intersect(b).TotalDuration) == (a.TotalDuration + b.TotalDuration);
    }

    [FsCheck.Xunit.Property(MaxTest = 300)]
    public bool Membership_matches_pointwise_set_semantics(int[] x, int[] y)
    {
        var a = FromPairs(x); var b = FromPairs(y);
        var u = a.Union(b); var i = a.Intersect(b); var d = a.Subtract(b);
        foreach (double t in Probes(a, b))
        {
            bool inA = Covers(a, t), inB = Covers(b, t);
            if (Covers(u, t) != (inA || inB)) return false;
            if (Covers(i, t) != (inA && inB)) return false;
            if (Covers(d, t) != (inA && !inB)) return false;
        }
        return true;
    }

    [FsCheck.Xunit.Property(MaxTest = 300)]
    public bool Complement_partitions_the_span(int[] x)
    {
        var a = FromPairs(x);
        var span = new Segment(0, 10_500);
        var c = a.Complement(span);
        var inside = a.Intersect(new SegmentList([span]));
        return c.Intersect(inside).Count == 0 && c.Union(inside).Equals(new SegmentList([span]).Coalesce());
    }

    [FsCheck.Xunit.Property(MaxTest = 300)]
    public bool Chunking_covers_exactly_the_usable_time(int[] x, PositiveInt len, NonNegativeInt pad)
    {
        var a = FromPairs(x).Coalesce();
        long length = len.Get % 300 + 1, padding = pad.Get % 20;
        long minimum = length / 3;
        var chunks = a.Chunk(GpsDuration.FromSeconds(length), GpsDuration.FromSeconds(minimum), GpsDuration.FromSeconds(padding));
        var cores = new SegmentList(chunks.Select(c => c.Core));
        // Chunks never overlap, never shorter than the minimum, never longer than length + minimum.
        if (cores.Coalesce().TotalDuration != cores.TotalDuration) return false;
        foreach (var c in chunks)
        {
            if (c.Core.Duration.TotalSeconds < minimum || c.Core.Duration.TotalSeconds >= length + Math.Max(minimum, 1)) return false;
            if (!a.Any(s => s.Contains(c.Padded))) return false;
        }
        // Their union is exactly each usable stretch that reaches the minimum.
        var usable = new SegmentList(a.Where(s => s.Duration.TotalSeconds >= 2 * padding)
            .Select(s => new Segment(s.Start + GpsDuration.FromSeconds(padding), s.End - GpsDuration.FromSeconds(padding)))
            .Where(s => !s.IsEmpty && s.Duration.TotalSeconds >= minimum));
        return cores.Coalesce().Equals(usable.Coalesce());
    }
}
