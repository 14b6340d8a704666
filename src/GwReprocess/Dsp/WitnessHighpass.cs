using System.Globalization;

namespace GwReprocess.Dsp;

/// <summary>The witnesses' preprocessing before standardisation: a causal Butterworth high-pass, the same function in the fits, in training and in the client's stream.</summary>
/// <remarks>
/// A cleaner with a receptive field of tens of milliseconds cannot tell a witness's sub-Hz noise from the slow modulation it is
/// meant to multiply the mains by, so it puts that noise times the mains within a fraction of a Hz of the line. Removing it
/// before the cleaner sees the witness is what noise-regression pipelines do. Causal, so a stream and a span filtered in one
/// piece agree sample for sample; the filter starts in the steady state of its first sample (<c>sosfilt_zi · x[0]</c>), so a
/// witness's offset does not ring through the first seconds.
/// </remarks>
/// <param name="CutoffHz">The −3 dB frequency.</param>
/// <param name="Order">Butterworth order (poles).</param>
public sealed record WitnessHighpass(double CutoffHz, int Order = WitnessHighpass.DefaultOrder)
{
    /// <summary>Order when none is given: −24 dB an octave below the cutoff.</summary>
    public const int DefaultOrder = 4;

    /// <summary>Highest order accepted.</summary>
    public const int MaxOrder = 8;

    /// <summary>Relative size of a start transient that counts as gone (float rounding of the samples streamed).</summary>
    public const double SettledFraction = 1e-7;

    /// <summary>The sections at <paramref name="sampleRateHz"/>: <c>butter(Order, CutoffHz, 'highpass', fs, output='sos')</c>.</summary>
    public SecondOrderSections Sections(double sampleRateHz)
    {
        Check(sampleRateHz);
        return Butterworth.Highpass(Order, CutoffHz, sampleRateHz);
    }

    /// <summary>Filters a whole span in one piece (the fits and training): equal to streaming it through <see cref="CreateFilter"/>.</summary>
    public double[] Apply(ReadOnlySpan<double> samples, double sampleRateHz)
    {
        var y = new double[samples.Length];
        CreateFilter(sampleRateHz).Process(samples, y);
        return y;
    }

    /// <summary>A filter for one stream at <paramref name="sampleRateHz"/>, its state carried from chunk to chunk.</summary>
    public WitnessHighpassFilter CreateFilter(double sampleRateHz) => new(Sections(sampleRateHz));

    /// <summary>
    /// Seconds after a stream's start by which a start transient has decayed to <see cref="SettledFraction"/> of its size: the
    /// slowest pole's envelope, <c>exp(−2π·fc·sin(π/2N)·t)</c>, of the analog prototype the filter is the bilinear image of.
    /// </summary>
    public double SettlingSeconds => -Math.Log(SettledFraction) / (2 * Math.PI * CutoffHz * Math.Sin(Math.PI / (2 * Order)));

    /// <summary>The form model configs store it in (<c>"1 Hz order 4"</c>), read back by <see cref="Parse"/>.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{CutoffHz:R} Hz order {Order}");

    /// <summary>Reads <see cref="ToString"/>'s form; null when it is not that form.</summary>
    public static WitnessHighpass? Parse(string text)
    {
        var f = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (f.Length != 4 || f[1] != "Hz" || f[2] != "order"
            || !double.TryParse(f[0], NumberStyles.Float, CultureInfo.InvariantCulture, out double cutoff)
            || !int.TryParse(f[3], NumberStyles.None, CultureInfo.InvariantCulture, out int order)
            || !(cutoff > 0) || !double.IsFinite(cutoff) || order < 1 || order > MaxOrder)
            return null;
        return new WitnessHighpass(cutoff, order);
    }

    private void Check(double sampleRateHz)
    {
        if (!(CutoffHz > 0) || !(CutoffHz < sampleRateHz / 2))
            throw new BadInputException(string.Create(CultureInfo.InvariantCulture, $"witness high-pass cutoff {CutoffHz} Hz must lie between 0 and Nyquist ({sampleRateHz / 2} Hz)"));
        if (Order < 1 || Order > MaxOrder) throw new BadInputException($"witness high-pass order {Order} must be 1..{MaxOrder}");
    }
}
