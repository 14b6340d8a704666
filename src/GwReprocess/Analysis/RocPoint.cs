namespace GwReprocess.Analysis;

/// <summary>One threshold of a ROC sweep: the background event rate it lets through and the share of injections above it.</summary>
/// <param name="Threshold">Score threshold (above = strictly greater).</param>
/// <param name="FarPerHour">Background events (clusters of consecutive above-threshold windows) per hour of background livetime.</param>
/// <param name="Efficiency">Share of the ROC's injections (network SNR ≥ the ROC's floor) scoring above the threshold.</param>
public sealed record RocPoint(double Threshold, double FarPerHour, double Efficiency);
