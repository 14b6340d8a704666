using System.Numerics;
using GwReprocess.Models;

namespace GwReprocess.Tests.Models;

/// <summary>BBHnet's layer plans: the fixed input filters' responses, and the Deep Filtering graph against direct C# loops.</summary>
public sealed class BbhNetArchitectureTests
{
    private const int Rate = 4096;

    /// <summary>|H(f)| of causal taps h: |Σ h[n] e^{−2πi f n / rate}|.</summary>
    private static double Gain(float[] taps, double f)
    {
        var sum = Complex.Zero;
        for (int n = 0; n < taps.Length; n++) sum += taps[n] * Complex.Exp(new Complex(0, -2 * Math.PI * f * n / Rate));
        return sum.Magnitude;
    }

    /// <summary>Largest |H(f)| over [from, to] in 0.25 Hz steps: a stop band is checked everywhere, not at points a sidelobe null might hit.</summary>
    private static double WorstGain(float[] taps, double from, double to)
    {
        double worst = 0;
        for (double f = from; f <= to; f += 0.25) worst = Math.Max(worst, Gain(taps, f));
        return worst;
    }

    [Fact]
    public void Deep_filtering_input_filter_passes_18_to_400_Hz_and_stops_what_decimation_by_4_would_alias()
    {
        var plan = BbhNetArchitecture.DeepFiltering;
        var taps = plan.InputFilter(Rate);
        Assert.Equal((1025, 4), (taps.Length, plan.InputStride));
        Assert.Equal(409.6, plan.LowpassHz(Rate)!.Value, 9);
        foreach (double f in (double[])[30, 60, 150, 300, 380]) Assert.InRange(Gain(taps, f), 0.999, 1.001);
        // Stop bands: the strain's sub-10 Hz noise, and everything that folds into 0-409.6 Hz at 1024 Hz (above 1024 - 409.6).
        Assert.True(WorstGain(taps, 0, 8) < 3e-4, $"max |H| in 0-8 Hz = {WorstGain(taps, 0, 8):E2}");
        Assert.True(WorstGain(taps, 614.4, 2048) < 3e-4, $"max |H| in 614.4-2048 Hz = {WorstGain(taps, 614.4, 2048):E2}");
    }

    [Fact]
    public void Paper_input_filter_is_a_full_rate_high_pass()
    {
        var plan = BbhNetArchitecture.Paper;
        var taps = plan.InputFilter(Rate);
        Assert.Equal(1, plan.InputStride);
        Assert.Null(plan.LowpassHz(Rate));
        foreach (double f in (double[])[30, 150, 600, 1500]) Assert.InRange(Gain(taps, f), 0.999, 1.001);
        Assert.True(WorstGain(taps, 0, 8) < 3e-4, $"max |H| in 0-8 Hz = {WorstGain(taps, 0, 8):E2}");
    }

    [Fact]
    public void The_plans_are_the_documented_layers()
    {
        var df = BbhNetArchitecture.DeepFiltering;
        Assert.Equal(("bbhnet-deepfiltering", 1, 4), (df.Name, df.LeadingPool, df.InputStride));
        Assert.Equal([new BbhNetConvBlock(16, 16, 1), new BbhNetConvBlock(32, 8, 2), new BbhNetConvBlock(64, 8, 2)], df.Blocks);
        Assert.Equal([64, 32], df.Dense);
        var paper = BbhNetArchitecture.Paper;
        Assert.Equal(("bbhnet", 4, 1), (paper.Name, paper.LeadingPool, paper.InputStride));
        Assert.Equal([new BbhNetConvBlock(8, 3), new BbhNetConvBlock(16, 3), new BbhNetConvBlock(32, 3)], paper.Blocks);
        Assert.Equal([64, 32], paper.Dense);
    }

