namespace GwReprocess.Analysis;

/// <summary>The cleaned/raw ASD ratio at one spectral line or sideband (the bin nearest its frequency).</summary>
/// <param name="Kind">"line" (a mains harmonic) or "sideband" (a bilinear coupling's 60 Hz ± modulation).</param>
/// <param name="Hz">The feature's frequency.</param>
/// <param name="Ratio">ASD(cleaned) / ASD(raw) at the bin nearest <paramref name="Hz"/>.</param>
public sealed record SpectralFeatureRatio(string Kind, double Hz, double Ratio);
