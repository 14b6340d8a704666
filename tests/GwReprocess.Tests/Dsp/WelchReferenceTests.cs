using GwReprocess.Dsp;

namespace GwReprocess.Tests.Dsp;

/// <summary>Welch ASD reproduces <c>sqrt(scipy.signal.welch(...))</c> in dsp-4096.h5 bin by bin.</summary>
public class WelchReferenceTests
{
    [Theory]
    [InlineData("asd_welch_median", SpectralAverage.Median, "median")]
    [InlineData("asd_welch_mean", SpectralAverage.Mean, "mean")]
    public void AsdMatchesScipyWelch(string dataset, SpectralAverage average, string scipyName)
    {
        var reference = ReferenceFile.Dsp4096;
        Assert.Equal($"sqrt of scipy.signal.welch(input, fs=4096, window='hann', nperseg=4096, noverlap=2048, average='{scipyName}'); frequencies 0..2048 Hz step 1 Hz", reference.Operation(dataset));
        var expected = reference.Read(dataset);
        var asd = Welch.Asd(reference.Input, 4096, 4096, 2048, average, "input");
        Assert.Equal(expected.Length, asd.Length);
        Assert.Equal(1.0, asd.Df);
        Assert.Equal(2048.0, asd.FrequencyAt(asd.Length - 1));
        var actual = asd.Values.Span;
        for (int k = 0; k < expected.Length; k++)
        {
            double rel = Math.Abs(actual[k] - expected[k]) / expected[k];
            Assert.True(rel <= 1e-6, $"bin {k} Hz: {actual[k]:E6} vs SciPy {expected[k]:E6} (relative {rel:E2})");
        }
    }

    [Theory]
    [InlineData(1, 1.0)]
    [InlineData(2, 1.0)]
    [InlineData(3, 1 + 1.0 / 3 - 1.0 / 2)]
    [InlineData(4, 0.8333333333333333)]
    [InlineData(31, 0.7090162022075269)] // SciPy 1.10.1 _median_bias(31)
    public void MedianBiasIsScipys(int n, double expected) => Assert.Equal(expected, Welch.MedianBias(n), 9);

    [Fact]
    public void WhiteNoiseHasFlatDensityOfTwiceVarianceTimesSpacing()
    {
        var rng = new Random(7);
        var x = new double[4096 * 64];
        for (int i = 0; i < x.Length; i++) x[i] = Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
        var psd = Welch.Psd(x, 4096, 4096, 2048, SpectralAverage.Mean).Values.Span;
        double mean = 0;
        for (int k = 10; k < 2000; k++) mean += psd[k];
        mean /= 1990;
        Assert.Equal(2.0 / 4096, mean, 2.0 / 4096 * 0.02);
    }

    [Fact]
    public void RejectsOverlapNotBelowFftLength()
    {
        var ex = Assert.Throws<BadInputException>(() => Welch.Psd(new double[8192], 4096, 4096, 4096, name: "H1:X"));
        Assert.StartsWith("H1:X: ", ex.Message);
    }
}

/// <summary>The selection-based median equals sort-then-take-middle (numpy's definition) on arbitrary inputs.</summary>
public class MedianPropertyTests
{
    [FsCheck.Xunit.Property(MaxTest = 300)]
    public bool MedianEqualsSortedMiddle(FsCheck.NonEmptyArray<FsCheck.NormalFloat> input)
    {
        var values = input.Get.Select(v => v.Get).ToArray();
        var sorted = values.Order().ToArray();
        int n = sorted.Length;
        double expected = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
        return Welch.Median(values) == expected;
    }
}
