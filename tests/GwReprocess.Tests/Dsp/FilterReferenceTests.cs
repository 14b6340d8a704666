using GwReprocess.Dsp;

namespace GwReprocess.Tests.Dsp;

/// <summary>Butterworth design and SOS filtering reproduce the SciPy outputs in dsp-4096.h5.</summary>
public class FilterReferenceTests
{
    [Fact]
    public void BandpassZeroPhaseMatchesScipySosfiltfilt()
    {
        var reference = ReferenceFile.Dsp4096;
        const string name = "bandpass_55_65_order8_sosfiltfilt";
        Assert.Equal("sos = scipy.signal.butter(8, [55, 65], btype='bandpass', fs=4096, output='sos'); scipy.signal.sosfiltfilt(sos, input)", reference.Operation(name));
        var sos = Butterworth.Bandpass(8, 55, 65, reference.InputSampleRate);
        Assert.Equal(8, sos.Count);
        var actual = SosFilter.FilterZeroPhase(sos, reference.Input);
        var expected = reference.Read(name);
        double err = ReferenceFile.MaxAbsDiff(actual, expected);
        Assert.True(err <= 1e-8 * ReferenceFile.MaxAbs(expected), $"max|err| {err:E3} vs max|ref| {ReferenceFile.MaxAbs(expected):E3}");
    }

    [Fact]
    public void HighpassCausalMatchesScipySosfilt()
    {
        var reference = ReferenceFile.Dsp4096;
        const string name = "highpass_15_order8_sosfilt";
        Assert.StartsWith("sos = scipy.signal.butter(8, 15, btype='highpass', fs=4096, output='sos'); scipy.signal.sosfilt(sos, input)", reference.Operation(name));
        var sos = Butterworth.Highpass(8, 15, reference.InputSampleRate);
        Assert.Equal(4, sos.Count);
        var actual = SosFilter.Filter(sos, reference.Input);
        var expected = reference.Read(name);
        double err = ReferenceFile.MaxAbsDiff(actual, expected);
        Assert.True(err <= 1e-8 * ReferenceFile.MaxAbs(expected), $"max|err| {err:E3} vs max|ref| {ReferenceFile.MaxAbs(expected):E3}");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(17)]
    [InlineData(4096)]
    [InlineData(10000)]
    public void StreamingCausalFilterEqualsOneShot(int chunk)
    {
        var x = ReferenceFile.Dsp4096.Input;
        var sos = Butterworth.Highpass(8, 15, 4096);
        var oneShot = SosFilter.Filter(sos, x);
        var stream = new StreamingSosFilter(sos);
        var y = new double[x.Length];
        for (int i = 0; i < x.Length; i += chunk)
        {
            int n = Math.Min(chunk, x.Length - i);
            stream.Process(x.AsSpan(i, n), y.AsSpan(i, n));
        }
        Assert.Equal(oneShot, y);
    }

    [Fact]
    public void ZeroPhaseFilterRejectsInputShorterThanItsPadding()
    {
        var sos = Butterworth.Bandpass(8, 55, 65, 4096);
        Assert.Equal(3 * (2 * 8 + 1), sos.DefaultPadLength());
        var ex = Assert.Throws<BadInputException>(() => SosFilter.FilterZeroPhase(sos, new double[51]));
        Assert.Contains("51", ex.Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(17)]
    public void DesignRejectsBadOrder(int order) =>
        Assert.Throws<BadInputException>(() => Butterworth.Lowpass(order, 100, 4096));

    [Fact]
    public void DesignRejectsCutoffAtOrAboveNyquist() =>
        Assert.Throws<BadInputException>(() => Butterworth.Highpass(4, 2048, 4096));

    /// <summary>Unit gain in band, −3 dB at the corners: the defining Butterworth property, independent of SciPy.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(16)]
    public void LowpassHasHalfPowerAtCutoffAndUnitGainAtDc(int order)
    {
        var sos = Butterworth.Lowpass(order, 300, 4096);
        Assert.Equal(1.0, Response(sos, 0, 4096), 10);
        Assert.Equal(Math.Sqrt(0.5), Response(sos, 300, 4096), 8);
    }

    [Fact]
    public void BandpassOrder16HasHalfPowerAtBothEdges()
    {
        var sos = Butterworth.Bandpass(16, 20, 500, 4096);
        Assert.Equal(16, sos.Count);
        Assert.Equal(Math.Sqrt(0.5), Response(sos, 20, 4096), 6);
        Assert.Equal(Math.Sqrt(0.5), Response(sos, 500, 4096), 6);
        Assert.Equal(1.0, Response(sos, 100, 4096), 6);
    }

    /// <summary>|H(e^{iω})| of the cascade.</summary>
    private static double Response(SecondOrderSections sos, double hz, double rate)
    {
        var z1 = System.Numerics.Complex.FromPolarCoordinates(1, -2 * Math.PI * hz / rate);
        var z2 = z1 * z1;
        var h = System.Numerics.Complex.One;
        for (int s = 0; s < sos.Count; s++)
            h *= (sos[s, 0] + sos[s, 1] * z1 + sos[s, 2] * z2) / (sos[s, 3] + sos[s, 4] * z1 + sos[s, 5] * z2);
        return h.Magnitude;
    }
}
