namespace GwReprocess.Jobs;

/// <summary>A growing run of samples indexed by stream sample number, from which old samples can be dropped: the job's memory of strain and noise.</summary>
/// <remarks>Thread-safe: the reader appends strain while the writer copies frames out.</remarks>
internal sealed class SampleStore
{
    private readonly object _gate = new();
    private double[] _buffer = new double[1 << 16];
    private long _origin;   // stream index of _buffer[0]
    private int _count;

    /// <summary>Stream index just past the last sample held.</summary>
    public long End
    {
        get { lock (_gate) return _origin + _count; }
    }

    public void Append(ReadOnlySpan<double> samples)
    {
        lock (_gate)
        {
            if (_count + samples.Length > _buffer.Length)
                Array.Resize(ref _buffer, Math.Max(_count + samples.Length, 2 * _buffer.Length));
            samples.CopyTo(_buffer.AsSpan(_count));
            _count += samples.Length;
        }
    }

    /// <summary>Copies samples [from, to) (stream indices) out.</summary>
    public double[] Copy(long from, long to)
    {
        lock (_gate)
        {
            if (from < _origin || to > _origin + _count || to < from)
                throw new InvalidOperationException($"samples [{from}, {to}) are not held (have [{_origin}, {_origin + _count}))");
            return _buffer.AsSpan((int)(from - _origin), (int)(to - from)).ToArray();
        }
    }

    /// <summary>Forgets samples before <paramref name="index"/>.</summary>
    public void DropBefore(long index)
    {
        lock (_gate)
        {
            int drop = (int)Math.Clamp(index - _origin, 0, _count);
            if (drop == 0) return;
            Array.Copy(_buffer, drop, _buffer, 0, _count - drop);
            _count -= drop;
            _origin += drop;
        }
    }
}
