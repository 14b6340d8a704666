namespace GwReprocess.Time;

/// <summary>The segment file layouts GwReprocess reads and writes.</summary>
public enum SegmentFileFormat
{
    /// <summary>Two columns, <c>start end</c>, one segment a line.</summary>
    Plain,
    /// <summary>segwizard: <c>index start end duration</c>, <c>#</c> comments.</summary>
    Segwizard,
    /// <summary>DQSegDB JSON with <c>known</c> and <c>active</c> lists.</summary>
    Json,
}
