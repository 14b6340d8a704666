using GwReprocess.Time;

namespace GwReprocess.Frames;

/// <summary>One line of a LAL cache: observatory, frame type, the span the file covers, and where it is.</summary>
public sealed record FrameCacheEntry(string Observatory, string FrameType, Segment Span, string Location)
{
    /// <summary>
    /// The local file path when <see cref="Location"/> is local (<c>file://localhost/path</c>,
    /// <c>file:///path</c> or a plain path), else null (s3://, gs://, osdf://, ...).
    /// </summary>
    public string? LocalPath => IO.Location.LocalPathOf(Location);

    /// <summary>The cache line, <c>OBS TYPE GPSSTART DURATION URL</c>.</summary>
    public override string ToString() => $"{Observatory} {FrameType} {Span.Start} {Span.Duration} {Location}";
}
