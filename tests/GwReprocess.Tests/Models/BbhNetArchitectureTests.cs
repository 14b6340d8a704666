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

    [Fact]
    public void Deep_filtering_input_filter_passes_18_to_400_Hz_and_stops_what_decimation_by_4_would_alias()
    {
        var plan = BbhNetArchitecture.DeepFiltering;
        var taps = plan.InputFilter(Rate);
        Assert.Equal((1025, 4), (taps.Length, plan.InputStride));
        Assert.Equal(409.6, plan.LowpassHz(Rate)!.Value, 9);
        foreach (double f in (double[])[30, 60, 150, 300, 380]) Assert.InRange(Gain(taps, f), 0.999, 1.001);
        // Stop bands: the strain's sub-10 Hz noise, and everything that folds into 0-512 Hz at 1024 Hz.
        foreach (double f in (double[])[0, 4, 8, 614, 700, 1024, 2000]) Assert.True(Gain(taps, f) < 3e-4, $"|H({f} Hz)| = {Gain(taps, f):E2}");
    }

    [Fact]
    public void Paper_input_filter_is_a_full_rate_high_pass()
    {
        var plan = BbhNetArchitecture.Paper;
        var taps = plan.InputFilter(Rate);
        Assert.Equal(1, plan.InputStride);
        Assert.Null(plan.LowpassHz(Rate));
        foreach (double f in (double[])[30, 150, 600, 1500]) Assert.InRange(Gain(taps, f), 0.999, 1.001);
        foreach (double f in (double[])[0, 4, 8]) Assert.True(Gain(taps, f) < 3e-4, $"|H({f} Hz)| = {Gain(taps, f):E2}");
    }

    [Fact]
    public void Deep_filtering_graph_equals_its_layers_computed_directly()
    {
        const int batch = 2, k = 4096;
        var plan = BbhNetArchitecture.DeepFiltering;
        var filter = plan.InputFilter(Rate);
        var model = BbhNetNetwork.Build("bbhnet", k, batch, seed: 5, inputFilter: filter, architecture: plan).Onnx!;
        Assert.Equal("bbhnet-deepfiltering", model.MetadataProps.Single(p => p.Key == "architecture").Value);
        var input = ModelTestSupport.RandomSignal(batch * 2 * k, seed: 9);
        var score = ModelTestSupport.Run(model, ("strain", input, [batch, 2, k]))["score"];

        // Input filter: depthwise, reversed taps (ONNX correlates), stride 4.
        var reversed = new float[2 * filter.Length];
        for (int d = 0; d < 2; d++)
            for (int j = 0; j < filter.Length; j++) reversed[d * filter.Length + j] = filter[^(j + 1)];
        var x = ConvolutionReferenceTests.Conv1d(input, batch, 2, k, reversed, null, 2, filter.Length, 4, 0, 0, 2, out int length);
        Assert.Equal(768, length);
        int channels = 2;
        float bn = 1 / MathF.Sqrt(1 + 1e-5f); // untrained BatchNorm: scale 1, shift 0, mean 0, variance 1
        for (int i = 0; i < plan.Blocks.Count; i++)
        {
            var block = plan.Blocks[i];
            var w = ModelTestSupport.Initializer(model, $"featurizer.conv{block.Channels}.weight_0");
            var b = ModelTestSupport.Initializer(model, $"featurizer.conv{block.Channels}.bias_0");
            var y = ConvolutionReferenceTests.Conv1d(x, batch, channels, length, w, b, block.Channels, block.Kernel, 1, 0, 0, 1, out int convLength, block.Dilation);
            int pooled = convLength / 4;
            x = new float[batch * block.Channels * pooled];
            for (int n = 0; n < batch * block.Channels; n++)
                for (int t = 0; t < pooled; t++)
                {
                    float m = float.NegativeInfinity;
                    for (int j = 0; j < 4; j++) m = Math.Max(m, y[n * convLength + 4 * t + j] * bn);
                    x[n * pooled + t] = Math.Max(0, m);
                }
            channels = block.Channels;
            length = pooled;
        }
        Assert.Equal(plan.FeatureLength(768), length);
        int features = channels * length;
        foreach (int width in plan.Dense.Append(1))
        {
            string layer = width == 1 ? "classifier.out" : $"classifier.fc{width}";
            var w = ModelTestSupport.Initializer(model, $"{layer}.weight_0");
            var b = ModelTestSupport.Initializer(model, $"{layer}.bias_0");
            var y = new float[batch * width];
            for (int n = 0; n < batch; n++)
                for (int o = 0; o < width; o++)
                {
                    double acc = b[o];
                    for (int c = 0; c < features; c++) acc += (double)w[o * features + c] * x[n * features + c];
                    y[n * width + o] = width == 1 ? (float)(1 / (1 + Math.Exp(-acc))) : Math.Max(0, (float)acc) * bn;
                }
            x = y;
            features = width;
        }
        Assert.Equal(new[] { batch, 1 }, score.Shape);
        for (int n = 0; n < batch; n++) Assert.Equal(x[n], score.Data[n], 1e-5);
    }

    [Fact]
    public void A_window_too_short_for_the_plan_is_refused_naming_the_model()
    {
        var plan = BbhNetArchitecture.DeepFiltering;
        var e = Assert.Throws<BadInputException>(() => BbhNetNetwork.Build("bbhnet", 2048, 1, seed: 1, inputFilter: plan.InputFilter(Rate), architecture: plan));
        Assert.Contains("bbhnet: kernel length 2048 samples is too short for bbhnet-deepfiltering", e.Message);
    }
}
