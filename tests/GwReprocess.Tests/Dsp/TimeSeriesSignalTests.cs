using GwReprocess.Data;
using GwReprocess.Dsp;
using GwReprocess.Time;

namespace GwReprocess.Tests.Dsp;

/// <summary>The gwpy-shaped one-liners give the reference SciPy results and clear errors.</summary>
public class TimeSeriesSignalTests
{
    private static readonly GpsTime T0 = GpsTime.FromSeconds(1_187_008_882L);

    private static TimeSeries Strain16384 => new(new ChannelName("H1:GDS-CALIB_STRAIN"), T0, new SampleRate(16384), ReferenceFile.Dsp16384.Input, "strain");

    private static TimeSeries Strain4096 => new(new ChannelName("L1:GDS-CALIB_STRAIN"), T0, new SampleRate(4096), ReferenceFile.Dsp4096.Input, "strain");

    [Fact]
    public void ResampleTo4096MatchesScipyAndKeepsMetadata()
    {
        var resampled = Strain16384.Resample(SampleRate.Processing);
        Assert.Equal(new SampleRate(4096), resampled.SampleRate);
        Assert.Equal(T0, resampled.T0);
        Assert.Equal(Strain16384.End, resampled.End);
        Assert.Equal("H1:GDS-CALIB_STRAIN", resampled.Channel.Value);
        Assert.Equal("strain", resampled.Unit);
        var expected = ReferenceFile.Dsp16384.Read("resample_poly_1_4");
        Assert.True(ReferenceFile.MaxAbsDiff(resampled.Samples.Span, expected) <= 1e-9 * ReferenceFile.MaxAbs(ReferenceFile.Dsp16384.Input));
    }

    [Fact]
    public void UpsampleTo8192MatchesScipy()
    {
        var resampled = Strain4096.Resample(new SampleRate(8192));
        var expected = ReferenceFile.Dsp4096.Read("resample_poly_2_1");
        Assert.True(ReferenceFile.MaxAbsDiff(resampled.Samples.Span, expected) <= 1e-9 * ReferenceFile.MaxAbs(ReferenceFile.Dsp4096.Input));
    }

    [Theory]
    [InlineData(16384, 4096, 1, 4)]
    [InlineData(256, 4096, 16, 1)]
    [InlineData(20000, 4096, 128, 625)]   // Virgo-style rate
    [InlineData(44100, 48000, 160, 147)]
    [InlineData(0.5, 4, 8, 1)]            // fractional rates through the continued fraction
    [InlineData(2048.5, 4097, 2, 1)]
    public void RatesReduceToTheirRatio(double from, double to, int up, int down) =>
        Assert.Equal((up, down), ResamplingFilter.RatioFor(new SampleRate(from), new SampleRate(to)));

    [Theory]
    [InlineData(44100, 4096)]      // 1024/11025: down above the bound
    [InlineData(4096, 4099)]       // 4099 is prime
    [InlineData(1000, 1000 * Math.PI)]
    public void RatesWithoutASaneRatioAreBadInputNamingTheChannel(double from, double to)
    {
        var series = new TimeSeries(new ChannelName("V1:Hrec_hoft_16384Hz"), T0, new SampleRate(from), new double[64]);
        var ex = Assert.Throws<BadInputException>(() => series.Resample(new SampleRate(to)));
        Assert.StartsWith("V1:Hrec_hoft_16384Hz: ", ex.Message);
        Assert.DoesNotContain('\n', ex.Message);
    }

    [Fact]
    public void BandpassZeroPhaseMatchesScipy()
    {
        var filtered = Strain4096.Bandpass(55, 65, order: 8);
        var expected = ReferenceFile.Dsp4096.Read("bandpass_55_65_order8_sosfiltfilt");
        Assert.True(ReferenceFile.MaxAbsDiff(filtered.Samples.Span, expected) <= 1e-8 * ReferenceFile.MaxAbs(expected));
        Assert.Equal(T0, filtered.T0);
    }

    [Fact]
    public void CausalHighpassMatchesScipy()
    {
        var filtered = Strain4096.Highpass(15, order: 8, zeroPhase: false);
        var expected = ReferenceFile.Dsp4096.Read("highpass_15_order8_sosfilt");
        Assert.True(ReferenceFile.MaxAbsDiff(filtered.Samples.Span, expected) <= 1e-8 * ReferenceFile.MaxAbs(expected));
    }

    [Fact]
    public void LowpassRemovesAToneAboveItsCutoff()
    {
        var x = new double[4096 * 4];
        for (int i = 0; i < x.Length; i++) x[i] = Math.Sin(2 * Math.PI * 10 * i / 4096.0) + Math.Sin(2 * Math.PI * 1000 * i / 4096.0);
        var series = new TimeSeries(new ChannelName("X1:TEST"), T0, new SampleRate(4096), x);
        var y = series.Lowpass(100, order: 6).Samples.Span;
        for (int i = 4096; i < x.Length - 4096; i++) Assert.Equal(Math.Sin(2 * Math.PI * 10 * i / 4096.0), y[i], 3);
    }

    [Fact]
    public void FilterEdgesAtNyquistAreBadInputNamingTheChannel()
    {
        var ex = Assert.Throws<BadInputException>(() => Strain4096.Bandpass(55, 2048));
        Assert.StartsWith("L1:GDS-CALIB_STRAIN: ", ex.Message);
    }

    [Fact]
    public void AsdInSecondsMatchesScipyWelch()
    {
        var asd = Strain4096.Asd(fftLength: 1, overlap: 0.5, SpectralAverage.Median);
        var expected = ReferenceFile.Dsp4096.Read("asd_welch_median");
        Assert.Equal("L1:GDS-CALIB_STRAIN", asd.Name);
        Assert.Equal("strain/rtHz", asd.Unit);
        var actual = asd.Values.Span;
        for (int k = 0; k < expected.Length; k++) Assert.True(Math.Abs(actual[k] - expected[k]) <= 1e-6 * expected[k], $"bin {k}");
    }

    [Fact]
    public void AsdCsvHasFrequencyAndValueColumns()
    {
        var asd = Strain4096.Asd(1, 0.5, SpectralAverage.Mean);
        var writer = new StringWriter();
        asd.WriteCsv(writer);
        var lines = writer.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("frequency,asd", lines[0]);
        Assert.Equal(2050, lines.Length);
        var last = lines[^1].Split(',');
        Assert.Equal(2048.0, double.Parse(last[0], System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(ReferenceFile.Dsp4096.Read("asd_welch_mean")[^1], double.Parse(last[1], System.Globalization.CultureInfo.InvariantCulture), 1e-6 * ReferenceFile.Dsp4096.Read("asd_welch_mean")[^1]);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(1, -0.5)]
    [InlineData(32, 0)]
    public void AsdRejectsBadLengths(double fftLength, double overlap)
    {
        var ex = Assert.Throws<BadInputException>(() => Strain4096.Asd(fftLength, overlap));
        Assert.StartsWith("L1:GDS-CALIB_STRAIN: ", ex.Message);
    }
}
