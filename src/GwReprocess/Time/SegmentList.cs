using System.Collections;
using System.Collections.Immutable;

namespace GwReprocess.Time;

/// <summary>An immutable list of segments with the algebra IGWN users rely on (gwpy's <c>SegmentList</c>).</summary>
/// <remarks>
/// Set operations return coalesced lists (sorted, disjoint, no empty segments, touching segments
/// merged), so <c>[0, 10) ∪ [10, 20)</c> is <c>[0, 20)</c>. The constructor keeps the order and
/// overlaps it is given; <see cref="Coalesce"/> normalises.
/// </remarks>
public sealed class SegmentList : IReadOnlyList<Segment>, IEquatable<SegmentList>
{
    private readonly ImmutableArray<Segment> _segments;

    public static SegmentList Empty { get; } = new(ImmutableArray<Segment>.Empty, coalesced: true);

    public SegmentList(IEnumerable<Segment> segments) : this(segments.ToImmutableArray(), coalesced: false) { }

    private SegmentList(ImmutableArray<Segment> segments, bool coalesced)
    {
        _segments = segments;
        IsCoalesced = coalesced || CheckCoalesced(segments);
    }

    /// <summary>True when sorted, disjoint, non-touching and without empty segments.</summary>
    public bool IsCoalesced { get; }

    public int Count => _segments.Length;

    public Segment this[int index] => _segments[index];

    /// <summary>The segments as a span, for loops that should not allocate.</summary>
    public ReadOnlySpan<Segment> AsSpan() => _segments.AsSpan();

    public ImmutableArray<Segment>.Enumerator GetEnumerator() => _segments.GetEnumerator();
    IEnumerator<Segment> IEnumerable<Segment>.GetEnumerator() => ((IEnumerable<Segment>)_segments).GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => ((IEnumerable)_segments).GetEnumerator();

    /// <summary>The sum of the segments' durations (counting overlaps twice unless coalesced first).</summary>
    public GpsDuration TotalDuration
    {
        get
        {
            long ns = 0;
            foreach (var s in _segments) ns = checked(ns + s.Duration.TotalNanoseconds);
            return GpsDuration.FromNanoseconds(ns);
        }
    }

    /// <summary>The smallest segment containing every segment, or null when empty.</summary>
    public Segment? Extent
    {
        get
        {
            if (_segments.IsEmpty) return null;
            var start = _segments[0].Start;
            var end = _segments[0].End;
            foreach (var s in _segments)
            {
                start = GpsTime.Min(start, s.Start);
                end = GpsTime.Max(end, s.End);
            }
            return new Segment(start, end);
        }
    }

    /// <summary>Sorts, drops empty segments and merges overlapping or touching ones.</summary>
    public SegmentList Coalesce()
    {
        if (IsCoalesced) return this;
        var sorted = _segments.Sort();
        var builder = ImmutableArray.CreateBuilder<Segment>(sorted.Length);
        foreach (var s in sorted)
        {
            if (s.IsEmpty) continue;
            if (builder.Count > 0 && s.Start <= builder[^1].End)
            {
                if (s.End > builder[^1].End) builder[^1] = new Segment(builder[^1].Start, s.End);
                continue;
            }
            builder.Add(s);
        }
        return new SegmentList(builder.ToImmutable(), coalesced: true);
    }

    /// <summary>Everything covered by either list.</summary>
    public SegmentList Union(SegmentList other) =>
        new SegmentList(_segments.AddRange(other._segments), coalesced: false).Coalesce();

    /// <summary>Everything covered by both lists.</summary>
    public SegmentList Intersect(SegmentList other)
    {
        var a = Coalesce()._segments;
        var b = other.Coalesce()._segments;
        var result = ImmutableArray.CreateBuilder<Segment>();
        int i = 0, j = 0;
        while (i < a.Length && j < b.Length)
        {
            var s = GpsTime.Max(a[i].Start, b[j].Start);
            var e = GpsTime.Min(a[i].End, b[j].End);
            if (s < e) result.Add(new Segment(s, e));
            if (a[i].End <= b[j].End) i++; else j++;
        }
        return new SegmentList(result.ToImmutable(), coalesced: false).Coalesce();
    }

    /// <summary>What this list covers and <paramref name="other"/> does not.</summary>
    public SegmentList Subtract(SegmentList other)
    {
        var a = Coalesce()._segments;
        var b = other.Coalesce()._segments;
        var result = ImmutableArray.CreateBuilder<Segment>();
        int j = 0;
        foreach (var seg in a)
        {
            var cursor = seg.Start;
            while (j < b.Length && b[j].End <= cursor) j++;
            int k = j;
            while (k < b.Length && b[k].Start < seg.End)
            {
                if (b[k].Start > cursor) result.Add(new Segment(cursor, b[k].Start));
                cursor = GpsTime.Max(cursor, b[k].End);
                if (cursor >= seg.End) break;
                k++;
            }
            if (cursor < seg.End) result.Add(new Segment(cursor, seg.End));
        }
        return new SegmentList(result.ToImmutable(), coalesced: true);
    }

    /// <summary>The parts of <paramref name="span"/> this list does not cover.</summary>
    public SegmentList Complement(Segment span) => new SegmentList([span]).Subtract(this);

    /// <summary>Widens every segment by <paramref name="padding"/> at both ends, then coalesces.</summary>
    public SegmentList Protract(GpsDuration padding)
    {
        var b = ImmutableArray.CreateBuilder<Segment>(_segments.Length);
        foreach (var s in _segments) b.Add(s.Protract(padding));
        return new SegmentList(b.MoveToImmutable(), coalesced: false).Coalesce();
    }

