namespace GwReprocess.Analysis;

/// <summary>
/// What a run cleaned of one detector's data, in seconds: the analyzable time (science segments ∩ data), the time its
/// committed cleaned frames cover, and what was not cleaned, by reason; with the run-level cache and segment file written.
/// </summary>
/// <param name="Ifo">The detector.</param>
/// <param name="AnalyzableSeconds">Science segments (vetoes removed) ∩ the workflow's span ∩ frame coverage.</param>
/// <param name="CleanedSeconds">Time covered by committed cleaned frames (the segment file's total).</param>
/// <param name="SegmentEdgeSeconds">Analyzable time no job cleans (or, strain-only, scores): the padding at segment edges, and segments too short for a job.</param>
/// <param name="FailedJobSeconds">Time planned jobs own but did not commit (failed, missing or still running jobs): frames not cleaned, or, strain-only, not scored.</param>
/// <param name="CleanedFrames">Committed cleaned frame files.</param>
/// <param name="Cache">The LAL cache of the cleaned frames, relative to the outputs.</param>
/// <param name="SegmentFile">The segment file of the cleaned time, relative to the outputs.</param>
/// <param name="IncompleteJobs">Jobs that own time not cleaned.</param>
public sealed record DetectorCoverage(string Ifo, double AnalyzableSeconds, double CleanedSeconds, double SegmentEdgeSeconds, double FailedJobSeconds,
    int CleanedFrames, string Cache, string SegmentFile, IReadOnlyList<string> IncompleteJobs)
{
    /// <summary>True for a strain-only workflow (no witnesses): it cleans nothing by design, and searches; its coverage is that of the score files.</summary>
    public bool StrainOnly { get; init; }

    /// <summary>Time covered by committed score files (<see cref="OutputCatalog.ScoresCacheName"/>; the network's, so the same for every detector).</summary>
    public double SearchedSeconds { get; init; }

    /// <summary>Committed score files.</summary>
    public int ScoreFiles { get; init; }
}
