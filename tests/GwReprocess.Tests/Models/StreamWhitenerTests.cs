using Google.Protobuf;
using GwReprocess.Dsp;
using GwReprocess.Models;
using GwReprocess.Simulation;
using Xunit.Abstractions;

namespace GwReprocess.Tests.Models;

/// <summary>The serving whitener, run in ONNX Runtime, equals the double-precision reference (Welch mean → FirFromAsd → centred convolution) per window and detector.</summary>
public sealed class StreamWhitenerTests(ITestOutputHelper output)
{
    private const int Rate = 4096;
    private static readonly int Background = (int)(StreamWhitener.DefaultBackgroundSeconds * Rate);
    private const int Kernel = Rate;

    /// <summary>A design-curve (aLIGO-like, seismic wall below 10 Hz) coloured-noise stream at strain scale, ~1e-21.</summary>
    private static double[] ColouredStrain(int samples, long seed, long first = 0)
    {
        var noise = new ColoredNoise(new NoiseFilter(DesignCurve.Asd, Rate, 4096), StreamKey.FromSeed(seed));
        var x = new double[samples];
        noise.Fill(first, x);
        return x;
    }

    /// <summary>Batch [B, D, N] of windows cut from per-detector streams at the given offsets, float32 as the server carries them.</summary>
    private static float[] Windows(IReadOnlyList<double[]> streams, IReadOnlyList<int> offsets, int n)
    {
        var x = new float[offsets.Count * streams.Count * n];
        for (int b = 0; b < offsets.Count; b++)
            for (int d = 0; d < streams.Count; d++)
                for (int i = 0; i < n; i++) x[(b * streams.Count + d) * n + i] = (float)streams[d][offsets[b] + i];
        return x;
    }

    private static float[] Whiten(RepositoryModel model, float[] x, int batch, int detectors, int n)
    {
        var result = ModelTestSupport.Run(model.Onnx!, (Postprocessor.StrainInput, x, [batch, detectors, n]));
        var (shape, data) = result[Postprocessor.Output];
        Assert.Equal(new[] { batch, detectors, (int)model.Config.Output[0].Dims[2] }, shape);
        return data;
    }

    /// <summary>The reference on the same float32 samples, in double.</summary>
    private static double[] Reference(float[] x, int row, int n, int kernel, int segment, int taps, double low, int rate)
    {
        var series = new double[n];
        for (int i = 0; i < n; i++) series[i] = x[row * n + i];
        return StreamWhitening.Window(series, kernel, segment, taps, low, rate);
    }

    [Theory]
    [InlineData(Rate, 8 * Rate, Rate, 2048, 1023, 10.0)]  // the defaults at 4096 Hz
    [InlineData(1024, 5000, 700, 512, 255, 15.0)]          // background not a whole number of half segments, K + T − 1 just over a power of two
    public void MatchesTheDoublePrecisionReferenceOnColouredNoise(int rate, int background, int kernel, int segment, int taps, double low)
    {
        int n = StreamWhitening.SeriesLength(background, kernel, taps), batch = 3, detectors = 2;
        var model = StreamWhitener.Build("whitener", detectors, background, kernel, batch, segment, taps, low, rate);
        var streams = new[] { ColouredStrain(n + 2000, seed: 11), ColouredStrain(n + 2000, seed: 12) };
        if (rate != Rate) streams = [ModelTestSupport.RandomSignal(n + 2000, 5).Select(v => v * 3e-21).ToArray(), ColouredStrain(n + 2000, seed: 13)];
        var x = Windows(streams, [0, 1000, 1999], n);
        var y = Whiten(model, x, batch, detectors, n);

        double worst = 0;
        for (int row = 0; row < batch * detectors; row++)
        {
            var expected = Reference(x, row, n, kernel, segment, taps, low, rate);
            double rms = Math.Sqrt(expected.Average(v => v * v)), maxError = 0;
            for (int i = 0; i < kernel; i++) maxError = Math.Max(maxError, Math.Abs(y[row * kernel + i] - expected[i]));
            // Design-curve noise whitens to ~35 rms: the FIR's 4 Hz resolution lets the sub-10 Hz seismic wall leak (BBHnet's input high-pass removes it).
            Assert.True(rms > 0.5 && double.IsFinite(rms), $"row {row}: reference rms {rms}");
            worst = Math.Max(worst, maxError / rms);
        }
        output.WriteLine($"fs {rate}, background {background}, K {kernel}, L {segment}, T {taps}: worst max |onnx − reference| / reference rms = {worst:E2}");
        Assert.True(worst <= 1e-4, $"max error {worst:E2} of the output rms");
    }

    [Fact]
    public void WhiteNoiseComesOutWithUnitVariance()
    {
        int n = StreamWhitening.SeriesLength(Background, Kernel, 1023), batch = 4;
        var model = StreamWhitener.Build("whitener", 1, Background, Kernel, batch, 2048, 1023, 10, Rate);
        var rng = new Random(3);
        var stream = new double[n + 3 * 9000];
        for (int i = 0; i < stream.Length; i++) stream[i] = 1e-21 * Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
        var y = Whiten(model, Windows([stream], [0, 9000, 18000, 27000], n), batch, 1, n);
        double variance = y.Average(v => (double)v * v);
        output.WriteLine($"white noise (σ = 1e-21) whitened: variance {variance:F4} over {y.Length} samples");
        Assert.InRange(variance, 0.95, 1.05);
    }

