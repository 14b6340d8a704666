namespace GwReprocess.Time;

/// <summary>A half-open GPS interval <c>[Start, End)</c>, the IGWN convention.</summary>
public readonly record struct Segment : IComparable<Segment>
{
    public GpsTime Start { get; }
    public GpsTime End { get; }

    public Segment(GpsTime start, GpsTime end)
    {
        if (end < start)
            throw new ArgumentException($"segment end {end} is before its start {start}");
        Start = start;
        End = end;
    }

    /// <summary>A segment from whole GPS seconds.</summary>
    public Segment(long startSeconds, long endSeconds)
        : this(GpsTime.FromSeconds(startSeconds), GpsTime.FromSeconds(endSeconds)) { }

    /// <summary>A segment of a given length from its start.</summary>
    public static Segment FromStart(GpsTime start, GpsDuration duration) => new(start, start + duration);

    public GpsDuration Duration => End - Start;

    public bool IsEmpty => End == Start;

    /// <summary>True when <paramref name="t"/> lies in <c>[Start, End)</c>.</summary>
    public bool Contains(GpsTime t) => t >= Start && t < End;

    /// <summary>True when <paramref name="other"/> lies entirely inside this segment.</summary>
    public bool Contains(Segment other) => other.Start >= Start && other.End <= End;

    /// <summary>True when the two share a non-empty stretch of time.</summary>
    public bool Intersects(Segment other) => other.Start < End && Start < other.End;

    /// <summary>The common stretch, or null when the two do not overlap.</summary>
    public Segment? Intersect(Segment other)
    {
        var s = GpsTime.Max(Start, other.Start);
        var e = GpsTime.Min(End, other.End);
        return s < e ? new Segment(s, e) : null;
    }

    /// <summary>Widens both ends by <paramref name="padding"/> (gwpy's <c>protract</c>).</summary>
    public Segment Protract(GpsDuration padding) => new(Start - padding, End + padding);

    /// <summary>Narrows both ends by <paramref name="padding"/> (gwpy's <c>contract</c>); collapses to an empty segment at the middle when too short.</summary>
    public Segment Contract(GpsDuration padding)
    {
        if (Duration < padding * 2)
        {
            var mid = Start + GpsDuration.FromNanoseconds(Duration.TotalNanoseconds / 2);
            return new Segment(mid, mid);
        }
        return new Segment(Start + padding, End - padding);
    }

    public Segment Shift(GpsDuration offset) => new(Start + offset, End + offset);

    public int CompareTo(Segment other)
    {
        int c = Start.CompareTo(other.Start);
        return c != 0 ? c : End.CompareTo(other.End);
    }

    /// <summary>"[start, end)" in GPS seconds.</summary>
    public override string ToString() => $"[{Start}, {End})";
}
