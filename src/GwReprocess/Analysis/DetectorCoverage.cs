namespace GwReprocess.Analysis;

/// <summary>
/// What a run cleaned of one detector's data, in seconds: the analyzable time (science segments ∩ data), the time its
/// committed cleaned frames cover, and what was not cleaned, by reason; with the run-level cache and segment file written.
/// </summary>
/// <param name="Ifo">The detector.</param>
/// <param name="AnalyzableSeconds">Science segments (vetoes removed) ∩ the workflow's span ∩ frame coverage.</param>
/// <param name="CleanedSeconds">Time covered by committed cleaned frames (the segment file's total).</param>
/// <param name="SegmentEdgeSeconds">Analyzable time no job cleans: the padding at segment edges, and segments too short for a job.</param>
/// <param name="FailedJobSeconds">Time planned jobs own but did not commit (failed, missing or still running jobs).</param>
/// <param name="CleanedFrames">Committed cleaned frame files.</param>
/// <param name="Cache">The LAL cache of the cleaned frames, relative to the outputs.</param>
/// <param name="SegmentFile">The segment file of the cleaned time, relative to the outputs.</param>
/// <param name="IncompleteJobs">Jobs that own time not cleaned.</param>
public sealed record DetectorCoverage(string Ifo, double AnalyzableSeconds, double CleanedSeconds, double SegmentEdgeSeconds, double FailedJobSeconds,
    int CleanedFrames, string Cache, string SegmentFile, IReadOnlyList<string> IncompleteJobs);
