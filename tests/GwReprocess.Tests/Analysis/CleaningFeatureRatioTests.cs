using GwReprocess.Analysis;
using GwReprocess.Data;
using GwReprocess.Time;

namespace GwReprocess.Tests.Analysis;

/// <summary>The cleaning table's line and sideband rows, and its count of broadband 1 Hz bands the cleaning moved by more than 10 %.</summary>
public sealed class CleaningFeatureRatioTests
{
    private const int Rate = 4096, Seconds = 64;

    private static double[] Noise(int seed)
    {
        var rng = new Random(seed);
        var x = new double[Rate * Seconds];
        for (int i = 0; i < x.Length; i++) x[i] = Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
        return x;
    }

    private static TimeSeries Series(string channel, double[] samples) =>
        new(new ChannelName(channel), GpsTime.FromSeconds(1_000_000_000), new SampleRate(Rate), samples);

    [Fact]
    public void Lines_and_sidebands_removed_read_small_and_an_added_tone_in_one_band_is_counted()
    {
        var noise = Noise(1);
        var raw = (double[])noise.Clone();
        var cleaned = (double[])noise.Clone();
        for (int i = 0; i < raw.Length; i++)
        {
            double t = (double)i / Rate;
            raw[i] += 30 * Math.Sin(2 * Math.PI * 60 * t) + 3 * Math.Sin(2 * Math.PI * 58.5 * t) + 10 * Math.Sin(2 * Math.PI * 120 * t);
            // The cleaning removed the 60 Hz line and the sideband, kept the 120 Hz line, and put a tone into 300-301 Hz.
            cleaned[i] += 10 * Math.Sin(2 * Math.PI * 120 * t) + 1.5 * Math.Sin(2 * Math.PI * 300.5 * t);
        }
        var r = CleaningComparison.Ratio("H1", Series("H1:STRAIN", raw), Series("H1:STRAIN_CLEAN", cleaned), 4,
            [("line", 60), ("line", 120), ("sideband", 58.5)]);
        var at = r.Features.ToDictionary(f => f.Hz, f => f.Ratio);
        Assert.Equal(3, r.Features.Count);
        Assert.True(at[60] < 0.02, $"60 Hz ratio {at[60]}");
        Assert.True(at[58.5] < 0.2, $"58.5 Hz ratio {at[58.5]}");
        Assert.InRange(at[120], 0.95, 1.05);
        Assert.Equal("sideband", r.Features.Single(f => f.Hz == 58.5).Kind);
        // 20-50 Hz and 80-500 Hz in 1 Hz bands, less the six within 2 Hz of 120 Hz (117-123 Hz; the others lie in the excluded 50-80 Hz).
        Assert.Equal(30 + 420 - 6, r.BroadbandBands);
        Assert.Equal(1, r.BroadbandOutside10Percent);
        Assert.True(r.BroadbandWorst > 1.1, $"worst band {r.BroadbandWorst}");
    }

    [Fact]
    public void Identical_series_leave_every_broadband_band_at_one()
    {
        var noise = Noise(2);
        var r = CleaningComparison.Ratio("L1", Series("L1:STRAIN", noise), Series("L1:STRAIN_CLEAN", noise), 4, []);
        Assert.Empty(r.Features);
        Assert.Equal(450, r.BroadbandBands);
        Assert.Equal(0, r.BroadbandOutside10Percent);
        Assert.Equal(1, r.BroadbandWorst, 9);
    }
}
