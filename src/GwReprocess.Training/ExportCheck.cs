using Google.Protobuf;
using GwReprocess.Models;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using TorchSharp;

namespace GwReprocess.Training;

/// <summary>The other half of every export check: the exported model run in ONNX Runtime on the input TorchSharp saw, the check file, and the difference.</summary>
internal static class ExportCheck
{
    /// <summary>
    /// Runs <paramref name="model"/> on <paramref name="input"/> ([windows, channels, length] as tensor <paramref name="inputName"/>), writes the
    /// dimensions, the input and TorchSharp's <paramref name="torchOut"/> to <paramref name="checkFile"/> (for tests that repeat the comparison on
    /// their own), and returns ONNX Runtime's largest difference from <paramref name="torchOut"/> relative to its peak.
    /// </summary>
    public static double Compare(RepositoryModel model, string inputName, float[] input, int windows, int channels, int length, float[] torchOut, string checkFile)
    {
        QuietOnnxRuntime.Ensure();
        float[] onnxOut;
        using (var session = new InferenceSession(model.Onnx!.ToByteArray()))
        using (var results = session.Run([NamedOnnxValue.CreateFromTensor(inputName, new DenseTensor<float>(input, [windows, channels, length]))]))
            onnxOut = results.First().AsEnumerable<float>().ToArray();
        using (var w = new BinaryWriter(File.Create(checkFile)))
        {
            w.Write(windows); w.Write(channels); w.Write(length);
            foreach (float v in input) w.Write(v);
            foreach (float v in torchOut) w.Write(v);
        }
        double peak = 0, worst = 0;
        for (int i = 0; i < torchOut.Length; i++)
        {
            peak = Math.Max(peak, Math.Abs(torchOut[i]));
            worst = Math.Max(worst, Math.Abs(torchOut[i] - onnxOut[i]));
        }
        return peak > 0 ? worst / peak : worst;
    }

    /// <summary>A parameter's values on the host, each multiplied by <paramref name="scale"/> (how an export folds a fixed scale into a layer).</summary>
    public static float[] Values(torch.Tensor t, double scale)
    {
        using var cpu = t.detach().cpu().contiguous();
        var values = cpu.data<float>().ToArray();
        if (scale != 1)
            for (int i = 0; i < values.Length; i++) values[i] = (float)(values[i] * scale);
        return values;
    }
}
