namespace GwReprocess.Cleaning;

/// <summary>The band the noise estimate is trusted in (Hz): only this part of it is subtracted from the strain.</summary>
public sealed record CleaningBand(double LowHz, double HighHz);
