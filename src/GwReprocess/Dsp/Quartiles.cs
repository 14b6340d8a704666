namespace GwReprocess.Dsp;

/// <summary>25th percentile, median, 75th percentile.</summary>
public readonly record struct Quartiles(double P25, double Median, double P75);
