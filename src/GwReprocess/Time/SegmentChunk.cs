namespace GwReprocess.Time;

/// <summary>One piece of a chunked segment list: the span a job owns, and the padded span it reads.</summary>
public readonly record struct SegmentChunk(Segment Core, Segment Padded)
{
    /// <summary>Padding read before <see cref="Core"/>.</summary>
    public GpsDuration PadBefore => Core.Start - Padded.Start;

    /// <summary>Padding read after <see cref="Core"/>.</summary>
    public GpsDuration PadAfter => Padded.End - Core.End;
}
