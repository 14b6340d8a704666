using System.Globalization;
using GwReprocess.Models;
using GwReprocess.Models.Onnx.Protos;
using GwReprocess.Time;
using Inference;
using TorchSharp;
using static TorchSharp.torch;

namespace GwReprocess.Training;

/// <summary>A trained <see cref="DeepCleanModule"/> as the project's ONNX DeepClean, and the check that both engines agree on it.</summary>
internal static class DeepCleanExport
{
    /// <summary>Largest difference between TorchSharp and ONNX Runtime outputs allowed, relative to the output's peak.</summary>
    public const double Tolerance = 1e-5;

    /// <summary>
    /// The ONNX model: the witness standardisation built in at the input (each version carries its own span's scales), the
    /// strain scale folded into the output conv (it answers in strain units), and the training span, bands and recipe in its metadata.
    /// </summary>
    public static RepositoryModel Build(DeepCleanModule net, TrainingSpanData data, string name, int kernel, DeepCleanTrainingRequest request, Segment training)
    {
        var o = request.Options;
        string description = string.Create(CultureInfo.InvariantCulture,
            $"DeepClean trained by gwrepro-train on {data.Ifo} {training} in {DeepCleanTraining.Bands(request.Bands)} Hz ({data.Channels.Count} witnesses; versions carry their own spans)");
        var weights = new NetworkWeights(net.ExportTensors(data.TargetScale));
        var model = DeepCleanNetwork.Build(name, data.Channels.Count, kernel, request.Batch, o.Seed, request.Instances,
            ModelInstanceGroup.Types.Kind.Auto, weights, description, data.SharedScaling ? null : data.Scaling);
        var meta = model.Onnx!.MetadataProps;
        void Add(string key, string value) => meta.Add(new StringStringEntryProto { Key = key, Value = value });
        Add("ifo", data.Ifo);
        Add("workflow", request.WorkflowName);
        Add("training_span", training.ToString());
        Add("validation_span", new Segment(training.End, data.Span.End).ToString());
        Add("bands_hz", DeepCleanTraining.Bands(request.Bands));
        Add("strain_scale", data.TargetScale.ToString("R", CultureInfo.InvariantCulture));
        Add("strain_unit", data.StrainUnit);
        Add("recipe", string.Create(CultureInfo.InvariantCulture,
            $"Adam lr {o.LearningRate} wd {o.WeightDecay}, batch {o.BatchSize}, windows {o.WindowSeconds} s every {o.StrideSeconds} s, Welch {o.FftSeconds}/{o.OverlapSeconds} s, psd weight {o.PsdWeight}, seed {o.Seed}, {o.Threads} threads"));
        var config = model.Config;
        // The config is shared by every version (training nodes of other spans write it too): the span lives in each version's ONNX.
        config.Parameters["description"] = new ModelParameter
        {
            StringValue = $"DeepClean trained by gwrepro-train for {data.Ifo} in {DeepCleanTraining.Bands(request.Bands)} Hz ({data.Channels.Count} witnesses); each version's training span is in its model.onnx metadata",
        };
        // Standardisation lives in each version's network, so the client sends raw witnesses; the channel list still lets it check the order.
        // Beside a linear cleaner the two share the client's standardisation, whose scales the config then carries.
        config.Parameters[WienerCleaner.ChannelsParameter] = new ModelParameter { StringValue = string.Join(',', data.Channels.Select(c => c.Value)) };
        config.Parameters[WienerCleaner.ScalingParameter] = new ModelParameter
        {
            StringValue = string.Join(',', data.Scaling.Select(x => data.SharedScaling ? string.Create(CultureInfo.InvariantCulture, $"{x.Mean:R}:{x.Scale:R}") : "0:1")),
        };
        // The client must put the witnesses through the high-pass they were trained on; it refuses a workflow that differs.
        WienerCleaner.AnnotateHighpass(config, request.WitnessHighpass);
        // Every trained version stays loadable: per-span ensembles pin their own.
        config.VersionPolicy = new ModelVersionPolicy { All = new ModelVersionPolicy.Types.All() };
        return model;
    }

    /// <summary>
    /// Feeds up to four validation windows of the served length K to TorchSharp and to ONNX Runtime; writes the raw input and
    /// TorchSharp's output to <paramref name="checkFile"/> (for tests that repeat the comparison on their own) and returns the
    /// largest difference relative to the peak.
    /// </summary>
    public static double CheckAgainstOnnx(DeepCleanModule net, TrainingSpanData data, RepositoryModel model, int kernel, string checkFile)
    {
        int channels = data.Channels.Count;
        int windows = Math.Min(4, Math.Max(1, data.Length / kernel - 1));
        var raw = new float[windows * channels * kernel];
        var standardised = new float[raw.Length];
        for (int b = 0; b < windows; b++)
        {
            int start = data.Length - (b + 1) * kernel;
            for (int c = 0; c < channels; c++)
            {
                var s = data.Scaling[c];
                float mean = (float)s.Mean, inverse = (float)(1 / s.Scale);
                for (int i = 0; i < kernel; i++)
                {
                    int at = (b * channels + c) * kernel + i;
                    raw[at] = (float)(data.Witnesses[c][start + i] * s.Scale + s.Mean);
                    standardised[at] = data.SharedScaling ? data.Witnesses[c][start + i] : (raw[at] - mean) * inverse;
                }
            }
        }
        float[] torchOut;
        using (torch.no_grad())
        using (var x = tensor(standardised, [windows, channels, kernel]))
        using (var y = net.forward(x))
        {
            torchOut = y.data<float>().ToArray();
            float scale = (float)data.TargetScale;
            for (int i = 0; i < torchOut.Length; i++) torchOut[i] *= scale;
        }
        // The input the served model takes: raw witnesses, or the client-standardised ones when the scales are shared.
        return ExportCheck.Compare(model, ModelContract.WitnessInput, data.SharedScaling ? standardised : raw, windows, channels, kernel, torchOut, checkFile);
    }
}
