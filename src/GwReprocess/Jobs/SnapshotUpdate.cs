using System.Buffers;

namespace GwReprocess.Jobs;

/// <summary>One snapshot update, <c>[1, C, B·stride]</c> float32 in channel-major order, rented from a pool.</summary>
/// <remarks>Dispose returns the buffer; <see cref="Data"/> must not be used afterwards.</remarks>
public sealed class SnapshotUpdate : IDisposable
{
    private float[]? _buffer;

    internal SnapshotUpdate(long index, int channels, int samples, float[] buffer)
    {
        Index = index;
        Channels = channels;
        Samples = samples;
        _buffer = buffer;
    }

    /// <summary>0 for the first update of the sequence.</summary>
    public long Index { get; }
    public int Channels { get; }
    public int Samples { get; }

    /// <summary>The tensor's elements: channel c, sample n at <c>c·Samples + n</c>.</summary>
    public ReadOnlySpan<float> Data => (_buffer ?? throw new ObjectDisposedException(nameof(SnapshotUpdate))).AsSpan(0, Channels * Samples);

    /// <summary>The same elements as memory, for asynchronous senders (valid until <see cref="Dispose"/>).</summary>
    public ReadOnlyMemory<float> Memory => (_buffer ?? throw new ObjectDisposedException(nameof(SnapshotUpdate))).AsMemory(0, Channels * Samples);

    public void Dispose()
    {
        if (_buffer is { } b) ArrayPool<float>.Shared.Return(b);
        _buffer = null;
    }
}
