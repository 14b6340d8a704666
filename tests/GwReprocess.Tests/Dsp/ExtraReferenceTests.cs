using GwReprocess.Dsp;

namespace GwReprocess.Tests.Dsp;

/// <summary>The general paths (rational phases, other windows, custom taps, order 16, odd orders, non-power-of-two Welch) against SciPy outputs in dsp-extra.h5.</summary>
public class ExtraReferenceTests
{
    private static readonly ReferenceFile Reference = ReferenceFile.DspExtra;

    [Fact]
    public void EveryDatasetIsCovered()
    {
        var covered = new[]
        {
            "input", "resample_poly_3_7", "resample_poly_147_160", "resample_poly_16_1", "resample_poly_5_2", "resample_poly_1_3",
            "resample_poly_1_4_kaiser8", "resample_poly_2_3_hamming", "resample_poly_1_5_taps30", "decimate_fir_3",
            "lowpass_300_order16_sosfiltfilt", "bandpass_20_500_order5_sosfiltfilt", "highpass_40_order3_sosfiltfilt",
            "asd_welch_median_1000_300", "asd_welch_mean_1024_512",
        };
        Assert.Equal(covered.Order().ToArray(), Reference.DatasetNames());
        Assert.Equal("1.10.1", Reference.ScipyVersion);
    }

    [Theory]
    [InlineData(3, 7)]
    [InlineData(147, 160)]
    [InlineData(16, 1)]
    [InlineData(5, 2)]
    [InlineData(1, 3)]
    public void DefaultFilterRatios(int up, int down) =>
        AssertResampled($"resample_poly_{up}_{down}", $"resample_poly(input, up={up}, down={down}), defaults", ResamplingFilter.Create(up, down));

    [Fact]
    public void KaiserBeta8Window() =>
        AssertResampled("resample_poly_1_4_kaiser8", "window=('kaiser', 8.0)", ResamplingFilter.Create(1, 4, FirWindow.Kaiser(8.0)));

    [Fact]
    public void HammingWindow() =>
        AssertResampled("resample_poly_2_3_hamming", "window='hamming'", ResamplingFilter.Create(2, 3, FirWindow.Hamming));

    [Fact]
    public void CustomEvenLengthTaps() =>
        AssertResampled("resample_poly_1_5_taps30", "firwin(30, 0.2, window='blackman')", ResamplingFilter.FromTaps(1, 5, FirDesign.Lowpass(30, 0.2, FirWindow.Blackman)));

    [Fact]
    public void FirDecimateByThree()
    {
        Assert.Equal("scipy.signal.decimate(input, 3, ftype='fir', zero_phase=True)", Reference.Operation("decimate_fir_3"));
        AssertClose(Reference.Read("decimate_fir_3"), PolyphaseResampler.Decimate(Reference.Input, 3), 1e-9 * ReferenceFile.MaxAbs(Reference.Input));
    }

    [Fact]
    public void LowpassOrder16ZeroPhase() =>
        AssertFiltered("lowpass_300_order16_sosfiltfilt", "butter(16, 300, btype='lowpass'", Butterworth.Lowpass(16, 300, 4096));

    [Fact]
    public void BandpassOrder5ZeroPhase() =>
        AssertFiltered("bandpass_20_500_order5_sosfiltfilt", "butter(5, [20, 500], btype='bandpass'", Butterworth.Bandpass(5, 20, 500, 4096));

    [Fact]
    public void HighpassOrder3ZeroPhase() =>
        AssertFiltered("highpass_40_order3_sosfiltfilt", "butter(3, 40, btype='highpass'", Butterworth.Highpass(3, 40, 4096));

    [Theory]
    [InlineData("asd_welch_median_1000_300", 1000, 300, SpectralAverage.Median)]
    [InlineData("asd_welch_mean_1024_512", 1024, 512, SpectralAverage.Mean)]
    public void WelchOtherLengths(string dataset, int nperseg, int noverlap, SpectralAverage average)
    {
        Assert.Contains($"nperseg={nperseg}, noverlap={noverlap}, average='{average.ToString().ToLowerInvariant()}'", Reference.Operation(dataset));
        var expected = Reference.Read(dataset);
        var actual = Welch.Asd(Reference.Input, 4096, nperseg, noverlap, average).Values.Span;
        Assert.Equal(expected.Length, actual.Length);
        for (int k = 0; k < expected.Length; k++)
            Assert.True(Math.Abs(actual[k] - expected[k]) <= 1e-6 * expected[k], $"{dataset} bin {k}: {actual[k]:E6} vs SciPy {expected[k]:E6}");
    }

    private static void AssertResampled(string dataset, string operation, ResamplingFilter filter)
    {
        Assert.Contains(operation, Reference.Operation(dataset));
        var expected = Reference.Read(dataset);
        AssertClose(expected, PolyphaseResampler.Resample(Reference.Input, filter), 1e-9 * ReferenceFile.MaxAbs(Reference.Input));
        // The streaming form gives the same samples here too (odd chunks).
        var stream = new StreamingResampler(filter);
        var streamed = new List<double>();
        for (int i = 0; i < Reference.Input.Length; i += 333) streamed.AddRange(stream.Process(Reference.Input.AsSpan(i, Math.Min(333, Reference.Input.Length - i))));
        streamed.AddRange(stream.Flush());
        Assert.Equal(PolyphaseResampler.Resample(Reference.Input, filter), streamed.ToArray());
    }

    private static void AssertFiltered(string dataset, string operation, SecondOrderSections sos)
    {
        Assert.Contains(operation, Reference.Operation(dataset));
        var expected = Reference.Read(dataset);
        AssertClose(expected, SosFilter.FilterZeroPhase(sos, Reference.Input), 1e-8 * ReferenceFile.MaxAbs(expected));
    }

    private static void AssertClose(double[] expected, double[] actual, double tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        double err = ReferenceFile.MaxAbsDiff(actual, expected);
        Assert.True(err <= tolerance, $"max|err| {err:E3} above {tolerance:E3}");
    }
}
