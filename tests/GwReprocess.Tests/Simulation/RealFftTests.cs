using System.Numerics;
using GwReprocess.Simulation;
using MathNet.Numerics.IntegralTransforms;

namespace GwReprocess.Tests.Simulation;

/// <summary>The simulator's real FFT against MathNet's transform.</summary>
public sealed class RealFftTests
{
    [Theory]
    [InlineData(4)]
    [InlineData(8)]
    [InlineData(64)]
    [InlineData(4096)]
    [InlineData(1 << 16)]
    public void ForwardMatchesMathNetAndInverseRoundTrips(int n)
    {
        var rng = new Random(n);
        var x = new double[n];
        for (int i = 0; i < n; i++) x[i] = rng.NextDouble() - 0.5;
        var reference = new double[n + 2];
        x.CopyTo(reference, 0);
        Fourier.ForwardReal(reference, n, FourierOptions.Matlab);
        var fft = new RealFft(n);
        var spectrum = new Complex[n / 2 + 1];
        fft.Forward(x, spectrum);
        double scale = Math.Sqrt(n);
        for (int k = 0; k <= n / 2; k++)
        {
            Assert.True(Math.Abs(spectrum[k].Real - reference[2 * k]) < 1e-12 * scale, $"re X[{k}]: {spectrum[k].Real} vs {reference[2 * k]}");
            Assert.True(Math.Abs(spectrum[k].Imaginary - reference[2 * k + 1]) < 1e-12 * scale, $"im X[{k}]: {spectrum[k].Imaginary} vs {reference[2 * k + 1]}");
        }
        var back = new double[n];
        fft.Inverse(spectrum, back);
        for (int i = 0; i < n; i++) Assert.Equal(x[i], back[i], 1e-13);
    }
}
