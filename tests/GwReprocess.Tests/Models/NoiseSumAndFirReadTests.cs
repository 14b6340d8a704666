using GwReprocess.Models;

namespace GwReprocess.Tests.Models;

/// <summary>The pieces of a DeepClean trained after a Wiener cleaner: the taps read back from the Wiener model, and the model adding the two estimates.</summary>
public sealed class NoiseSumAndFirReadTests
{
    [Fact]
    public void Taps_and_advance_read_back_from_a_written_wiener_model_predict_what_onnx_runtime_computes()
    {
        var rng = new Random(4);
        var taps = Enumerable.Range(0, 3).Select(_ => Enumerable.Range(0, 9).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray()).ToList();
        var fir = new MultiChannelFir(taps, 4, "test");
        var model = WienerFilterNetwork.Build("wiener-h1", fir, kernel: 64, batch: 1);
        var read = WienerFilterNetwork.ReadFir(model.Onnx!, "wiener-h1");
        Assert.Equal(fir.Advance, read.Advance);
        for (int c = 0; c < 3; c++) Assert.Equal(taps[c], read.Taps[c]);

        var x = ModelTestSupport.RandomSignal(3 * 64, 9);
        var onnx = ModelTestSupport.Run(model.Onnx!, ("witness", x, [1, 3, 64]))["noise"].Data;
        var predicted = WienerFit.Predict(read, Enumerable.Range(0, 3).Select(c => (ReadOnlyMemory<double>)x.Skip(c * 64).Take(64).Select(v => (double)v).ToArray()).ToList());
        for (int i = 0; i < 64; i++) Assert.Equal(predicted[i], onnx[i], 5);
    }

    [Fact]
    public void Noise_sum_adds_the_linear_and_nonlinear_estimates()
    {
        var model = NoiseSumNetwork.Build("noise-sum", kernel: 16, batch: 2);
        var a = ModelTestSupport.RandomSignal(32, 1);
        var b = ModelTestSupport.RandomSignal(32, 2);
        var sum = ModelTestSupport.Run(model.Onnx!, (NoiseSumNetwork.LinearInput, a, [2, 16]), (NoiseSumNetwork.NonlinearInput, b, [2, 16]))["noise"];
        Assert.Equal([2, 16], sum.Shape);
        for (int i = 0; i < 32; i++) Assert.Equal(a[i] + b[i], sum.Data[i]);
        var (code, output) = ModelTestSupport.OnnxChecker([Save(model)]);
        Assert.True(code == 0, output);
    }

    private static string Save(RepositoryModel model)
    {
        string path = Path.Combine(ModelTestSupport.NewTempDirectory(), "model.onnx");
        File.WriteAllBytes(path, Google.Protobuf.MessageExtensions.ToByteArray(model.Onnx!));
        return path;
    }
}
