using GwReprocess.Time;

namespace GwReprocess.Training;

/// <summary>What a training run produced for one detector.</summary>
public sealed record TrainedCleaner(string Ifo, string Model, long Version, Segment Training, Segment Validation, IReadOnlyList<EpochResult> History,
    double ExportError, double Seconds);
