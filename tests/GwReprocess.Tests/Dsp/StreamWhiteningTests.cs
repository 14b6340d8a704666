using GwReprocess.Dsp;

namespace GwReprocess.Tests.Dsp;

/// <summary>The stream-whitening reference: its convolution is the project's centred FIR filter, and white noise comes out unit-variance.</summary>
public sealed class StreamWhiteningTests
{
    private const int Rate = 1024;

    private static double[] Gaussian(int n, int seed, double sigma)
    {
        var rng = new Random(seed);
        var x = new double[n];
        for (int i = 0; i < n; i++) x[i] = sigma * Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
        return x;
    }

    [Fact]
    public void WindowIsTheBackgroundFirAppliedCentredEndingHalfTheFirBeforeTheNewestSample()
    {
        const int background = 4096, kernel = 1000, segment = 512, taps = 255;
        Assert.Equal(127, StreamWhitening.Delay(taps));
        var x = Gaussian(StreamWhitening.SeriesLength(background, kernel, taps), 1, 2e-21);
        // A coloured series: a three-tap smoother makes the PSD non-flat.
        for (int i = x.Length - 1; i >= 2; i--) x[i] = x[i] + 0.8 * x[i - 1] + 0.3 * x[i - 2];
        var y = StreamWhitening.Window(x, kernel, segment, taps, 8, Rate);

        var asd = Welch.Asd(x.AsSpan(0, background), Rate, segment, segment / 2, SpectralAverage.Mean);
        var filtered = PolyphaseResampler.Resample(x, Whitening.FirFilter(asd, Rate, taps, 8));
        Assert.Equal(kernel, y.Length);
        for (int i = 0; i < kernel; i++) Assert.Equal(filtered[background + i], y[i], 1e-9 * Math.Abs(filtered[background + i]) + 1e-12);
    }

    [Fact]
    public void WhiteNoiseComesOutWithUnitVariance()
    {
        // 127 Welch segments: the mean PSD's 1/P bias inflates the variance by about 2/ν ≈ 1 %.
        var x = Gaussian(StreamWhitening.SeriesLength(32768, 16384, 255), 2, 3e-22);
        var y = StreamWhitening.Window(x, 16384, 512, 255, 0, Rate);
        double variance = y.Average(v => v * v);
        Assert.InRange(variance, 0.95, 1.05);
    }

    [Fact]
    public void AZeroBackgroundGivesZeros()
    {
        var x = new double[StreamWhitening.SeriesLength(4096, 512, 127)];
        for (int i = 4096; i < x.Length; i++) x[i] = 1e-21 * (i % 7);
        Assert.All(StreamWhitening.Window(x, 512, 256, 127, 10, Rate), v => Assert.Equal(0.0, v));
    }
}
