namespace GwReprocess.Training;

/// <summary>What a BBHnet training produced: the version, spans, history, the export check and the comparison with the ensemble's own detector.</summary>
public sealed record TrainedDetector(string Model, long Version, string Ensemble, Time.Segment Training, Time.Segment Validation, IReadOnlyList<EpochResult> History,
    double ExportError, double Seconds, IReadOnlyList<string> Comparison);
