using GwReprocess.Server.Execution;
using Inference;

namespace GwReprocess.Server.Scheduling;

/// <summary>One request's share of a dynamic batch's outputs: its rows, of the outputs it asked for.</summary>
internal static class BatchOutputs
{
    /// <summary>Rows [<paramref name="row"/>, <paramref name="row"/> + <paramref name="rows"/>) of the outputs in <paramref name="wanted"/>; slices, not copies.</summary>
    public static Dictionary<string, TensorData> Rows(string model, Dictionary<string, TensorData> batch, IReadOnlyList<string> wanted, long size, long row, long rows)
    {
        var outputs = new Dictionary<string, TensorData>(StringComparer.Ordinal);
        foreach (var (name, t) in batch)
        {
            if (!wanted.Contains(name)) continue;
            if (t.Shape.Length == 0 || t.Shape[0] != size)
                throw InferenceException.Backend($"model '{model}': output '{name}' has shape {TensorTypes.Format(t.Shape)}, not batch {size} first");
            var shape = (long[])t.Shape.Clone();
            shape[0] = rows;
            if (t.Type == DataType.TypeString)
            {
                // Variable-size elements: find the byte range of this request's rows by walking the lengths.
                long rowElements = t.ElementCount / size;
                int from = BytesTensor.Offset(t.Bytes.Span, row * rowElements);
                int to = from + BytesTensor.Offset(t.Bytes.Span[from..], rows * rowElements);
                outputs[name] = new TensorData(t.Type, shape, t.Bytes[from..to]);
                continue;
            }
            long rowBytes = t.Bytes.Length / size;
            outputs[name] = new TensorData(t.Type, shape, t.Bytes.Slice((int)(row * rowBytes), (int)(rows * rowBytes)));
        }
        return outputs;
    }
}
