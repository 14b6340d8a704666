using GwReprocess.Time;

namespace GwReprocess.Data;

/// <summary>A regularly sampled channel: samples, the GPS time of the first one, the rate and the name (gwpy's <c>TimeSeries</c>).</summary>
/// <remarks>
/// Immutable from the outside: it owns its sample memory, and operations return new series.
/// Samples are float64 whatever the stored type, as gwpy and SciPy compute in float64.
/// </remarks>
public sealed class TimeSeries
{
    public TimeSeries(ChannelName channel, GpsTime t0, SampleRate sampleRate, ReadOnlyMemory<double> samples, string unit = "")
    {
        Channel = channel;
        T0 = t0;
        SampleRate = sampleRate;
        Samples = samples;
        Unit = unit;
    }

    public ChannelName Channel { get; }

    /// <summary>GPS time of the first sample.</summary>
    public GpsTime T0 { get; }

    public SampleRate SampleRate { get; }

    public ReadOnlyMemory<double> Samples { get; }

    /// <summary>Physical unit of the samples ("strain", "counts"), empty when unknown.</summary>
    public string Unit { get; }

    public int Length => Samples.Length;

    public GpsDuration Duration => DurationOf(Length, SampleRate);

    /// <summary>GPS time just past the last sample.</summary>
    public GpsTime End => T0 + Duration;

    /// <summary>The half-open span <c>[T0, End)</c> the samples cover.</summary>
    public Segment Span => new(T0, End);

    /// <summary>GPS time of sample <paramref name="index"/>.</summary>
    public GpsTime TimeAt(long index) => T0 + DurationOf(index, SampleRate);

    /// <summary>Index of the sample at or after <paramref name="time"/> (rounded to the nearest sample boundary).</summary>
    public long IndexOf(GpsTime time) => (long)Math.Round((time - T0).TotalNanoseconds * SampleRate.Hertz / 1e9);

    /// <summary>The samples in <c>[start, end)</c>, sharing memory with this series.</summary>
    public TimeSeries Crop(GpsTime start, GpsTime end)
    {
        if (end < start) throw new ArgumentException($"crop end {end} is before its start {start}");
        if (start < T0 || end > End)
            throw new BadInputException($"{Channel}: requested [{start}, {end}) lies outside the data [{T0}, {End})");
        long i0 = IndexOf(start), i1 = IndexOf(end);
        return new TimeSeries(Channel, TimeAt(i0), SampleRate, Samples[(int)i0..(int)i1], Unit);
    }

    /// <summary>The same samples under another name, as cleaned strain is renamed.</summary>
    public TimeSeries WithChannel(ChannelName channel) => new(channel, T0, SampleRate, Samples, Unit);

    /// <summary>The same metadata over other samples (same rate and start).</summary>
    public TimeSeries WithSamples(ReadOnlyMemory<double> samples) => new(Channel, T0, SampleRate, samples, Unit);

    /// <summary>Exact duration of <paramref name="count"/> samples, rounded to the nanosecond.</summary>
    public static GpsDuration DurationOf(long count, SampleRate rate) =>
        GpsDuration.FromNanoseconds((long)Math.Round(count * 1e9 / rate.Hertz, MidpointRounding.AwayFromZero));

    public override string ToString() => $"TimeSeries({Channel}, t0={T0}, {SampleRate}, {Length} samples)";
}