    /// <summary>Narrows every segment by <paramref name="padding"/> at both ends, dropping those that vanish.</summary>
    public SegmentList Contract(GpsDuration padding)
    {
        var b = ImmutableArray.CreateBuilder<Segment>(_segments.Length);
        foreach (var s in _segments)
        {
            var c = s.Contract(padding);
            if (!c.IsEmpty) b.Add(c);
        }
        return new SegmentList(b.ToImmutable(), coalesced: false).Coalesce();
    }

    /// <summary>True when <paramref name="t"/> lies inside some segment.</summary>
    public bool Contains(GpsTime t)
    {
        foreach (var s in _segments) if (s.Contains(t)) return true;
        return false;
    }

    /// <summary>
    /// Splits every segment into chunks of <paramref name="length"/>, keeping <paramref name="padding"/> of
    /// real data on both sides of each chunk inside its segment (the padding a job reads).
    /// </summary>
    /// <remarks>
    /// Each segment is first contracted by the padding, so a padded chunk never reads outside its
    /// segment. A usable stretch shorter than <paramref name="minimum"/> yields nothing; a remainder
    /// shorter than <paramref name="minimum"/> is folded into the last chunk (never a sliver), and a
    /// longer remainder becomes a chunk of its own.
    /// </remarks>
    public IReadOnlyList<SegmentChunk> Chunk(GpsDuration length, GpsDuration minimum, GpsDuration padding = default)
    {
        if (length <= GpsDuration.Zero) throw new ArgumentOutOfRangeException(nameof(length), "chunk length must be positive");
        if (minimum < GpsDuration.Zero || minimum > length)
            throw new ArgumentOutOfRangeException(nameof(minimum), "minimum must lie in [0, length]");
        if (padding < GpsDuration.Zero) throw new ArgumentOutOfRangeException(nameof(padding), "padding must not be negative");

        var chunks = new List<SegmentChunk>();
        foreach (var seg in Coalesce()._segments)
        {
            if (seg.Duration < padding * 2) continue;
            var usable = new Segment(seg.Start + padding, seg.End - padding);
            var d = usable.Duration;
            if (d < minimum || usable.IsEmpty) continue;
            long full = d / length;
            var remainder = d % length;
            long count = full == 0 ? 1 : (remainder >= minimum && remainder > GpsDuration.Zero ? full + 1 : full);
            var cursor = usable.Start;
            for (long k = 0; k < count; k++)
            {
                var end = k == count - 1 ? usable.End : cursor + length;
                var core = new Segment(cursor, end);
                chunks.Add(new SegmentChunk(core, core.Protract(padding)));
                cursor = end;
            }
        }
        return chunks;
    }

    /// <summary>
    /// Like <see cref="Chunk(GpsDuration, GpsDuration, GpsDuration)"/>, but cuts a usable stretch only at
    /// <paramref name="cuts"/> (input file boundaries), so every chunk owns whole files except at a segment's padded edges.
    /// </summary>
    /// <remarks>
    /// Each chunk ends at the cut nearest to <paramref name="length"/> after its start (the earlier one on a tie) that leaves at
    /// least <paramref name="minimum"/> on both sides; a stretch of at most <paramref name="length"/>, or one with no such cut,
    /// is one chunk. Jobs are then about <paramref name="length"/> long, rounded to whole files.
    /// </remarks>
    public IReadOnlyList<SegmentChunk> Chunk(GpsDuration length, GpsDuration minimum, GpsDuration padding, IReadOnlyList<GpsTime> cuts)
    {
        if (length <= GpsDuration.Zero) throw new ArgumentOutOfRangeException(nameof(length), "chunk length must be positive");
        if (minimum < GpsDuration.Zero || minimum > length)
            throw new ArgumentOutOfRangeException(nameof(minimum), "minimum must lie in [0, length]");
        if (padding < GpsDuration.Zero) throw new ArgumentOutOfRangeException(nameof(padding), "padding must not be negative");

        var sorted = cuts.Distinct().Order().ToList();
        var chunks = new List<SegmentChunk>();
        foreach (var seg in Coalesce()._segments)
        {
            if (seg.Duration < padding * 2) continue;
            var usable = new Segment(seg.Start + padding, seg.End - padding);
            if (usable.Duration < minimum || usable.IsEmpty) continue;
            var cursor = usable.Start;
            while (cursor < usable.End)
            {
                var end = usable.End;
                if (usable.End - cursor > length)
                {
                    var target = cursor + length;
                    GpsTime? best = null;
                    foreach (var b in sorted)
                    {
                        if (b <= cursor || b >= usable.End || b - cursor < minimum || usable.End - b < minimum) continue;
                        if (best is not { } c || Math.Abs((b - target).TotalNanoseconds) < Math.Abs((c - target).TotalNanoseconds)) best = b;
                    }
                    if (best is { } cut) end = cut;
                }
                var core = new Segment(cursor, end);
                chunks.Add(new SegmentChunk(core, core.Protract(padding)));
                cursor = end;
            }
        }
        return chunks;
    }

    public bool Equals(SegmentList? other) =>
        other is not null && _segments.AsSpan().SequenceEqual(other._segments.AsSpan());

    public override bool Equals(object? obj) => Equals(obj as SegmentList);

    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (var s in _segments) h.Add(s);
        return h.ToHashCode();
    }

    public override string ToString() => "[" + string.Join(", ", _segments) + "]";

    private static bool CheckCoalesced(ImmutableArray<Segment> segments)
    {
        for (int i = 0; i < segments.Length; i++)
        {
            if (segments[i].IsEmpty) return false;
            if (i > 0 && segments[i].Start <= segments[i - 1].End) return false;
        }
        return true;
    }
}
