using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Google.Protobuf;
using Inference;

namespace GwReprocess.Inference;

/// <summary>The one place that builds Triton <see cref="ModelInferRequest"/>s with FP32 tensors and reads FP32 outputs back.</summary>
/// <remarks>Tensors travel as raw contents (row-major, little-endian), which is what Triton and tritonclient use for large tensors.</remarks>
public static class InferRequests
{
    /// <summary>A request for <paramref name="model"/> with one FP32 input as raw contents.</summary>
    /// <remarks><paramref name="id"/> is echoed in the response; <paramref name="outputs"/> null = every output of the model (Triton's default).</remarks>
    public static ModelInferRequest Fp32(string model, string input, ReadOnlySpan<float> data, ReadOnlySpan<long> shape, string id = "",
        IEnumerable<string>? outputs = null)
    {
        long count = 1;
        foreach (long d in shape) count *= d;
        if (count != data.Length) throw new ArgumentException($"input '{input}': shape [{string.Join(", ", shape.ToArray())}] holds {count} values, data has {data.Length}");
        var r = new ModelInferRequest { ModelName = model, Id = id };
        var t = new ModelInferRequest.Types.InferInputTensor { Name = input, Datatype = "FP32" };
        t.Shape.AddRange(shape.ToArray());
        r.Inputs.Add(t);
        if (outputs is not null)
            foreach (var o in outputs) r.Outputs.Add(new ModelInferRequest.Types.InferRequestedOutputTensor { Name = o });
        r.RawInputContents.Add(UnsafeByteOperations.UnsafeWrap(LittleEndianBytes(data)));
        return r;
    }

    /// <summary>Adds the sequence parameters: <c>sequence_id</c> (int64) on every request, <c>sequence_start</c>/<c>sequence_end</c> only when true.</summary>
    /// <remarks>Triton reads an absent flag as false; leaving false flags out saves about 42 bytes on every streamed update.</remarks>
    public static ModelInferRequest InSequence(ModelInferRequest request, ulong sequenceId, bool start, bool end)
    {
        if (sequenceId == 0 || sequenceId > long.MaxValue) throw new ArgumentOutOfRangeException(nameof(sequenceId), sequenceId, "a sequence id is 1 .. 2^63-1 (0 means no sequence)");
        request.Parameters["sequence_id"] = new InferParameter { Int64Param = (long)sequenceId };
        if (start) request.Parameters["sequence_start"] = new InferParameter { BoolParam = true };
        if (end) request.Parameters["sequence_end"] = new InferParameter { BoolParam = true };
        return request;
    }

    /// <summary>The FP32 output <paramref name="name"/> of a response, from its raw contents (or typed fp32_contents from servers that send those), or null when absent.</summary>
    /// <exception cref="InvalidDataException">The output is not FP32, or its bytes do not match its shape.</exception>
    public static float[]? TryOutput(ModelInferResponse response, string name)
    {
        for (int i = 0; i < response.Outputs.Count; i++)
        {
            var o = response.Outputs[i];
            if (o.Name != name) continue;
            if (o.Datatype != "FP32") throw new InvalidDataException($"output '{name}' of {response.ModelName} is {o.Datatype}, expected FP32");
            long count = 1;
            foreach (long d in o.Shape) count *= d;
            float[] values;
            if (i < response.RawOutputContents.Count && (response.RawOutputContents[i].Length > 0 || o.Contents is null))
                values = FromLittleEndian(response.RawOutputContents[i].Span);
            else if (o.Contents is not null)
                values = [.. o.Contents.Fp32Contents];
            else
                throw new InvalidDataException($"output '{name}' of {response.ModelName} has no data");
            if (values.Length != count)
                throw new InvalidDataException($"output '{name}' of {response.ModelName}: shape [{string.Join(", ", o.Shape)}] holds {count} values, the response carries {values.Length}");
            return values;
        }
        return null;
    }

    /// <summary>The FP32 output <paramref name="name"/> of a response.</summary>
    /// <exception cref="InvalidDataException">No such output, not FP32, or its size does not match its shape.</exception>
    public static float[] Output(ModelInferResponse response, string name) =>
        TryOutput(response, name) ?? throw new InvalidDataException($"no output '{name}' in the response of {response.ModelName} (outputs: {string.Join(", ", response.Outputs.Select(o => o.Name))})");

    private static byte[] LittleEndianBytes(ReadOnlySpan<float> data)
    {
        var bytes = MemoryMarshal.AsBytes(data).ToArray();
        if (!BitConverter.IsLittleEndian)
        {
            var words = MemoryMarshal.Cast<byte, int>(bytes.AsSpan());
            BinaryPrimitives.ReverseEndianness(words, words);
        }
        return bytes;
    }

    private static float[] FromLittleEndian(ReadOnlySpan<byte> raw)
    {
        if (raw.Length % sizeof(float) != 0) throw new InvalidDataException($"{raw.Length} raw bytes are not a whole number of FP32 values");
        var values = MemoryMarshal.Cast<byte, float>(raw).ToArray();
        if (!BitConverter.IsLittleEndian)
        {
            var words = MemoryMarshal.Cast<float, int>(values.AsSpan());
            BinaryPrimitives.ReverseEndianness(words, words);
        }
        return values;
    }
}
