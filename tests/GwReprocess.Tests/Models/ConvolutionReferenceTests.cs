using GwReprocess.Models;

namespace GwReprocess.Tests.Models;

/// <summary>ONNX Runtime's convolutions in the graphs we write equal direct C# loops (PyTorch Conv1d / ConvTranspose1d definitions).</summary>
public sealed class ConvolutionReferenceTests
{
    /// <summary>y[n, o, t] = b[o] + Σ_{c in group, j} w[o, c, j] · x[n, g·Cg + c, t·s + j·d − p].</summary>
    internal static float[] Conv1d(float[] x, int batch, int cin, int length, float[] w, float[]? b, int cout, int k, int stride, int padBegin, int padEnd, int group, out int outLength,
        int dilation = 1)
    {
        outLength = (length + padBegin + padEnd - dilation * (k - 1) - 1) / stride + 1;
        int cinG = cin / group, coutG = cout / group;
        var y = new float[batch * cout * outLength];
        for (int n = 0; n < batch; n++)
            for (int o = 0; o < cout; o++)
            {
                int g = o / coutG;
                for (int t = 0; t < outLength; t++)
                {
                    double acc = b?[o] ?? 0;
                    for (int c = 0; c < cinG; c++)
                        for (int j = 0; j < k; j++)
                        {
                            int src = t * stride + j * dilation - padBegin;
                            if (src < 0 || src >= length) continue;
                            acc += (double)w[(o * cinG + c) * k + j] * x[(n * cin + g * cinG + c) * length + src];
                        }
                    y[(n * cout + o) * outLength + t] = (float)acc;
                }
            }
        return y;
    }

    /// <summary>Transposed conv: every input sample t scatters w[c, o, j] to output t·s + j − p; out length s(L−1) + k + op − 2p.</summary>
    internal static float[] ConvTranspose1d(float[] x, int batch, int cin, int length, float[] w, float[] b, int cout, int k, int stride, int pad, int outputPadding, out int outLength)
    {
        outLength = stride * (length - 1) + outputPadding + k - 2 * pad;
        var acc = new double[batch * cout * outLength];
        for (int n = 0; n < batch; n++)
            for (int c = 0; c < cin; c++)
                for (int t = 0; t < length; t++)
                {
                    double v = x[(n * cin + c) * length + t];
                    for (int o = 0; o < cout; o++)
                        for (int j = 0; j < k; j++)
                        {
                            int dst = t * stride + j - pad;
                            if (dst < 0 || dst >= outLength) continue;
                            acc[(n * cout + o) * outLength + dst] += v * w[(c * cout + o) * k + j];
                        }
                }
        var y = new float[acc.Length];
        for (int n = 0; n < batch; n++)
            for (int o = 0; o < cout; o++)
                for (int t = 0; t < outLength; t++)
                {
                    int i = (n * cout + o) * outLength + t;
                    y[i] = (float)(acc[i] + b[o]);
                }
        return y;
    }

    private static void AssertClose(float[] expected, float[] actual, double tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        double worst = 0;
        for (int i = 0; i < expected.Length; i++) worst = Math.Max(worst, Math.Abs(expected[i] - actual[i]));
        Assert.True(worst <= tolerance, $"max |ORT − reference| = {worst:G3} > {tolerance:G3}");
    }

    [Theory]
    [InlineData(5, 8, 7, 1, 3, 1)]   // DeepClean input conv shape class
    [InlineData(5, 8, 7, 2, 3, 1)]   // DeepClean encoder: stride 2
    [InlineData(4, 6, 3, 1, 0, 1)]   // BBHnet: kernel 3, no padding
    [InlineData(4, 4, 5, 1, 2, 4)]   // depthwise (the postproc FIR layout)
    [InlineData(4, 6, 8, 1, 0, 1, 2)] // BBHnet Deep Filtering: kernel 8 dilated by 2
    [InlineData(2, 2, 9, 4, 0, 2)]   // the decimating input filter: depthwise, stride 4
    public void Conv1dMatchesDirectReference(int cin, int cout, int k, int stride, int pad, int group, int dilation = 1)
    {
        const int batch = 3, length = 64;
        var net = new NetworkBuilder("conv-test", seed: 7);
        var x = new Activation(net.Graph.Input("x", NetworkBuilder.Float, batch, cin, length), cin, length);
        var y = net.Conv1d(x, cout, k, stride, pad, group, prefix: "c", dilation: dilation);
        net.Graph.Node("Identity", [y.Name], "y");
        net.Graph.Output("y", NetworkBuilder.Float, batch, cout, y.Length);
        var model = net.Graph.Build("conv test");

        var input = ModelTestSupport.RandomSignal(batch * cin * length, seed: 11);
        var w = ModelTestSupport.Initializer(model, "c.weight_0");
        var b = ModelTestSupport.Initializer(model, "c.bias_0");
        var expected = Conv1d(input, batch, cin, length, w, b, cout, k, stride, pad, pad, group, out int outLength, dilation);
        Assert.Equal(outLength, y.Length);
        var result = ModelTestSupport.Run(model, ("x", input, [batch, cin, length]))["y"];
        Assert.Equal(new[] { batch, cout, outLength }, result.Shape);
        AssertClose(expected, result.Data, 1e-5);
    }

