namespace GwReprocess.Models;

/// <summary>The <c>whitener</c>'s design in seconds and hertz (<c>--psd-length</c>, <c>--psd-segment</c>, <c>--stream-fir-taps</c>, <c>--low-corner</c>), turned into samples at a rate.</summary>
public sealed record StreamWhiteningOptions
{
    /// <summary>Background span before each window whose PSD whitens it, seconds.</summary>
    public double BackgroundSeconds { get; init; } = StreamWhitener.DefaultBackgroundSeconds;

    /// <summary>Welch segment length, seconds (hop half of it).</summary>
    public double SegmentSeconds { get; init; } = StreamWhitener.DefaultSegmentSeconds;

    /// <summary>Whitening FIR length (odd, shorter than the segment); 0 = <see cref="StreamWhitener.DefaultTaps"/>.</summary>
    public int Taps { get; init; }

    /// <summary>Frequencies below this are removed, Hz.</summary>
    public double LowCornerHz { get; init; } = StreamWhitener.DefaultLowCornerHz;

    public int BackgroundSamples(int sampleRate) => Samples(BackgroundSeconds, sampleRate, "--psd-length");

    public int SegmentSamples(int sampleRate) => Samples(SegmentSeconds, sampleRate, "--psd-segment");

    public int TapsAt(int sampleRate) => Taps == 0 ? StreamWhitener.DefaultTaps(SegmentSamples(sampleRate)) : Taps;

    private static int Samples(double seconds, int sampleRate, string option)
    {
        double n = seconds * sampleRate;
        if (!(n >= 1) || Math.Abs(n - Math.Round(n)) > 1e-9 || n > int.MaxValue / 4)
            throw new BadInputException($"{option} {seconds} s at {sampleRate} Hz is not a positive whole number of samples");
        return (int)Math.Round(n);
    }
}
