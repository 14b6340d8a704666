using GwReprocess.Dsp;
using MathNet.Numerics.IntegralTransforms;

namespace GwReprocess.Tests.Dsp;

/// <summary>The in-house real FFT equals MathNet.Numerics' transform (unscaled) at every power-of-two length used.</summary>
public class RealFftTests
{
    [Theory]
    [InlineData(4)]
    [InlineData(8)]
    [InlineData(64)]
    [InlineData(4096)]
    [InlineData(16384)]
    public void MatchesMathNet(int n)
    {
        var rng = new Random(n);
        var ours = new double[n + 2];
        for (int i = 0; i < n; i++) ours[i] = rng.NextDouble() - 0.5;
        var theirs = (double[])ours.Clone();
        RealFft.For(n).Forward(ours);
        Fourier.ForwardReal(theirs, n, FourierOptions.Matlab);
        double scale = 0;
        foreach (var v in theirs) scale = Math.Max(scale, Math.Abs(v));
        for (int i = 0; i < n + 2; i++) Assert.True(Math.Abs(ours[i] - theirs[i]) <= 1e-12 * scale, $"n={n} index {i}: {ours[i]} vs {theirs[i]}");
    }
}

/// <summary>The in-house inverse real FFT and the overlap-save stream built on it.</summary>
public class OverlapSaveTests
{
    [Theory]
    [InlineData(4)]
    [InlineData(64)]
    [InlineData(8192)]
    public void InverseMatchesMathNetAndRoundTrips(int n)
    {
        var rng = new Random(n + 1);
        var x = new double[n + 2];
        for (int i = 0; i < n; i++) x[i] = rng.NextDouble() - 0.5;
        var spectrum = (double[])x.Clone();
        RealFft.For(n).Forward(spectrum);
        var ours = (double[])spectrum.Clone();
        RealFft.For(n).Inverse(ours);
        var theirs = (double[])spectrum.Clone();
        Fourier.InverseReal(theirs, n, FourierOptions.Matlab);
        for (int i = 0; i < n; i++)
        {
            Assert.True(Math.Abs(ours[i] - x[i]) <= 1e-13, $"round trip n={n} index {i}");
            Assert.True(Math.Abs(ours[i] - theirs[i]) <= 1e-13, $"vs MathNet n={n} index {i}");
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(777)]
    [InlineData(65536)]
    public void OverlapSaveWhiteningEqualsDirectFir(int chunk)
    {
        var input = ReferenceFile.Dsp4096.Input;
        var asd = Welch.Asd(input, 4096, 4096, 2048, SpectralAverage.Median);
        var taps = Whitening.FirFromAsd(asd, 4096, 1025, lowCornerHz: 10);
        var direct = PolyphaseResampler.Resample(input, ResamplingFilter.Convolution(taps));
        var stream = Whitening.OverlapSave(asd, 4096, 1025, lowCornerHz: 10);
        var streamed = new List<double>();
        for (int i = 0; i < input.Length; i += chunk) streamed.AddRange(stream.Process(input.AsSpan(i, Math.Min(chunk, input.Length - i))));
        streamed.AddRange(stream.Flush());
        Assert.Equal(direct.Length, streamed.Count);
        double peak = direct.Max(Math.Abs);
        for (int i = 0; i < direct.Length; i++) Assert.True(Math.Abs(streamed[i] - direct[i]) <= 1e-12 * peak, $"sample {i}: {streamed[i]} vs {direct[i]}");
    }

    [Fact]
    public void ShortStreamsAndEvenTapsMatchDirect()
    {
        var taps = new[] { 0.1, -0.4, 1.0, 0.3, 0.2, -0.05 };
        for (int n = 0; n < 20; n++)
        {
            var x = Enumerable.Range(0, n).Select(i => Math.Sin(i * 0.7) + i % 3).ToArray();
            var direct = PolyphaseResampler.Resample(x, ResamplingFilter.Convolution(taps));
            var stream = new OverlapSaveFilter(taps);
            var streamed = stream.Process(x).Concat(stream.Flush()).ToArray();
            Assert.Equal(direct.Length, streamed.Length);
            for (int i = 0; i < n; i++) Assert.Equal(direct[i], streamed[i], 12);
        }
    }
}