    [Theory]
    [InlineData(8, 5, 7, 2, 3, 1)]   // DeepClean decoder stage
    [InlineData(3, 4, 4, 3, 1, 2)]
    public void ConvTranspose1dMatchesDirectReference(int cin, int cout, int k, int stride, int pad, int outputPadding)
    {
        const int batch = 2, length = 32;
        var net = new NetworkBuilder("convt-test", seed: 3);
        var x = new Activation(net.Graph.Input("x", NetworkBuilder.Float, batch, cin, length), cin, length);
        var y = net.ConvTranspose1d(x, cout, k, stride, pad, outputPadding, prefix: "t");
        net.Graph.Node("Identity", [y.Name], "y");
        net.Graph.Output("y", NetworkBuilder.Float, batch, cout, y.Length);
        var model = net.Graph.Build("convtranspose test");

        var input = ModelTestSupport.RandomSignal(batch * cin * length, seed: 5);
        var expected = ConvTranspose1d(input, batch, cin, length, ModelTestSupport.Initializer(model, "t.weight_0"),
            ModelTestSupport.Initializer(model, "t.bias_0"), cout, k, stride, pad, outputPadding, out int outLength);
        Assert.Equal(outLength, y.Length);
        var result = ModelTestSupport.Run(model, ("x", input, [batch, cin, length]))["y"];
        Assert.Equal(new[] { batch, cout, outLength }, result.Shape);
        AssertClose(expected, result.Data, 1e-5);
    }

    [Fact]
    public void DeepCleanEqualsLayerByLayerReference()
    {
        // The whole untrained network at a small size, recomputed with the reference loops from its own initializers:
        // conv/convT + BatchNorm (identity statistics at init: x/sqrt(1+eps)) + tanh, output conv, squeeze.
        const int batch = 2, cw = 3, k = 64;
        var model = DeepCleanNetwork.Build("dc", cw, k, batch, seed: 42).Onnx!;
        var x = ModelTestSupport.RandomSignal(batch * cw * k, seed: 9);
        var actual = ModelTestSupport.Run(model, ("witness", x, [batch, cw, k]))["noise"];
        Assert.Equal(new[] { batch, k }, actual.Shape);

        float bnScale = 1f / MathF.Sqrt(1f + 1e-5f);
        var names = model.Graph.Initializer.Select(i => i.Name).Where(n => n.EndsWith(".weight_0") && !n.Contains("bn")).ToList();
        Assert.Equal(10, names.Count);
        int c = cw, len = k;
        float[] h = x;
        int[] outs = [cw, 8, 16, 32, 64, 32, 16, 8, cw, 1];
        for (int layer = 0; layer < 10; layer++)
        {
            string wName = names[layer], bName = wName.Replace(".weight_0", ".bias_0");
            var w = ModelTestSupport.Initializer(model, wName);
            var b = ModelTestSupport.Initializer(model, bName);
            int outLen;
            if (layer is >= 5 and <= 8) h = ConvTranspose1d(h, batch, c, len, w, b, outs[layer], 7, 2, 3, 1, out outLen);
            else h = Conv1d(h, batch, c, len, w, b, outs[layer], 7, layer is >= 1 and <= 4 ? 2 : 1, 3, 3, 1, out outLen);
            c = outs[layer];
            len = outLen;
            if (layer < 9)
                for (int i = 0; i < h.Length; i++) h[i] = MathF.Tanh(h[i] * bnScale);
        }
        AssertClose(h, actual.Data, 1e-5);
    }
}
