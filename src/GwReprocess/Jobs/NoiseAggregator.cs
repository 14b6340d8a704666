using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace GwReprocess.Jobs;

/// <summary>Averages overlapping noise windows as they stream in, and hands out each sample once no later window can change it.</summary>
/// <remarks>
/// Window <c>j</c> (counted from the sequence start) covers stream samples <c>[(j+1)·stride − K, (j+1)·stride)</c>: the snapshotter
/// starts from K zeros, so windows reaching before sample 0 saw partly zero state. Those warm-up windows are dropped
/// (the job's padding absorbs them). Windows must arrive in index order (the response placer reorders by request id).
/// Memory is a sliding buffer of about K samples, whatever the job length. A sample no window covered comes out as NaN,
/// so the job can refuse to write it instead of writing zeros.
/// </remarks>
public sealed class NoiseAggregator
{
    private readonly AggregationOptions _o;
    private double[] _sum;
    private float[] _count;
    private long _bufferStart;     // stream sample index of _sum[0]
    private long _emitted;         // stream samples already handed out
    private long _nextWindow;      // index the next window must have
    private long _covered;         // stream sample index just past the furthest contribution so far

    public NoiseAggregator(AggregationOptions options)
    {
        options.Validate();
        _o = options;
        _sum = new double[2 * options.WindowLength + options.Stride];
        _count = new float[_sum.Length];
    }

    /// <summary>Stream samples handed out so far.</summary>
    public long Emitted => _emitted;

    /// <summary>Adds window <paramref name="index"/>; windows must come in increasing index order, without gaps.</summary>
    public void Add(long index, ReadOnlySpan<float> window)
    {
        if (window.Length != _o.WindowLength) throw new ArgumentException($"window has {window.Length} samples, expected {_o.WindowLength}");
        if (index != _nextWindow) throw new InvalidOperationException($"window {index} arrived where {_nextWindow} was expected");
        _nextWindow++;
        long start = (index + 1) * _o.Stride - _o.WindowLength;
        if (start < 0) return; // warm-up: the snapshotter's zero state is inside this window
        long from = start + _o.From, to = start + _o.To;
        if (from < _emitted) throw new InvalidOperationException("window reaches samples already emitted");
        EnsureCapacity(to);
        int offset = (int)(from - _bufferStart), length = (int)(to - from);
        AddWidened(_sum.AsSpan(offset, length), window.Slice(_o.From, length));
        TensorPrimitives.Add(_count.AsSpan(offset, length), 1f, _count.AsSpan(offset, length));
        _covered = Math.Max(_covered, to);
    }

    /// <summary><paramref name="sum"/>[k] += (double)<paramref name="values"/>[k]: each sample's own double addition, as the scalar loop, in vector lanes (with K/stride windows over every sample this is the aggregator's hot loop).</summary>
    private static void AddWidened(Span<double> sum, ReadOnlySpan<float> values)
    {
        int k = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            ref double s = ref MemoryMarshal.GetReference(sum);
            ref float v = ref MemoryMarshal.GetReference(values);
            for (; k + Vector256<float>.Count <= values.Length; k += Vector256<float>.Count)
            {
                var (lower, upper) = Vector256.Widen(Vector256.LoadUnsafe(ref v, (nuint)k));
                (Vector256.LoadUnsafe(ref s, (nuint)k) + lower).StoreUnsafe(ref s, (nuint)k);
                (Vector256.LoadUnsafe(ref s, (nuint)(k + 4)) + upper).StoreUnsafe(ref s, (nuint)(k + 4));
            }
        }
        for (; k < values.Length; k++) sum[k] += values[k];
    }

    /// <summary>Samples that are final: before the first sample the next window would touch.</summary>
    public long FinalUpTo => Math.Max(_emitted, Math.Min(_covered, (_nextWindow + 1) * _o.Stride - _o.WindowLength + _o.From));

    /// <summary>Copies up to <paramref name="destination"/>.Length final samples (averages; NaN where uncovered); returns the count.</summary>
    public int Drain(Span<double> destination) => Take(destination, FinalUpTo);

    /// <summary>After the last window: copies every remaining sample up to the end of the stream sent (NaN where no window reached).</summary>
    public int DrainAll(Span<double> destination)
    {
        long end = _nextWindow * _o.Stride;
        EnsureCapacity(end);
        return Take(destination, end);
    }

    private int Take(Span<double> destination, long upTo)
    {
        int n = (int)Math.Min(destination.Length, upTo - _emitted);
        if (n <= 0) return 0;
        int offset = (int)(_emitted - _bufferStart);
        var sum = _sum.AsSpan(offset, n);
        var count = _count.AsSpan(offset, n);
        for (int k = 0; k < n; k++) destination[k] = count[k] > 0 ? sum[k] / count[k] : double.NaN;
        _emitted += n;
        return n;
    }

    private void EnsureCapacity(long to)
    {
        if (to - _bufferStart <= _sum.Length) return;
        // Slide the live samples [emitted, covered) to the front; grow only if that is still too short.
        int shift = (int)(_emitted - _bufferStart);
        if (shift > 0)
        {
            int keep = (int)Math.Max(0, _covered - _emitted);
            Array.Copy(_sum, shift, _sum, 0, keep);
            Array.Copy(_count, shift, _count, 0, keep);
            Array.Clear(_sum, keep, _sum.Length - keep);
            Array.Clear(_count, keep, _count.Length - keep);
            _bufferStart = _emitted;
        }
        long needed = to - _bufferStart;
        if (needed > _sum.Length)
        {
            Array.Resize(ref _sum, (int)Math.Max(needed, 2L * _sum.Length));
            Array.Resize(ref _count, _sum.Length);
        }
    }
}
