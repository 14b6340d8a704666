using System.Buffers;
using System.Diagnostics;
using Inference;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace GwReprocess.Server.Execution;

/// <summary>One execution of an ONNX model: its outputs on the host, and when its stages ended (Stopwatch timestamps).</summary>
internal readonly record struct OrtRunResult(Dictionary<string, TensorData> Outputs, long Start, long AfterInput, long AfterInfer, long End);

/// <summary>The plain path: a session run on the request's own buffers, ONNX Runtime staging whatever goes to a device itself; strings go through here.</summary>
internal static class PlainRun
{
    private static readonly byte[] EmptyBuffer = new byte[8];

    /// <summary>One execution with the request's buffers pinned in place as the inputs; outputs are copied into arrays the response owns.</summary>
    public static unsafe OrtRunResult Run(InferenceSession session, IReadOnlyDictionary<string, TensorData> inputs, IReadOnlyList<string> outputNames, string model, long version)
    {
        long start = Stopwatch.GetTimestamp();
        int n = inputs.Count;
        var names = new string[n];
        var values = new OrtValue[n];
        var pins = new MemoryHandle[n];
        int i = 0;
        try
        {
            foreach (var (name, t) in inputs)
            {
                names[i] = name;
                if (t.Type == DataType.TypeString)
                {
                    // ONNX Runtime keeps strings as its own objects: copy each element in (binary-safe).
                    var strings = OrtValue.CreateTensorWithEmptyStrings(OrtAllocator.DefaultInstance, t.Shape);
                    values[i++] = strings;
                    BytesTensor.ForEach(t.Bytes.Span, (element, index) => strings.StringTensorSetElementAt(element, index));
                    continue;
                }
                var mem = t.Bytes.Length == 0 ? EmptyBuffer : t.Bytes;
                pins[i] = mem.Pin();
                values[i] = OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, TensorTypes.ToOrt(t.Type), t.Shape,
                    (IntPtr)pins[i].Pointer, t.Bytes.Length);
                i++;
            }
            long afterInput = Stopwatch.GetTimestamp();
            using var runOptions = new RunOptions();
            using var results = session.Run(runOptions, names, values, outputNames);
            long afterInfer = Stopwatch.GetTimestamp();
            var outputs = new Dictionary<string, TensorData>(outputNames.Count, StringComparer.Ordinal);
            int k = 0;
            foreach (var r in results)
            {
                var info = r.GetTensorTypeAndShape();
                var bytes = info.ElementDataType == TensorElementType.String ? SerializeStrings(r, info.ElementCount) : r.GetTensorMutableRawData().ToArray();
                outputs[outputNames[k++]] = new TensorData(TensorTypes.FromOrt(info.ElementDataType), info.Shape, bytes);
            }
            return new OrtRunResult(outputs, start, afterInput, afterInfer, Stopwatch.GetTimestamp());
        }
        catch (OnnxRuntimeException e)
        {
            throw InferenceException.Backend($"model '{model}' version {version}: ONNX Runtime failed: {e.Message}");
        }
        finally
        {
            for (int j = 0; j < i; j++)
            {
                values[j]?.Dispose();
                pins[j].Dispose();
            }
        }
    }

    /// <summary>An ONNX Runtime string tensor in Triton's BYTES form.</summary>
    private static byte[] SerializeStrings(OrtValue value, long count)
    {
        long total = 0;
        for (int e = 0; e < count; e++) total += BytesTensor.LengthPrefix + value.GetStringElementAsSpan(e).Length;
        var bytes = new byte[checked((int)total)];
        int at = 0;
        for (int e = 0; e < count; e++)
        {
            var element = value.GetStringElementAsSpan(e);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(at), (uint)element.Length);
            element.CopyTo(bytes.AsSpan(at + BytesTensor.LengthPrefix));
            at += BytesTensor.LengthPrefix + element.Length;
        }
        return bytes;
    }
}