    [Fact]
    public void OutputDoesNotDependOnTheInputScale()
    {
        int n = StreamWhitening.SeriesLength(Background, Kernel, 1023);
        var model = StreamWhitener.Build("whitener", 2, Background, Kernel, 1, 2048, 1023, 10, Rate);
        var unit = new[] { ColouredStrain(n, seed: 21), ColouredStrain(n, seed: 22) }.Select(s => s.Select(v => v * 1e21).ToArray()).ToArray();
        var x = Windows(unit, [0], n);
        // 2^-70 ≈ 8.5e-22 scales float32 samples exactly: the outputs must be identical, not just close.
        var scaled = x.Select(v => v * MathF.Pow(2, -70)).ToArray();
        Assert.Equal(Whiten(model, x, 1, 2, n), Whiten(model, scaled, 1, 2, n));

        // A factor of 1e-21 re-rounds every float32 sample, which the seismic wall amplifies in the whitened band; the model must still
        // match the reference on those very samples at both scales.
        var strain = x.Select(v => (float)(v * 1e-21)).ToArray();
        foreach (var input in new[] { x, strain })
        {
            var y = Whiten(model, input, 1, 2, n);
            for (int row = 0; row < 2; row++)
            {
                var expected = Reference(input, row, n, Kernel, 2048, 1023, 10, Rate);
                double rms = Math.Sqrt(expected.Average(v => v * v)), worst = 0;
                for (int i = 0; i < Kernel; i++) worst = Math.Max(worst, Math.Abs(y[row * Kernel + i] - expected[i]));
                output.WriteLine($"input rms {Math.Sqrt(input.Average(v => (double)v * v)):E1}, row {row}: max error {worst / rms:E2} of the output rms {rms:F2}");
                Assert.True(worst <= 1e-4 * rms, $"max error {worst:E2} for rms {rms:F3}");
            }
        }
    }

    [Fact]
    public void AnAllZeroBackgroundGivesZerosNotNaN()
    {
        int n = StreamWhitening.SeriesLength(Background, Kernel, 1023);
        var model = StreamWhitener.Build("whitener", 2, Background, Kernel, 2, 2048, 1023, 10, Rate);
        // Window 0: a stream's first second after a zero snapshotter state (zeros, then data in the window);
        // window 1: nothing at all.
        var x = new float[2 * 2 * n];
        var data = ModelTestSupport.RandomSignal(Kernel, 9);
        for (int d = 0; d < 2; d++)
            for (int i = 0; i < Kernel; i++) x[d * n + Background + i] = data[i] * 1e-21f;
        var y = Whiten(model, x, 2, 2, n);
        Assert.All(y, v => Assert.Equal(0f, v));
    }

    [Fact]
    public void ConfigRecordsTheDesignAndTheFileStaysSmall()
    {
        var model = StreamWhitener.Build("whitener", 2, Background, Kernel, 64, 2048, 1023, 10, Rate);
        var p = model.Config.Parameters;
        Assert.Equal("whitener", p["architecture"].StringValue);
        Assert.Equal("32768", p["background_samples"].StringValue);
        Assert.Equal("2048", p["welch_segment"].StringValue);
        Assert.Equal("1023", p["fir_taps"].StringValue);
        Assert.Equal("10", p["low_corner_hz"].StringValue);
        Assert.Equal("511", p[StreamWhitener.DelayParameter].StringValue);
        Assert.Contains("Welch", p["description"].StringValue);
        Assert.Equal(new long[] { 64, 2, Background + Kernel + 511 }, model.Config.Input.Single(i => i.Name == "strain").Dims);
        Assert.Equal(new long[] { 64, 2, Kernel }, model.Config.Output.Single(o => o.Name == "whitened").Dims);
        int bytes = model.Onnx!.ToByteArray().Length;
        output.WriteLine($"model.onnx: {bytes} bytes");
        Assert.True(bytes < 100_000, $"model.onnx is {bytes} bytes");
        Assert.Equal(4095, StreamWhitener.DefaultTaps(StreamWhitener.DefaultSegment(Rate)));
        Assert.Equal(4096, StreamWhitener.DefaultSegment(Rate));
    }

    [Theory]
    [InlineData(1024, 2048)]  // even FIR
    [InlineData(2049, 2048)]  // FIR not shorter than the segment
    [InlineData(1023, 2047)]  // odd segment
    public void BadSizesAreRefusedNamingTheModel(int taps, int segment)
    {
        var e = Assert.Throws<BadInputException>(() => StreamWhitener.Build("whitener", 2, Background, Kernel, 8, segment, taps, 10, Rate));
        Assert.StartsWith("whitener: ", e.Message);
    }
}
