using GwReprocess.Models;

namespace GwReprocess.Tests.Models;

/// <summary>The graph side of the Wiener cleaner and the template-bank detector, built from given coefficients/templates (fitting and template design come later).</summary>
public sealed class SlotInModelsTests
{
    private static MultiChannelFir RandomFir(int channels, int taps, int advance, int seed) =>
        new(Enumerable.Range(0, channels).Select(c => ModelTestSupport.RandomSignal(taps, seed + c)).ToList(), advance, "random test taps");

    [Theory]
    [InlineData(0)]
    [InlineData(4)]
    [InlineData(8)]
    public void WienerNetworkIsTheMultiInputFir(int advance)
    {
        const int batch = 2, cw = 3, taps = 9, k = 80;
        var fir = RandomFir(cw, taps, advance, 10);
        var model = WienerFilterNetwork.Build("wiener-h1", fir, k, batch).Onnx!;
        var x = ModelTestSupport.RandomSignal(batch * cw * k, 4);
        var y = ModelTestSupport.Run(model, ("witness", x, [batch, cw, k]))["noise"];
        Assert.Equal(new[] { batch, k }, y.Shape);
        double worst = 0;
        for (int n = 0; n < batch; n++)
            for (int t = 0; t < k; t++)
            {
                double acc = 0;
                for (int c = 0; c < cw; c++)
                    for (int j = 0; j < taps; j++)
                    {
                        int src = t - j + advance; // noise[t] = Σ h_c[j] w_c[t − j + a]
                        if (src >= 0 && src < k) acc += fir.Taps[c][j] * x[(n * cw + c) * k + src];
                    }
                worst = Math.Max(worst, Math.Abs(acc - y.Data[n * k + t]));
            }
        Assert.True(worst <= 1e-5, $"max error {worst:G3}");
    }

    private static TemplateBank Chirps(int count, int length)
    {
        var cos = new List<float[]>();
        var sin = new List<float[]>();
        for (int i = 0; i < count; i++)
        {
            var c = new float[length];
            var s = new float[length];
            for (int j = 0; j < length; j++)
            {
                double phase = 2 * Math.PI * (0.02 + 0.01 * i) * j + Math.PI * 0.1 * j * j / length; // frequency rising by 0.1 cycles/sample
                double envelope = Math.Sin(Math.PI * (j + 0.5) / length);
                c[j] = (float)(envelope * Math.Cos(phase));
                s[j] = (float)(envelope * Math.Sin(phase));
            }
            cos.Add(c);
            sin.Add(s);
        }
        return new TemplateBank(cos, sin, Threshold: 8, Slope: 1.5f, "test chirps");
    }

    private static double ReferenceScore(TemplateBank bank, float[] strain, int n, int detectors, int k)
    {
        double network = 0;
        for (int d = 0; d < detectors; d++)
        {
            double best = 0;
            for (int i = 0; i < bank.Count; i++)
            {
                double nc = Math.Sqrt(bank.Cosine[i].Sum(v => (double)v * v)), ns = Math.Sqrt(bank.Sine[i].Sum(v => (double)v * v));
                for (int lag = 0; lag + bank.Length <= k; lag++)
                {
                    double zc = 0, zs = 0;
                    for (int j = 0; j < bank.Length; j++)
                    {
                        double x = strain[(n * detectors + d) * k + lag + j];
                        zc += bank.Cosine[i][j] / nc * x;
                        zs += bank.Sine[i][j] / ns * x;
                    }
                    best = Math.Max(best, zc * zc + zs * zs);
                }
            }
            network += best;
        }
        return 1 / (1 + Math.Exp(-bank.Slope * (Math.Sqrt(network) - bank.Threshold)));
    }

