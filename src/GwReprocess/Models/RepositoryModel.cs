using GwReprocess.Models.Onnx.Protos;
using Inference;

namespace GwReprocess.Models;

/// <summary>One entry of a Triton-layout model repository: its config and, unless it is an ensemble, its version-1 ONNX graph.</summary>
/// <param name="Name">Directory name (= config name).</param>
/// <param name="Config">Triton's model configuration.</param>
/// <param name="Onnx">The ONNX model, or null for an ensemble.</param>
/// <param name="FlopsPerExample">Floating-point operations per example (one window), 0 when not counted.</param>
public sealed record RepositoryModel(string Name, ModelConfig Config, ModelProto? Onnx, double FlopsPerExample = 0);

/// <summary>The tensor names that let cleaners and detectors be swapped inside the ensembles.</summary>
/// <remarks>
/// A cleaner (DeepClean, the fitted Wiener filter) maps <c>witness [B, C_w, K]</c> to <c>noise [B, K]</c>; a detector
/// (BBHnet, the template bank) maps <c>strain [B, 2, K]</c> (cleaned, whitened H1 and L1) to <c>score [B, 1]</c>.
/// </remarks>
public static class ModelContract
{
    public const string WitnessInput = "witness";
    public const string NoiseOutput = "noise";
    public const string DetectorInput = "strain";
    public const string ScoreOutput = "score";
    public const string SnapshotUpdate = "snapshot_update";
    public const string SnapshotStateInput = "input_snapshot";
    public const string SnapshotStateOutput = "output_snapshot";
}

/// <summary>Small constructors for the Triton config pieces the model builders share.</summary>
public static class ModelConfigs
{
    /// <summary>Triton's platform name for ONNX Runtime models.</summary>
    public const string OnnxPlatform = "onnxruntime_onnx";

    /// <summary>Triton's platform name for ensembles.</summary>
    public const string EnsemblePlatform = "ensemble";

    public static ModelInput Input(string name, params long[] dims)
    {
        var i = new ModelInput { Name = name, DataType = DataType.TypeFp32 };
        i.Dims.AddRange(dims);
        return i;
    }

    public static ModelOutput Output(string name, params long[] dims)
    {
        var o = new ModelOutput { Name = name, DataType = DataType.TypeFp32 };
        o.Dims.AddRange(dims);
        return o;
    }

    /// <summary>An ONNX model config without Triton batching (dims carry the batch of B windows).</summary>
    public static ModelConfig Onnx(string name, int instances, ModelInstanceGroup.Types.Kind kind, string description,
        IEnumerable<ModelInput> inputs, IEnumerable<ModelOutput> outputs)
    {
        var c = new ModelConfig { Name = name, Platform = OnnxPlatform, MaxBatchSize = 0 };
        c.Input.AddRange(inputs);
        c.Output.AddRange(outputs);
        c.InstanceGroup.Add(new ModelInstanceGroup { Count = instances, Kind = kind });
        c.Parameters.Add("description", new ModelParameter { StringValue = description });
        return c;
    }
}
