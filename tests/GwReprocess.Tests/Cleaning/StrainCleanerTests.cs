using GwReprocess.Cleaning;
using GwReprocess.Dsp;

namespace GwReprocess.Tests.Cleaning;

public class StrainCleanerTests
{
    [Fact]
    public void Subtracts_the_band_passed_noise_over_the_frame_only()
    {
        const int rate = 4096, margin = 2 * rate, n = 4 * rate;
        var band = new CleaningBand(15, 500);
        var rng = new Random(3);
        var noise = new double[n + 2 * margin];
        for (int i = 0; i < noise.Length; i++) noise[i] = rng.NextDouble() - 0.5;
        var strain = new double[n];
        for (int i = 0; i < n; i++) strain[i] = Math.Sin(i * 0.01);
        var expected = SosFilter.FilterZeroPhase(Butterworth.Bandpass(8, 15, 500, rate), noise);

        var cleaned = (double[])strain.Clone();
        new StrainCleaner(band, rate, margin).Clean(cleaned, noise);

        for (int i = 0; i < n; i++) Assert.Equal(strain[i] - expected[margin + i], cleaned[i]);
    }

    [Fact]
    public void Refuses_noise_without_both_margins()
    {
        var cleaner = new StrainCleaner(new CleaningBand(15, 500), 4096, 16);
        Assert.Throws<ArgumentException>(() => cleaner.Clean(new double[64], new double[64 + 16]));
    }
}
