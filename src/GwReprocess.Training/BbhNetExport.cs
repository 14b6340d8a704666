using System.Globalization;
using GwReprocess.Models;
using GwReprocess.Models.Onnx.Protos;
using Inference;
using TorchSharp;
using static TorchSharp.torch;

namespace GwReprocess.Training;

/// <summary>A trained <see cref="BbhNetModule"/> as the project's ONNX BBHnet, and the check that both engines agree on it.</summary>
internal static class BbhNetExport
{
    /// <summary>Largest difference between TorchSharp's and ONNX Runtime's scores allowed, relative to the largest score.</summary>
    public const double Tolerance = 1e-5;

    /// <summary>The ONNX model: the input scale folded into the first conv (it takes postproc's output as served), a sigmoid on the logit, and the span and recipe in its metadata.</summary>
    public static RepositoryModel Build(BbhNetModule net, BbhNetTrainingData data, string name, BbhNetTrainingRequest request)
    {
        var o = request.Options;
        string description = string.Create(CultureInfo.InvariantCulture,
            $"BBHnet ({o.Architecture.Summary}) trained by gwrepro-train on {string.Join("+", data.Ifos)} background {data.TrainSpan} whitened by {data.Whitening} and filtered {o.Architecture.InputFilterBand(data.SampleRate)}, injections at network SNR {o.MinSnr}-{o.MaxSnr}; score = P(signal)");
        var weights = new NetworkWeights(net.ExportTensors(data.InputScale));
        var model = BbhNetNetwork.Build(name, data.Kernel, request.Batch, o.Seed, request.Instances, ModelInstanceGroup.Types.Kind.Auto, weights, description,
            o.Architecture.InputFilter(data.SampleRate), o.Architecture);
        var meta = model.Onnx!.MetadataProps;
        void Add(string key, string value) => meta.Add(new StringStringEntryProto { Key = key, Value = value });
        Add("ifos", string.Join(",", data.Ifos));
        Add("workflow", request.WorkflowName);
        Add("training_span", data.TrainSpan.ToString());
        Add("validation_span", data.ValidationSpan.ToString());
        Add("input_scale", data.InputScale.ToString("R", CultureInfo.InvariantCulture));
        Add("recipe", string.Create(CultureInfo.InvariantCulture,
            $"Adam lr {o.LearningRate} wd {o.WeightDecay}, batch {o.BatchSize} (half injected), dropout {o.Dropout}, background windows every {o.StrideSeconds} s, {o.TrainInjections} sources at SNR {o.MinSnr}-{o.MaxSnr}, seed {o.Seed}, {o.Threads} threads"));
        model.Config.Parameters["description"] = new ModelParameter
        {
            StringValue = $"BBHnet trained by gwrepro-train for {string.Join("+", data.Ifos)} on whitened strain; each version's training span is in its model.onnx metadata",
        };
        model.Config.VersionPolicy = new ModelVersionPolicy { All = new ModelVersionPolicy.Types.All() };
        return model;
    }

    /// <summary>
    /// Feeds validation windows (background and injected, as postproc writes them) to TorchSharp (sigmoid of its logit) and to ONNX Runtime;
    /// writes the input and TorchSharp's scores to <paramref name="checkFile"/> for tests that repeat the comparison, and returns the largest
    /// difference relative to the largest score.
    /// </summary>
    public static double CheckAgainstOnnx(BbhNetModule net, BbhNetTrainingData data, RepositoryModel model, string checkFile)
    {
        int d = data.Ifos.Count, k = data.Kernel, windows = Math.Min(8, data.ValidationWindows);
        var served = data.ServedInjections;
        var input = new float[windows * d * k];
        for (int i = 0; i < windows; i++)
            for (int det = 0; det < d; det++)
            {
                var dst = input.AsSpan((i * d + det) * k, k);
                data.ValidationNoise[det].AsSpan(i * k, k).CopyTo(dst);
                // Half the windows carry a source scaled to network SNR 12, so the check covers scores near 1 too.
                if ((i & 1) == 1)
                {
                    int window = i % served.WindowCount;
                    float amplitude = (float)(12 / served.Injections[window / served.WindowsPerSource].NetworkSnr);
                    var signal = served.Windows.AsSpan((window * d + det) * k, k);
                    for (int s = 0; s < k; s++) dst[s] += amplitude * signal[s];
                }
            }
        // TorchSharp runs the network after the fixed filter (training applied it to the data); ONNX Runtime runs the whole graph on the raw windows.
        int kept = data.NetworkLength;
        var plan = data.Architecture;
        var scaled = FixedFilter.Apply(input, k, plan.InputFilter(data.SampleRate), plan.InputStride, 1);
        System.Numerics.Tensors.TensorPrimitives.Multiply(scaled, (float)data.InputScale, scaled);
        float[] torchOut;
        using (torch.no_grad())
        using (var x = tensor(scaled, [windows, d, kept]))
        using (var logits = net.forward(x))
        using (var p = logits.sigmoid())
            torchOut = p.data<float>().ToArray();
        return ExportCheck.Compare(model, ModelContract.DetectorInput, input, windows, d, k, torchOut, checkFile);
    }
}