    [Fact]
    public void Deep_filtering_graph_equals_its_layers_computed_directly()
    {
        const int batch = 4, k = 4096;
        const float eps = 1e-5f;
        var plan = BbhNetArchitecture.DeepFiltering;
        // An asymmetric filter, so a missing or doubled reversal in the builder shows.
        var filter = plan.InputFilter(Rate);
        for (int j = 0; j < filter.Length; j++) filter[j] *= 1 + (float)j / filter.Length;
        // Trained-like values everywhere, BatchNorm scales of both signs among them, so every layer's place in the order matters.
        var random = new Random(21);
        float[] Uniform(int n, double low, double high) => Enumerable.Range(0, n).Select(_ => (float)(low + (high - low) * random.NextDouble())).ToArray();
        var tensors = new List<(string, float[])>();
        var norms = new List<(float[] Scale, float[] Shift, float[] Mean, float[] Variance)>();
        void Norm(int c)
        {
            var n = (Uniform(c, -1.5, 1.5), Uniform(c, -0.5, 0.5), Uniform(c, -0.3, 0.3), Uniform(c, 0.5, 2));
            norms.Add(n);
            tensors.AddRange([("scale", n.Item1), ("shift", n.Item2), ("mean", n.Item3), ("variance", n.Item4)]);
        }
        int channels = 2;
        foreach (var block in plan.Blocks)
        {
            double bound = 1 / Math.Sqrt(channels * block.Kernel);
            tensors.Add(("conv", Uniform(block.Channels * channels * block.Kernel, -bound, bound)));
            tensors.Add(("bias", Uniform(block.Channels, -bound, bound)));
            Norm(block.Channels);
            channels = block.Channels;
        }
        int features = channels * plan.FeatureLength(768);
        foreach (int width in plan.Dense.Append(1))
        {
            double bound = 1 / Math.Sqrt(features);
            tensors.Add(("dense", Uniform(width * features, -bound, bound)));
            tensors.Add(("bias", Uniform(width, -bound, bound)));
            if (width != 1) Norm(width);
            features = width;
        }
        var model = BbhNetNetwork.Build("bbhnet", k, batch, seed: 5, trained: new NetworkWeights(tensors), inputFilter: filter, architecture: plan).Onnx!;
        Assert.Equal("bbhnet-deepfiltering", model.MetadataProps.Single(p => p.Key == "architecture").Value);
        // Windows of different loudness, so their scores differ by more than the comparison's tolerance.
        var input = ModelTestSupport.RandomSignal(batch * 2 * k, seed: 9);
        for (int i = 0; i < input.Length; i++) input[i] *= 0.25f * (1 << (i / (2 * k)) * (1 << (i / (2 * k))));
        var score = ModelTestSupport.Run(model, ("strain", input, [batch, 2, k]))["score"];

        // The input filter as a convolution written out: y[t] = Σ_j h[j] x[4t + 1024 − j].
        int length = 768;
        var x = new float[batch * 2 * length];
        for (int row = 0; row < batch * 2; row++)
            for (int t = 0; t < length; t++)
            {
                double acc = 0;
                for (int j = 0; j < filter.Length; j++) acc += (double)filter[j] * input[row * k + 4 * t + filter.Length - 1 - j];
                x[row * length + t] = (float)acc;
            }
        channels = 2;
        int next = 0, norm = 0;
        float Normalise(float v, int c, int layer)
        {
            var (g, b, m, var) = norms[layer];
            return (v - m[c]) / MathF.Sqrt(var[c] + eps) * g[c] + b[c];
        }
        foreach (var (c, kernel, dilation) in (ReadOnlySpan<(int, int, int)>)[(16, 16, 1), (32, 8, 2), (64, 8, 2)])
        {
            var w = tensors[next].Item2;
            var bias = tensors[next + 1].Item2;
            next += 6;
            int convLength = length - dilation * (kernel - 1), pooled = convLength / 4;
            var y = new float[batch * c * pooled];
            for (int n = 0; n < batch; n++)
                for (int o = 0; o < c; o++)
                    for (int t = 0; t < pooled; t++)
                    {
                        float best = float.NegativeInfinity;
                        for (int p = 0; p < 4; p++)
                        {
                            double acc = bias[o];
                            for (int i = 0; i < channels; i++)
                                for (int j = 0; j < kernel; j++)
                                    acc += (double)w[(o * channels + i) * kernel + j] * x[(n * channels + i) * length + 4 * t + p + j * dilation];
                            best = Math.Max(best, Normalise((float)acc, o, norm));
                        }
                        y[(n * c + o) * pooled + t] = Math.Max(0, best);
                    }
            x = y;
            channels = c;
            length = pooled;
            norm++;
        }
        Assert.Equal(7, length);
        features = channels * length;
        foreach (int width in (int[])[64, 32, 1])
        {
            var w = tensors[next].Item2;
            var bias = tensors[next + 1].Item2;
            next += width == 1 ? 2 : 6;
            var y = new float[batch * width];
            for (int n = 0; n < batch; n++)
                for (int o = 0; o < width; o++)
                {
                    double acc = bias[o];
                    for (int i = 0; i < features; i++) acc += (double)w[o * features + i] * x[n * features + i];
                    y[n * width + o] = width == 1 ? (float)(1 / (1 + Math.Exp(-acc))) : Normalise(Math.Max(0, (float)acc), o, norm);
                }
            if (width != 1) norm++;
            x = y;
            features = width;
        }
        Assert.Equal(new[] { batch, 1 }, score.Shape);
        Assert.True(x.Max() - x.Min() > 1e-3, $"scores {string.Join(", ", x)}: too alike to tell layers apart");
        for (int n = 0; n < batch; n++) Assert.Equal(x[n], score.Data[n], 1e-5);
    }

    [Fact]
    public void A_window_too_short_for_the_plan_is_refused_naming_the_model()
    {
        // 2457 samples are the fewest Deep Filtering takes: 359 after the filter, then 86, 18 and 1 after the blocks.
        var plan = BbhNetArchitecture.DeepFiltering;
        var e = Assert.Throws<BadInputException>(() => BbhNetNetwork.Build("bbhnet", 2456, 1, seed: 1, inputFilter: plan.InputFilter(Rate), architecture: plan));
        Assert.Contains("bbhnet: kernel length 2456 samples is too short for bbhnet-deepfiltering", e.Message);
        Assert.NotNull(BbhNetNetwork.Build("bbhnet", 2457, 1, seed: 1, inputFilter: plan.InputFilter(Rate), architecture: plan).Onnx);
        Assert.Equal("a 2456-sample window is too short for bbhnet-deepfiltering's 1025-tap input filter, convolutions and pooling", plan.RefuseWindow(2456));
        Assert.Null(plan.RefuseWindow(2457));
        // Shorter than the filter itself: nothing after it, not one sample of integer division's rounding toward zero.
        Assert.Equal(0, BbhNetArchitecture.FilteredLength(1024, 1025, 4));
    }

    [Fact]
    public void A_decimating_plan_without_its_filter_is_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => BbhNetNetwork.Build("bbhnet", 4096, 1, seed: 1, architecture: BbhNetArchitecture.DeepFiltering));
        Assert.Contains("bbhnet-deepfiltering decimates in its input filter", e.Message);
    }
}
