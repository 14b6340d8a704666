using GwReprocess.Models;
using GwReprocess.Models.Onnx;
using Inference;

namespace GwReprocess.Tests.Jobs;

/// <summary>
/// A small detection-only repository whose score can be predicted exactly, for the strain-only client tests: the
/// snapshotter holds L = 2 s of H1 and L1 (background + kernel, as a whitener that estimates the PSD would), a "crop"
/// step keeps the last K = 1 s (where a whitener would whiten), and "maxabs" scores the window's largest |x| over both
/// detectors. Beside it, a cleaning gwe2e (untrained DeepClean, 1 witness) for the all-or-nothing checks.
/// </summary>
public static class StrainOnlyRepository
{
    /// <summary>The detection-only ensemble.</summary>
    public const string Ensemble = "strain-maxabs";

    /// <summary>The detection-only ensemble whose crop keeps the K samples ending <see cref="Delay"/> before the snapshot's end, as the stream whitener does.</summary>
    public const string DelayedEnsemble = "strain-maxabs-delayed";

    /// <summary>Snapshot L, scored window K, stride, B (samples at 4096 Hz; rate 16 Hz, 0.25 s updates), and the delayed crop's delay (4 strides).</summary>
    public const int Snapshot = 8192, Window = 4096, Stride = 256, Batch = 4, Delay = 1024;

    /// <summary>Every model of the repository.</summary>
    public static IReadOnlyList<RepositoryModel> Build()
    {
        var models = new List<RepositoryModel>
        {
            Snapshotter.Build("snapshotter-strain", Snapshot, Stride, Batch, [new SnapshotterOutput("snapshot", 2)], instances: 2),
            Crop("crop", 0),
            Crop("crop-delayed", Delay),
            MaxAbs(),
        };
        models.Add(DetectionEnsemble(Ensemble, "crop"));
        models.Add(DetectionEnsemble(DelayedEnsemble, "crop-delayed"));
        // A cleaning repository beside it; its snapshotters are named apart from the strain one.
        models.AddRange(ModelRepositoryBuilder.Build(new ModelRepositoryOptions
        {
            SampleRate = 4096, KernelSeconds = 1, Stride = Stride, Batch = Batch, Witnesses = 1,
            Cleaner = CleanerKind.DeepClean, Detector = DetectorKind.BbhNet,
        }));
        return models;
    }

    /// <summary>[B, 2, L] → the K samples ending <paramref name="delay"/> before the snapshot's end [B, 2, K]; a delay is recorded as the stream whitener records it.</summary>
    private static RepositoryModel Crop(string name, int delay)
    {
        var g = new OnnxGraphBuilder(name);
        var x = g.Input("snapshot", NetworkBuilder.Float, Batch, 2, Snapshot);
        g.Node("Slice", [x, g.Int64Vector("from", Snapshot - Window - delay), g.Int64Vector("to", Snapshot - delay), g.Int64Vector("axis", 2)], "strain");
        g.Output("strain", NetworkBuilder.Float, Batch, 2, Window);
        var config = ModelConfigs.Onnx(name, 1, ModelInstanceGroup.Types.Kind.Auto, $"K samples of the snapshot ending {delay} before its end",
            [ModelConfigs.Input("snapshot", Batch, 2, Snapshot)], [ModelConfigs.Output("strain", Batch, 2, Window)]);
        if (delay > 0) config.Parameters[StreamWhitener.DelayParameter] = new ModelParameter { StringValue = delay.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        return new RepositoryModel(name, config, g.Build(name));
    }

    /// <summary>[B, 2, K] → max |x| over detectors and samples, [B, 1].</summary>
    private static RepositoryModel MaxAbs()
    {
        var g = new OnnxGraphBuilder("maxabs");
        var x = g.Input(ModelContract.DetectorInput, NetworkBuilder.Float, Batch, 2, Window);
        var abs = g.Node("Abs", [x], "abs");
        var max = g.Node("ReduceMax", [abs], "max", OnnxAttribute.Ints("axes", 1, 2), OnnxAttribute.Int("keepdims", 0));
        g.Node("Reshape", [max, g.Int64Vector("shape", Batch, 1)], ModelContract.ScoreOutput);
        g.Output(ModelContract.ScoreOutput, NetworkBuilder.Float, Batch, 1);
        var config = ModelConfigs.Onnx("maxabs", 1, ModelInstanceGroup.Types.Kind.Auto, "largest |x| of the window",
            [ModelConfigs.Input(ModelContract.DetectorInput, Batch, 2, Window)], [ModelConfigs.Output(ModelContract.ScoreOutput, Batch, 1)]);
        return new RepositoryModel("maxabs", config, g.Build("maxabs"));
    }

    private static RepositoryModel DetectionEnsemble(string name, string crop)
    {
        var ens = new ModelConfig { Name = name, Platform = ModelConfigs.EnsemblePlatform, MaxBatchSize = 0, EnsembleScheduling = new ModelEnsembling() };
        ens.Input.Add(ModelConfigs.Input(ModelContract.SnapshotUpdate, 1, 2, Batch * Stride));
        ens.Output.Add(ModelConfigs.Output(ModelContract.ScoreOutput, Batch, 1));
        ens.EnsembleScheduling.Step.Add(Step("snapshotter-strain", (ModelContract.SnapshotUpdate, ModelContract.SnapshotUpdate), ("snapshot", "snapshot")));
        ens.EnsembleScheduling.Step.Add(Step(crop, ("snapshot", "snapshot"), ("strain", "cropped")));
        ens.EnsembleScheduling.Step.Add(Step("maxabs", (ModelContract.DetectorInput, "cropped"), (ModelContract.ScoreOutput, ModelContract.ScoreOutput)));
        return new RepositoryModel(name, ens, null);
    }

    /// <summary>A step mapping one input and one output (model tensor → ensemble tensor).</summary>
    private static ModelEnsembling.Types.Step Step(string model, (string Model, string Ensemble) input, (string Model, string Ensemble) output)
    {
        var s = new ModelEnsembling.Types.Step { ModelName = model, ModelVersion = -1 };
        s.InputMap.Add(input.Model, input.Ensemble);
        s.OutputMap.Add(output.Model, output.Ensemble);
        return s;
    }
}
