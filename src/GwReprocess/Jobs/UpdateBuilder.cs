using System.Buffers;
using GwReprocess.Dsp;

namespace GwReprocess.Jobs;

/// <summary>Builds snapshot updates from per-channel sample streams: only new samples, channels exactly in the configured order.</summary>
/// <remarks>
/// Channels arrive at their own pace (one frame of each at a time, resampled to 4096 Hz); an update is ready once every
/// channel holds <c>B·stride</c> samples. Samples are standardised on the way in and kept in per-channel FIFOs. A FIFO is
/// read from a moving head and compacted only when an append would not fit: pieces of 16 s (65536 samples) feed updates
/// of ~1024, and shifting the rest forward on every take cost ~5 % of a client's CPU (O(piece²/update) copies).
/// </remarks>
public sealed class UpdateBuilder
{
    private readonly ChannelScaling[] _scaling;
    private readonly float[][] _fifo;
    private readonly int[] _head;   // index of a channel's oldest pending sample in its FIFO
    private readonly int[] _count;  // pending samples from the head
    private readonly int _updateSamples;
    private long _next;

    /// <param name="scaling">One entry per channel, in the order the model expects them.</param>
    /// <param name="updateSamples">B·stride, the samples of each channel per update.</param>
    public UpdateBuilder(IReadOnlyList<ChannelScaling> scaling, int updateSamples)
    {
        if (scaling.Count == 0) throw new ArgumentException("no channels", nameof(scaling));
        if (updateSamples <= 0) throw new ArgumentOutOfRangeException(nameof(updateSamples));
        foreach (var s in scaling)
            if (!(s.Scale != 0) || !double.IsFinite(s.Scale) || !double.IsFinite(s.Mean))
                throw new BadInputException($"channel scaling {s} is not usable (scale must be finite and non-zero)");
        _scaling = scaling.ToArray();
        _updateSamples = updateSamples;
        _fifo = new float[_scaling.Length][];
        for (int c = 0; c < _fifo.Length; c++) _fifo[c] = new float[4 * updateSamples];
        _head = new int[_scaling.Length];
        _count = new int[_scaling.Length];
    }

    public int Channels => _scaling.Length;

    /// <summary>Samples channel <paramref name="channel"/> holds that are not in an update yet.</summary>
    public int Pending(int channel) => _count[channel];

    /// <summary>Appends samples of one channel (already at the processing rate).</summary>
    public void Append(int channel, ReadOnlySpan<double> samples)
    {
        ref var fifo = ref _fifo[channel];
        int head = _head[channel], count = _count[channel];
        if (head + count + samples.Length > fifo.Length)
        {
            if (count + samples.Length > fifo.Length)
            {
                var larger = new float[Math.Max(count + samples.Length, 2 * fifo.Length)];
                fifo.AsSpan(head, count).CopyTo(larger);
                fifo = larger;
            }
            else fifo.AsSpan(head, count).CopyTo(fifo);
            _head[channel] = head = 0;
        }
        var dest = fifo.AsSpan(head + count, samples.Length);
        var s = _scaling[channel];
        double inv = 1.0 / s.Scale;
        for (int i = 0; i < samples.Length; i++) dest[i] = (float)((samples[i] - s.Mean) * inv);
        _count[channel] = count + samples.Length;
    }

    /// <summary>The next update if every channel has enough samples, else null.</summary>
    public SnapshotUpdate? TryTake()
    {
        for (int c = 0; c < _count.Length; c++) if (_count[c] < _updateSamples) return null;
        int n = _updateSamples;
        var buffer = ArrayPool<float>.Shared.Rent(Channels * n);
        for (int c = 0; c < Channels; c++)
        {
            _fifo[c].AsSpan(_head[c], n).CopyTo(buffer.AsSpan(c * n, n));
            _count[c] -= n;
            _head[c] = _count[c] == 0 ? 0 : _head[c] + n;
        }
        return new SnapshotUpdate(_next++, Channels, n, buffer);
    }
}
