using System.Buffers;
using GwReprocess.Server.Execution;
using Inference;

namespace GwReprocess.Server.Scheduling;

/// <summary>The inputs of one dynamic batch: each input's requests concatenated along the batch dim in a buffer rented from a pool.</summary>
/// <remarks>
/// Lifetime: the buffers are the batch's until <see cref="Dispose"/>, which the batcher calls once the execution has
/// ended (ONNX Runtime has unpinned them) and every response has been cut from its outputs. An output still pointing
/// into a buffer (an executor that hands an input back) is copied out before then: see <see cref="CopiedOut"/>.
/// </remarks>
internal sealed class BatchInputs : IDisposable
{
    private readonly List<IMemoryOwner<byte>> _rented;

    private BatchInputs(Dictionary<string, TensorData> tensors, List<IMemoryOwner<byte>> rented)
    {
        Tensors = tensors;
        _rented = rented;
    }

    public IReadOnlyDictionary<string, TensorData> Tensors { get; }

    /// <summary>Concatenates the inputs of <paramref name="requests"/> (compatible, <paramref name="size"/> rows in all); a single request's inputs are used as they are.</summary>
    public static BatchInputs Assemble(IReadOnlyList<InferenceRequest> requests, long size, MemoryPool<byte> pool)
    {
        var first = requests[0];
        var tensors = new Dictionary<string, TensorData>(first.Inputs.Count, StringComparer.Ordinal);
        var rented = new List<IMemoryOwner<byte>>(requests.Count == 1 ? 0 : first.Inputs.Count);
        try
        {
            foreach (var (name, t) in first.Inputs)
            {
                if (requests.Count == 1)
                {
                    tensors[name] = t;
                    continue;
                }
                var shape = (long[])t.Shape.Clone();
                shape[0] = size;
                int length = 0;
                foreach (var r in requests) length = checked(length + r.Inputs[name].Bytes.Length);
                var owner = pool.Rent(Math.Max(1, length));
                rented.Add(owner);
                // A pool may hand out more than asked for: the tensor is exactly the batch's bytes.
                var bytes = owner.Memory[..length];
                int offset = 0;
                foreach (var r in requests)
                {
                    var src = r.Inputs[name].Bytes.Span;
                    src.CopyTo(bytes.Span[offset..]);
                    offset += src.Length;
                }
                tensors[name] = new TensorData(t.Type, shape, bytes);
            }
            return new BatchInputs(tensors, rented);
        }
        catch
        {
            foreach (var owner in rented) owner.Dispose();
            throw;
        }
    }

    /// <summary><paramref name="outputs"/>, with any that lie in one of the batch's buffers copied out (the same dictionary when none does).</summary>
    public Dictionary<string, TensorData> CopiedOut(Dictionary<string, TensorData> outputs)
    {
        var result = outputs;
        foreach (var (name, t) in outputs)
        {
            if (!Holds(t.Bytes)) continue;
            if (ReferenceEquals(result, outputs)) result = new Dictionary<string, TensorData>(outputs, StringComparer.Ordinal);
            result[name] = new TensorData(t.Type, t.Shape, t.Bytes.ToArray());
        }
        return result;
    }

    private bool Holds(ReadOnlyMemory<byte> bytes)
    {
        foreach (var owner in _rented)
            if (bytes.Span.Overlaps(owner.Memory.Span)) return true;
        return false;
    }

    /// <summary>Hands the buffers back to the pool; the tensors must not be read afterwards.</summary>
    public void Dispose()
    {
        foreach (var owner in _rented) owner.Dispose();
        _rented.Clear();
    }
}
