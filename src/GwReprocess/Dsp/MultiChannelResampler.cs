namespace GwReprocess.Dsp;

/// <summary>Streams several channels (each with its own rate and filter) frame by frame, resampling the channels of a frame in parallel.</summary>
/// <remarks>Per channel the output is exactly that of a <see cref="StreamingResampler"/> (and so of the one-shot resampler); channel order is kept.</remarks>
public sealed class MultiChannelResampler
{
    private readonly StreamingResampler[] _channels;
    private readonly ParallelOptions _parallel;

    public MultiChannelResampler(IReadOnlyList<ResamplingFilter> filters, int maxDegreeOfParallelism = -1)
    {
        _channels = new StreamingResampler[filters.Count];
        for (int i = 0; i < _channels.Length; i++) _channels[i] = new StreamingResampler(filters[i]);
        _parallel = new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism };
    }

    /// <summary>One resampler per channel, taking each input rate to <paramref name="target"/> with SciPy's default filter.</summary>
    public static MultiChannelResampler ForRates(IReadOnlyList<(string Channel, Data.SampleRate Rate)> inputs, Data.SampleRate target, int maxDegreeOfParallelism = -1)
    {
        var filters = new ResamplingFilter[inputs.Count];
        for (int i = 0; i < filters.Length; i++) filters[i] = ResamplingFilter.ForRates(inputs[i].Rate, target, inputs[i].Channel);
        return new MultiChannelResampler(filters, maxDegreeOfParallelism);
    }

    public int ChannelCount => _channels.Length;

    /// <summary>The resampler of channel <paramref name="index"/> (for its counters).</summary>
    public StreamingResampler this[int index] => _channels[index];

    /// <summary>Consumes one chunk per channel (same order as the filters) and returns each channel's newly determined outputs.</summary>
    public double[][] Process(IReadOnlyList<ReadOnlyMemory<double>> chunks)
    {
        if (chunks.Count != _channels.Length) throw new ArgumentException($"expected {_channels.Length} channel chunks, got {chunks.Count}", nameof(chunks));
        var outputs = new double[_channels.Length][];
        Parallel.For(0, _channels.Length, _parallel, i => outputs[i] = _channels[i].Process(chunks[i].Span));
        return outputs;
    }

    /// <summary>Ends every channel's stream and returns the remaining outputs.</summary>
    public double[][] Flush()
    {
        var outputs = new double[_channels.Length][];
        for (int i = 0; i < _channels.Length; i++) outputs[i] = _channels[i].Flush();
        return outputs;
    }

    /// <summary>Starts new streams on every channel.</summary>
    public void Reset()
    {
        foreach (var c in _channels) c.Reset();
    }
}
