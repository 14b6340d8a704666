namespace GwReprocess.Dsp;

/// <summary>Resamples one long channel chunk by chunk (frame by frame) with carried state; the concatenated output equals the one-shot <see cref="PolyphaseResampler"/> bit for bit.</summary>
/// <remarks>
/// The stream starts as SciPy does, with zeros before the first input sample, so its first outputs are the one-shot's first outputs.
/// <see cref="Process(ReadOnlySpan{double}, Span{double})"/> emits every output that depends only on inputs already seen:
/// after N inputs exactly <see cref="ResamplingFilter.OutputsReadyAfter"/>(N) outputs have been emitted, i.e. the stream lags
/// by about <c>HalfLength/Up</c> input samples. <see cref="Flush(Span{double})"/> ends the stream: it zero-pads past the last input
/// and emits the remaining outputs, so the total is <c>ceil(N·up/down)</c>, as one-shot. After a flush only <see cref="Reset"/> is allowed.
/// </remarks>
public sealed class StreamingResampler
{
    private readonly ResamplingFilter _filter;
    private double[] _buffer = [];
    private long _origin;   // input index of _buffer[0] (negative while the leading zeros are held)
    private int _count;     // valid samples in _buffer; _origin + _count == InputCount

    public StreamingResampler(ResamplingFilter filter)
    {
        _filter = filter;
        Reset();
    }

    public ResamplingFilter Filter => _filter;

    /// <summary>Input samples consumed so far.</summary>
    public long InputCount { get; private set; }

    /// <summary>Output samples emitted so far.</summary>
    public long OutputCount { get; private set; }

    /// <summary>True once <see cref="Flush(Span{double})"/> has ended the stream.</summary>
    public bool IsFlushed { get; private set; }

    /// <summary>Upper bound of the outputs one <see cref="Process(ReadOnlySpan{double}, Span{double})"/> call with <paramref name="inputLength"/> samples can emit.</summary>
    public int MaxOutputLength(int inputLength) => checked((int)(((long)inputLength * _filter.Up + _filter.Down - 1) / _filter.Down));

    /// <summary>Outputs <see cref="Flush(Span{double})"/> would emit now.</summary>
    public int PendingFlushLength => checked((int)(_filter.OutputLength(InputCount) - OutputCount));

    /// <summary>Starts a new stream (state back to zeros).</summary>
    public void Reset()
    {
        InputCount = 0;
        OutputCount = 0;
        IsFlushed = false;
        if (_filter.IsIdentity)
        {
            _origin = 0;
            _count = 0;
            return;
        }
        long first = _filter.LastInputOf(0) - _filter.TapsPerPhase + 1; // <= 0
        _origin = first;
        _count = 0;
        EnsureCapacity(Math.Max((int)-first * 2, 1024));
        _count = (int)-first;
        Array.Clear(_buffer, 0, _count);
    }

    /// <summary>Consumes <paramref name="input"/> and writes the outputs now determined to <paramref name="output"/>; returns how many (at most <see cref="MaxOutputLength"/>).</summary>
    public int Process(ReadOnlySpan<double> input, Span<double> output)
    {
        if (IsFlushed) throw new InvalidOperationException("the stream was flushed; call Reset to start another");
        if (_filter.IsIdentity)
        {
            input.CopyTo(output);
            InputCount += input.Length;
            OutputCount += input.Length;
            return input.Length;
        }
        Compact();
        EnsureCapacity(_count + input.Length);
        input.CopyTo(_buffer.AsSpan(_count));
        _count += input.Length;
        InputCount += input.Length;
        int ready = checked((int)(_filter.OutputsReadyAfter(InputCount) - OutputCount));
        return Emit(ready, output);
    }

    /// <summary>Consumes <paramref name="input"/> and returns the outputs now determined (allocates the result; use the span overload in tight loops).</summary>
    public double[] Process(ReadOnlySpan<double> input)
    {
        var output = new double[MaxOutputLength(input.Length)];
        int n = Process(input, output);
        return n == output.Length ? output : output[..n];
    }

    /// <summary>Ends the stream: zero-pads past the last input, writes the remaining <see cref="PendingFlushLength"/> outputs and returns how many.</summary>
    public int Flush(Span<double> output)
    {
        if (IsFlushed) throw new InvalidOperationException("the stream was already flushed");
        IsFlushed = true;
        if (_filter.IsIdentity) return 0;
        long total = _filter.OutputLength(InputCount);
        int remaining = checked((int)(total - OutputCount));
        if (remaining == 0) return 0;
        Compact();
        long needEnd = _filter.LastInputOf(total - 1) + 1;
        int pad = (int)Math.Max(0, needEnd - (_origin + _count));
        EnsureCapacity(_count + pad);
        Array.Clear(_buffer, _count, pad);
        _count += pad;
        return Emit(remaining, output);
    }

    /// <summary>Ends the stream and returns the remaining outputs.</summary>
    public double[] Flush()
    {
        var output = new double[IsFlushed ? 0 : PendingFlushLength];
        Flush(output);
        return output;
    }

    private int Emit(int count, Span<double> output)
    {
        if (count <= 0) return 0;
        if (output.Length < count) throw new ArgumentException($"output holds {output.Length} samples, {count} are ready", nameof(output));
        PolyphaseKernel.Run(_filter, _buffer.AsSpan(0, _count), _origin, OutputCount, output[..count]);
        OutputCount += count;
        return count;
    }

    /// <summary>Drops buffered inputs no future output reads.</summary>
    private void Compact()
    {
        long needStart = _filter.LastInputOf(OutputCount) - _filter.TapsPerPhase + 1;
        int drop = (int)Math.Clamp(needStart - _origin, 0, _count);
        if (drop == 0) return;
        Array.Copy(_buffer, drop, _buffer, 0, _count - drop);
        _count -= drop;
        _origin += drop;
    }

    private void EnsureCapacity(int capacity)
    {
        if (_buffer.Length >= capacity) return;
        var larger = new double[Math.Max(capacity, _buffer.Length * 2)];
        Array.Copy(_buffer, larger, _count);
        _buffer = larger;
    }
}
