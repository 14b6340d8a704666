using System.Numerics;

namespace GwReprocess.Dsp;

/// <summary>A centred FIR applied to a stream in the frequency domain (FFT overlap-save): the outputs of
/// <see cref="ResamplingFilter.Convolution"/> (one-shot or streamed) to FFT rounding, at O(log N) work per sample.</summary>
/// <remarks>
/// Output k is <c>Σ_n x[n]·taps[k + (len−1)/2 − n]</c> with zeros before the first and after the last input, so the stream
/// gives exactly as many outputs as inputs. Inputs are gathered into blocks of <see cref="BlockLength"/>; each full block
/// emits its outputs (lagging the input by <c>(len−1)/2</c> samples); <see cref="Flush"/> zero-pads and emits the rest.
/// </remarks>
public sealed class OverlapSaveFilter
{
    private readonly int _length, _half, _fftLength;
    private readonly double[] _spectrum;  // rfft of the zero-padded taps, interleaved
    private readonly double[] _history;   // last len−1 inputs (zeros before the stream)
    private readonly double[] _pending;   // new inputs of the current block
    private readonly double[] _work;
    private readonly RealFft _fft;
    private int _pendingCount;
    private long _convolved;              // full-convolution samples c[0.._convolved) computed
    private bool _flushed;

    /// <param name="taps">FIR coefficients (centre at (len−1)/2).</param>
    /// <param name="fftLength">Power of two at least 2·len; by default the smallest power of two ≥ 4·len.</param>
    public OverlapSaveFilter(ReadOnlySpan<double> taps, int fftLength = 0)
    {
        if (taps.IsEmpty) throw new ArgumentException("a FIR needs at least one tap", nameof(taps));
        _length = taps.Length;
        _half = (_length - 1) / 2;
        _fftLength = fftLength == 0 ? (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(16, 4 * _length)) : fftLength;
        if (!RealFft.Supports(_fftLength) || _fftLength < 2 * _length)
            throw new ArgumentException($"FFT length must be a power of two of at least {2 * _length}, got {_fftLength}", nameof(fftLength));
        _fft = RealFft.For(_fftLength);
        _spectrum = new double[_fftLength + 2];
        taps.CopyTo(_spectrum);
        _fft.Forward(_spectrum);
        _history = new double[_length - 1];
        _pending = new double[BlockLength];
        _work = new double[_fftLength + 2];
    }

    /// <summary>New input samples per FFT block (<c>fftLength − len + 1</c>).</summary>
    public int BlockLength => _fftLength - _length + 1;

    public long InputCount { get; private set; }

    public long OutputCount { get; private set; }

    /// <summary>Consumes <paramref name="input"/>; returns the outputs completed by the blocks it filled.</summary>
    public double[] Process(ReadOnlySpan<double> input)
    {
        if (_flushed) throw new InvalidOperationException("the stream was flushed; call Reset to start another");
        var outputs = new List<double>();
        InputCount += input.Length;
        Feed(input, outputs, long.MaxValue);
        return outputs.ToArray();
    }

    /// <summary>Ends the stream: zero-pads past the last input and returns the remaining outputs (total outputs = total inputs).</summary>
    public double[] Flush()
    {
        if (_flushed) throw new InvalidOperationException("the stream was already flushed");
        _flushed = true;
        var outputs = new List<double>();
        long limit = InputCount;
        Span<double> zeros = stackalloc double[256];
        long needed = InputCount + _half; // c[m] for m < n + half gives every output
        while (_convolved + _pendingCount < needed)
        {
            int n = (int)Math.Min(zeros.Length, needed - _convolved - _pendingCount);
            Feed(zeros[..n], outputs, limit);
        }
        if (_pendingCount > 0) RunBlock(outputs, limit);
        return outputs.ToArray();
    }

    /// <summary>Starts a new stream.</summary>
    public void Reset()
    {
        Array.Clear(_history);
        _pendingCount = 0;
        _convolved = 0;
        InputCount = 0;
        OutputCount = 0;
        _flushed = false;
    }

    private void Feed(ReadOnlySpan<double> input, List<double> outputs, long limit)
    {
        while (!input.IsEmpty)
        {
            int n = Math.Min(input.Length, _pending.Length - _pendingCount);
            input[..n].CopyTo(_pending.AsSpan(_pendingCount));
            _pendingCount += n;
            input = input[n..];
            if (_pendingCount == _pending.Length) RunBlock(outputs, limit);
        }
    }

    private void RunBlock(List<double> outputs, long limit)
    {
        int keep = _length - 1, count = _pendingCount;
        var w = _work.AsSpan();
        w.Clear();
        _history.CopyTo(w);
        _pending.AsSpan(0, count).CopyTo(w[keep..]);
        _fft.Forward(w);
        for (int k = 0; k <= _fftLength / 2; k++)
        {
            double ar = w[2 * k], ai = w[2 * k + 1], br = _spectrum[2 * k], bi = _spectrum[2 * k + 1];
            w[2 * k] = ar * br - ai * bi;
            w[2 * k + 1] = ar * bi + ai * br;
        }
        _fft.Inverse(w);
        // Circular positions keep .. keep+count−1 hold full-convolution samples c[_convolved ..].
        for (int j = 0; j < count; j++)
        {
            long k = _convolved + j - _half;
            if (k >= 0 && k < limit)
            {
                outputs.Add(w[keep + j]);
                OutputCount++;
            }
        }
        _convolved += count;
        // New history: the last len−1 samples of [history | pending].
        if (count >= keep)
        {
            _pending.AsSpan(count - keep, keep).CopyTo(_history);
        }
        else
        {
            Array.Copy(_history, count, _history, 0, keep - count);
            _pending.AsSpan(0, count).CopyTo(_history.AsSpan(keep - count));
        }
        _pendingCount = 0;
    }
}
