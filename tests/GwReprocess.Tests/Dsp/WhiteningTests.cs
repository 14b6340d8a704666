using GwReprocess.Data;
using GwReprocess.Dsp;
using GwReprocess.Time;

namespace GwReprocess.Tests.Dsp;

/// <summary>Whitening by the reference input's own ASD flattens its spectrum to unit-variance white noise, in one block and streamed.</summary>
public class WhiteningTests
{
    private static readonly double[] Input = ReferenceFile.Dsp4096.Input;
    private const double Rate = 4096;

    /// <summary>Median over 20–1800 Hz of the whitened PSD relative to white unit-variance noise (2/fs), and the fraction of bins within ±40 %.</summary>
    private static (double Median, double WithinTolerance) Flatness(ReadOnlySpan<double> whitened)
    {
        var psd = Welch.Psd(whitened, Rate, 4096, 2048, SpectralAverage.Median).Values.Span;
        var ratios = new List<double>();
        for (int k = 20; k <= 1800; k++) ratios.Add(psd[k] / (2 / Rate));
        ratios.Sort();
        double within = ratios.Count(r => r > 0.6 && r < 1.4) / (double)ratios.Count;
        return (ratios[ratios.Count / 2], within);
    }

    [Fact]
    public void InputIsFarFromWhiteBeforeWhitening()
    {
        double rms = Math.Sqrt(Input.Average(u => u * u));
        var scaled = Input.Select(v => v / rms).ToArray();
        var (_, within) = Flatness(scaled);
        Assert.True(within < 0.5, $"{within:P0} of bins already flat");
    }

    [Fact]
    public void FrequencyDomainWhiteningFlattensTheSpectrum()
    {
        var asd = Welch.Asd(Input, Rate, 4096, 2048, SpectralAverage.Median);
        var white = Whitening.InFrequencyDomain(Input, Rate, asd, lowCornerHz: 10);
        var (median, within) = Flatness(white.AsSpan(4096, white.Length - 8192));
        Assert.InRange(median, 0.85, 1.15);
        Assert.True(within > 0.9, $"only {within:P0} of bins within ±40 %");
    }

    [Fact]
    public void FirWhiteningFlattensTheSpectrumAndStreamsToTheSameSamples()
    {
        var asd = Welch.Asd(Input, Rate, 4096, 2048, SpectralAverage.Median);
        var filter = Whitening.FirFilter(asd, Rate, taps: 4097, lowCornerHz: 10);
        var oneShot = PolyphaseResampler.Resample(Input, filter);
        Assert.Equal(Input.Length, oneShot.Length);
        var (median, within) = Flatness(oneShot.AsSpan(4096, oneShot.Length - 8192));
        Assert.InRange(median, 0.85, 1.15);
        Assert.True(within > 0.9, $"only {within:P0} of bins within ±40 %");

        var stream = new StreamingResampler(filter);
        var streamed = new List<double>();
        for (int i = 0; i < Input.Length; i += 1000) streamed.AddRange(stream.Process(Input.AsSpan(i, Math.Min(1000, Input.Length - i))));
        streamed.AddRange(stream.Flush());
        Assert.Equal(oneShot, streamed.ToArray());
    }

    [Fact]
    public void FirIsSymmetricSoWhiteningAddsNoDelay()
    {
        var asd = Welch.Asd(Input, Rate, 4096, 2048, SpectralAverage.Median);
        var h = Whitening.FirFromAsd(asd, Rate, 2049);
        double peak = h.Max(Math.Abs);
        Assert.Equal(peak, Math.Abs(h[h.Length / 2]));
        for (int i = 0; i < h.Length / 2; i++) Assert.True(Math.Abs(h[i] - h[^(i + 1)]) <= 1e-12 * peak, $"tap {i}");
    }

    [Fact]
    public void TimeSeriesWhitenGivesUnitVariance()
    {
        var series = new TimeSeries(new ChannelName("L1:GDS-CALIB_STRAIN"), GpsTime.FromSeconds(1_000_000_000L), new SampleRate(Rate), Input);
        var white = series.Whiten(series.Asd(2, 1), fftLength: 2, lowCornerHz: 10);
        var core = white.Samples.Span[8192..^8192];
        double variance = 0;
        foreach (var v in core) variance += v * v;
        variance /= core.Length;
        Assert.InRange(variance, 0.8, 1.2);
    }

    [Fact]
    public void EvenFirLengthIsBadInput() =>
        Assert.Throws<BadInputException>(() => Whitening.FirFromAsd(new FrequencySeries("x", 0, 1, new double[2049]), Rate, 4096));
}
