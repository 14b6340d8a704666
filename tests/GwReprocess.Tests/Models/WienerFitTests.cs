using GwReprocess.Dsp;
using GwReprocess.Models;

namespace GwReprocess.Tests.Models;

public class WienerFitTests
{
    private static double[] Noise(Random rng, int n)
    {
        var x = new double[n];
        for (int i = 0; i < n; i += 2)
        {
            // Box–Muller: Gaussian white noise.
            double u1 = 1 - rng.NextDouble(), u2 = rng.NextDouble(), r = Math.Sqrt(-2 * Math.Log(u1));
            x[i] = r * Math.Cos(2 * Math.PI * u2);
            if (i + 1 < n) x[i + 1] = r * Math.Sin(2 * Math.PI * u2);
        }
        return x;
    }

    [Fact]
    public void Recovers_known_filters_from_correlated_witnesses()
    {
        var rng = new Random(11);
        const int n = 1 << 17, c = 4, taps = 12, advance = 3;
        // Witnesses share a common component (mains witnesses in one building are correlated).
        var common = Noise(rng, n);
        var witnesses = Enumerable.Range(0, c).Select(_ => { var w = Noise(rng, n); for (int i = 0; i < n; i++) w[i] += 0.6 * common[i]; return (ReadOnlyMemory<double>)w; }).ToList();
        var truth = new MultiChannelFir(Enumerable.Range(0, c).Select(_ => Enumerable.Range(0, taps).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray()).ToList(), advance, "truth");
        var target = WienerFit.Predict(truth, witnesses);
        var sensor = Noise(rng, n);
        for (int i = 0; i < n; i++) target[i] += 0.05 * sensor[i];

        var fit = WienerFit.Fit(witnesses, target, taps, advance);
        for (int ch = 0; ch < c; ch++)
            for (int j = 0; j < taps; j++)
                Assert.True(Math.Abs(fit.Taps[ch][j] - truth.Taps[ch][j]) < 2e-3, $"tap {ch},{j}: {fit.Taps[ch][j]} vs {truth.Taps[ch][j]}");
        // The residual is the sensor noise the witnesses cannot explain.
        var residual = target.Zip(WienerFit.Predict(fit, witnesses), (a, b) => a - b).ToArray();
        double rms = Math.Sqrt(residual.Sum(v => v * v) / n);
        Assert.InRange(rms, 0.045, 0.055);
    }

    [Fact]
    public void Removes_a_60_Hz_line_coupled_from_a_mains_witness_and_leaves_the_rest()
    {
        const double fs = 4096;
        const int n = 64 * 4096;
        var rng = new Random(5);
        // Mains witness: 60 Hz with a slowly wandering amplitude, plus sensor noise; strain: coloured-free noise plus a delayed, scaled copy.
        var mains = new double[n];
        for (int i = 0; i < n; i++) mains[i] = (1 + 0.1 * Math.Sin(2 * Math.PI * 0.05 * i / fs)) * Math.Sin(2 * Math.PI * 60 * i / fs) + 0.01 * (rng.NextDouble() - 0.5);
        var strain = Noise(rng, n);
        for (int i = 5; i < n; i++) strain[i] += 20 * mains[i - 5];
        var fit = WienerFit.Fit([mains], strain, taps: 32, advance: 0);
        var cleaned = strain.Zip(WienerFit.Predict(fit, [mains]), (a, b) => a - b).ToArray();

        var before = Welch.Asd(strain, fs, 4096, 2048);
        var after = Welch.Asd(cleaned, fs, 4096, 2048);
        double ratio60 = after.Values.Span[60] / before.Values.Span[60];
        Assert.True(ratio60 < 0.05, $"ASD ratio at 60 Hz: {ratio60}");
        for (int f = 20; f <= 500; f++)
        {
            if (Math.Abs(f - 60) <= 2) continue;
            double ratio = after.Values.Span[f] / before.Values.Span[f];
            Assert.True(Math.Abs(ratio - 1) < 0.1, $"ASD ratio at {f} Hz: {ratio}");
        }
    }

    [Fact]
    public void Bad_shapes_are_refused()
    {
        var w = new ReadOnlyMemory<double>[] { new double[1000] };
        Assert.Throws<BadInputException>(() => WienerFit.Fit(w, new double[999], 8, 0));
        Assert.Throws<BadInputException>(() => WienerFit.Fit(w, new double[1000], 8, 8));
        Assert.Throws<BadInputException>(() => WienerFit.Fit(w, new double[1000], 200, 0));
    }
}
