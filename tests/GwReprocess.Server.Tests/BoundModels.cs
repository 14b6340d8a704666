using System.Runtime.InteropServices;
using Google.Protobuf;
using GwReprocess.Models;
using GwReprocess.Server.Execution;
using Inference;

namespace GwReprocess.Server.Tests;

/// <summary>Loads the project's models in process with a chosen <c>io_binding</c>, and builds requests and comparisons for the IO-binding tests.</summary>
internal static class BoundModels
{
    /// <summary>The model loaded with <c>io_binding</c> set (and <c>sequence_state</c> when given), one intra-op thread per instance.</summary>
    public static OnnxModelVersion Load(RepositoryModel model, string ioBinding, Action<ModelConfig>? edit = null, string? sequenceState = null)
    {
        var config = model.Config.Clone();
        config.Parameters[IoBindingChoice.IoBindingParameter] = new ModelParameter { StringValue = ioBinding };
        if (sequenceState is not null) config.Parameters[IoBindingChoice.SequenceStateParameter] = new ModelParameter { StringValue = sequenceState };
        edit?.Invoke(config);
        return OnnxModelVersion.Load(model.Name, 1, config, model.Onnx!.ToByteArray(), new OnnxSessionSettings(1, 1));
    }

    /// <summary>Turns a builder's fixed-batch config into one Triton batches (max_batch_size, dims without the batch dim): the graphs' batch dim is symbolic.</summary>
    public static void Batched(ModelConfig config, int maxBatchSize)
    {
        config.MaxBatchSize = maxBatchSize;
        foreach (var i in config.Input) i.Dims.RemoveAt(0);
        foreach (var o in config.Output) o.Dims.RemoveAt(0);
    }

    public static TensorData Fp32(float[] data, params long[] shape) => new(DataType.TypeFp32, shape, MemoryMarshal.AsBytes(data.AsSpan()).ToArray());

    /// <summary>A request carrying seeded random data for every config input, with <paramref name="batch"/> in front when the model batches.</summary>
    public static InferenceRequest Random(OnnxModelVersion model, int batch, int seed)
    {
        var inputs = new Dictionary<string, TensorData>(StringComparer.Ordinal);
        int k = 0;
        foreach (var i in model.Config.Input)
        {
            var shape = (model.Config.MaxBatchSize > 0 ? new long[] { batch } : []).Concat(i.Dims).ToArray();
            inputs[i.Name] = Fp32(TestServer.Signal(checked((int)TensorTypes.ElementCount(shape)), seed * 31 + k++), shape);
        }
        return new InferenceRequest { ModelName = model.Name, Inputs = inputs };
    }

    /// <summary>A snapshotter request in sequence <paramref name="id"/>.</summary>
    public static InferenceRequest Sequence(string model, float[] update, long[] shape, long id, bool start, bool end) => new()
    {
        ModelName = model,
        Inputs = new Dictionary<string, TensorData>(StringComparer.Ordinal) { [ModelContract.SnapshotUpdate] = Fp32(update, shape) },
        Sequence = new SequenceId(id, null),
        SequenceStart = start,
        SequenceEnd = end,
    };

    /// <summary>Both results have the same outputs, names, types, shapes and bytes.</summary>
    public static void SameBytes(InferenceResult expected, InferenceResult actual, string what)
    {
        Assert.Equal(expected.Outputs.Count, actual.Outputs.Count);
        for (int o = 0; o < expected.Outputs.Count; o++)
        {
            var (name, e) = expected.Outputs[o];
            var (actualName, a) = actual.Outputs[o];
            Assert.Equal(name, actualName);
            Assert.Equal(e.Type, a.Type);
            Assert.Equal(e.Shape, a.Shape);
            Assert.True(e.Bytes.Span.SequenceEqual(a.Bytes.Span), $"{what}: output '{name}' differs");
        }
    }

    public static float[] Floats(TensorData t) => MemoryMarshal.Cast<byte, float>(t.Bytes.Span).ToArray();
}
