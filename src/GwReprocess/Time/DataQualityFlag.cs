namespace GwReprocess.Time;

/// <summary>A data-quality flag as DQSegDB serves it: where it was known, and where it was active.</summary>
public sealed record DataQualityFlag(string Name, SegmentList Known, SegmentList Active)
{
    /// <summary>The interferometer prefix of <see cref="Name"/> ("H1" of "H1:DMT-ANALYSIS_READY:1"), or empty.</summary>
    public string Ifo => Name.IndexOf(':') is > 0 and var i ? Name[..i] : "";
}
