using System.Numerics.Tensors;
using GwReprocess.Dsp;

namespace GwReprocess.Cleaning;

/// <summary>Band-passes a noise estimate (zero phase, 8th-order Butterworth) and subtracts it from the strain.</summary>
/// <remarks>
/// The noise is filtered over the frame plus <see cref="Margin"/> samples on each side and only the middle is used, so the
/// filter's edge transients stay outside the frame and a frame cleans the same whichever stream it came from.
/// </remarks>
public sealed class StrainCleaner
{
    private readonly SecondOrderSections _band;

    /// <param name="band">The band kept of the noise estimate.</param>
    /// <param name="sampleRateHz">Rate of strain and noise.</param>
    /// <param name="margin">Samples of noise before and after the strain, filtered but not subtracted.</param>
    public StrainCleaner(CleaningBand band, double sampleRateHz, int margin)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(margin);
        _band = Butterworth.Bandpass(8, band.LowHz, band.HighHz, sampleRateHz);
        Margin = margin;
    }

    /// <summary>Samples of noise needed on each side of the strain.</summary>
    public int Margin { get; }

    /// <summary>Replaces <paramref name="strain"/> by strain − band-passed noise.</summary>
    /// <param name="strain">The frame's strain; cleaned in place.</param>
    /// <param name="noise">The noise estimate from <see cref="Margin"/> samples before the strain to <see cref="Margin"/> after it.</param>
    public void Clean(Span<double> strain, ReadOnlySpan<double> noise)
    {
        if (noise.Length != strain.Length + 2 * Margin)
            throw new ArgumentException($"noise holds {noise.Length} samples, expected {strain.Length} + 2 × {Margin}", nameof(noise));
        var filtered = SosFilter.FilterZeroPhase(_band, noise);
        TensorPrimitives.Subtract(strain, filtered.AsSpan(Margin, strain.Length), strain);
    }
}
