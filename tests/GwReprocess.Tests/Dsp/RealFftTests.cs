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