    [Fact]
    public void TemplateNetworkScoresEqualTheReferenceAndRiseWithSignalAmplitude()
    {
        const int detectors = 2, k = 128, batch = 4;
        var bank = Chirps(3, 64);
        var model = TemplateBankNetwork.Build("bbh-templates", bank, detectors, k, batch).Onnx!;
        var rng = new Random(8);
        var strain = new float[batch * detectors * k];
        for (int i = 0; i < strain.Length; i++) strain[i] = (float)(Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()));
        // Example n carries template 1 at amplitude 0, 3, 6, 9 (× unit-norm template) in both detectors, at offsets 20 and 30.
        double norm = Math.Sqrt(bank.Cosine[1].Sum(v => (double)v * v));
        for (int n = 0; n < batch; n++)
            for (int d = 0; d < detectors; d++)
                for (int j = 0; j < bank.Length; j++)
                    strain[(n * detectors + d) * k + 20 + 10 * d + j] += (float)(3 * n * bank.Cosine[1][j] / norm);
        var score = ModelTestSupport.Run(model, ("strain", strain, [batch, detectors, k]))["score"];
        Assert.Equal(new[] { batch, 1 }, score.Shape);
        for (int n = 0; n < batch; n++)
            Assert.True(Math.Abs(ReferenceScore(bank, strain, n, detectors, k) - score.Data[n]) <= 1e-5, $"example {n}: {score.Data[n]} vs reference");
        for (int n = 1; n < batch; n++) Assert.True(score.Data[n] > score.Data[n - 1], $"score not rising with amplitude: {string.Join(", ", score.Data)}");
    }

    /// <summary>Direct reference of the cropped, decimated, per-detector, noise-normalised network: crop, low-pass centred on every M-th sample, correlate.</summary>
    private static double ReferenceDecimatedScore(TemplateBank bank, float[] strain, int n, int detectors, int k)
    {
        int m = bank.Decimation, crop = bank.Crop, inner = k - 2 * crop, length = inner / m;
        var g = bank.DecimationFilter!;
        int p = (g.Length - 1) / 2;
        double network = 0;
        for (int d = 0; d < detectors; d++)
        {
            var y = new double[length];
            for (int i = 0; i < length; i++)
                for (int j = 0; j < g.Length; j++)
                {
                    int at = m * i - p + j;
                    if (at >= 0 && at < inner) y[i] += g[j] * strain[(n * detectors + d) * k + crop + at];
                }
            var t = bank.For(d);
            double best = 0;
            for (int i = 0; i < bank.Count; i++)
                for (int lag = 0; lag + bank.Length <= length; lag++)
                {
                    double zc = 0, zs = 0;
                    for (int j = 0; j < bank.Length; j++)
                    {
                        zc += t.Cosine[i][j] * y[lag + j];
                        zs += t.Sine[i][j] * y[lag + j];
                    }
                    best = Math.Max(best, zc * zc + zs * zs);
                }
            network += best;
        }
        return 1 / (1 + Math.Exp(-bank.Slope * (Math.Sqrt(network) - bank.Threshold)));
    }

    [Fact]
    public void CroppedDecimatedPerDetectorTemplateNetworkEqualsTheDirectReference()
    {
        const int detectors = 2, k = 256, batch = 3;
        var h1 = Chirps(3, 40);
        var l1 = Chirps(3, 40);
        foreach (var t in l1.Cosine.Concat(l1.Sine)) Array.Reverse(t); // a different bank for L1
        var rng = new Random(4);
        var bank = h1 with
        {
            PerDetector = [new DetectorTemplates("H1", h1.Cosine, h1.Sine), new DetectorTemplates("L1", l1.Cosine, l1.Sine)],
            NoiseNormalized = true,
            Crop = 16,
            Decimation = 4,
            DecimationFilter = Enumerable.Range(0, 9).Select(_ => (float)rng.NextDouble()).ToArray(),
            Slope = 0.05f,
        };
        var model = TemplateBankNetwork.Build("bbh-templates", bank, detectors, k, batch).Onnx!;
        var strain = ModelTestSupport.RandomSignal(batch * detectors * k, 12);
        var score = ModelTestSupport.Run(model, ("strain", strain, [batch, detectors, k]))["score"];
        for (int n = 0; n < batch; n++)
        {
            double reference = ReferenceDecimatedScore(bank, strain, n, detectors, k);
            Assert.True(Math.Abs(reference - score.Data[n]) <= 1e-5, $"example {n}: {score.Data[n]} vs reference {reference}");
        }
        Assert.Throws<BadInputException>(() => TemplateBankNetwork.Build("x", bank with { Decimation = 3 }, detectors, k, batch));
        Assert.Throws<BadInputException>(() => TemplateBankNetwork.Build("x", bank with { PerDetector = [bank.PerDetector![0]] }, detectors, k, batch));
    }

    [Fact]
    public async Task RepositoryWithWienerCleanersAndTemplateDetectorChecksAndPassesTheOnnxChecker()
    {
        const int cw = 4;
        var options = new ModelRepositoryOptions
        {
            KernelSeconds = 0.0625, Stride = 32, Batch = 2, Witnesses = cw,
            Cleaner = CleanerKind.Wiener, Detector = DetectorKind.Templates,
            WienerFilters = new Dictionary<string, MultiChannelFir> { ["H1"] = RandomFir(cw, 33, 16, 1), ["L1"] = RandomFir(cw, 33, 16, 2) },
            Templates = Chirps(2, 128),
        };
        var dir = ModelTestSupport.NewTempDirectory();
        try
        {
            var models = ModelRepositoryBuilder.Build(options);
            Assert.Contains(models, m => m.Name == "wiener-h1");
            Assert.Contains(models, m => m.Name == "bbh-templates");
            await ModelRepository.WriteAsync(dir, models);
            Assert.Empty(ModelRepositoryCheck.Check(dir));
            var files = Directory.GetFiles(dir, "model.onnx", SearchOption.AllDirectories);
            var (code, output) = ModelTestSupport.OnnxChecker(files);
            Assert.True(code == 0, output);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void WienerWithoutCoefficientsAsksForAFit()
    {
        var e = Assert.Throws<BadInputException>(() => ModelRepositoryBuilder.Build(new ModelRepositoryOptions { Cleaner = CleanerKind.Wiener }));
        Assert.Contains("--fit FRAMES", e.Message);
    }
}
