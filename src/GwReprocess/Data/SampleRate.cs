using System.Globalization;

namespace GwReprocess.Data;

/// <summary>Samples per second of a regularly sampled channel.</summary>
public readonly record struct SampleRate : IComparable<SampleRate>
{
    /// <summary>Rate in hertz.</summary>
    public double Hertz { get; }

    public SampleRate(double hertz)
    {
        if (!double.IsFinite(hertz) || hertz <= 0)
            throw new ArgumentOutOfRangeException(nameof(hertz), hertz, "a sample rate must be a positive number of hertz");
        Hertz = hertz;
    }

    /// <summary>The processing rate of every GwReprocess model.</summary>
    public static SampleRate Processing => new(4096);

    /// <summary>From a sample spacing in seconds (GWF's <c>dx</c>, GWOSC's <c>Xspacing</c>).</summary>
    public static SampleRate FromSpacing(double seconds) => new(1.0 / seconds);

    /// <summary>Seconds between samples.</summary>
    public double Spacing => 1.0 / Hertz;

    /// <summary>True when the rate is a whole number of hertz (every LIGO channel rate is).</summary>
    public bool IsInteger => Hertz == Math.Round(Hertz);

    /// <summary>Samples in <paramref name="seconds"/>, requiring a whole count.</summary>
    public long SamplesIn(double seconds)
    {
        double n = seconds * Hertz;
        long rounded = (long)Math.Round(n);
        if (Math.Abs(n - rounded) > 1e-6 * Math.Max(1, Math.Abs(n)))
            throw new ArgumentException($"{seconds} s at {this} is not a whole number of samples");
        return rounded;
    }

    public int CompareTo(SampleRate other) => Hertz.CompareTo(other.Hertz);

    public override string ToString() => Hertz.ToString("R", CultureInfo.InvariantCulture) + " Hz";
}
