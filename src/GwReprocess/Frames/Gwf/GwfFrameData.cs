using GwReprocess.Data;
using GwReprocess.Time;

namespace GwReprocess.Frames.Gwf;

/// <summary>One channel of one frame to write: samples as float64, stored as <see cref="Type"/>.</summary>
/// <remarks>Integer types must hold every sample exactly (the writer refuses lossy conversion); float32 rounds to nearest.</remarks>
public sealed record GwfChannelData(string Name, GwfChannelKind Kind, double SampleRate, ReadOnlyMemory<double> Samples, GwfVectorType Type = GwfVectorType.Float64)
{
    /// <summary>Unit of the samples (FrVect unitY; FrAdcData units).</summary>
    public string Unit { get; init; } = "";

    /// <summary>Seconds from the frame start to the first sample.</summary>
    public double TimeOffset { get; init; }

    public string Comment { get; init; } = "";

    /// <summary>Overrides the writer's compression for this channel.</summary>
    public GwfCompression? Compression { get; init; }

    /// <summary>A float64 FrProcData time series from a <see cref="TimeSeries"/> that starts <paramref name="timeOffset"/> s into its frame.</summary>
    public static GwfChannelData FromSeries(TimeSeries series, GwfChannelKind kind = GwfChannelKind.Proc, GwfVectorType type = GwfVectorType.Float64, double timeOffset = 0) =>
        new(series.Channel.Value, kind, series.SampleRate.Hertz, series.Samples, type) { Unit = series.Unit, TimeOffset = timeOffset };
}

/// <summary>One frame to write: its GPS span, FrameH fields and channels (written in this order).</summary>
public sealed record GwfFrameData(GpsTime Start, GpsDuration Duration, IReadOnlyList<GwfChannelData> Channels)
{
    /// <summary>FrameH name (project); FrameL and frameCPP write e.g. <c>LIGO</c>.</summary>
    public string Name { get; init; } = "GwReprocess";

    /// <summary>Run number; negative means simulated or reprocessed data, as GWOSC writes −1.</summary>
    public int Run { get; init; } = -1;

    public uint FrameNumber { get; init; }

    public uint DataQuality { get; init; }

    /// <summary>FrHistory records of the frame (FrameH.history), in order; empty writes none.</summary>
    public IReadOnlyList<GwfHistory> History { get; init; } = [];

    public Segment Span => Segment.FromStart(Start, Duration);

    /// <summary>
    /// Cuts series into frames with the given spans (for example the input frames' spans), each frame
    /// holding every series cropped to its span; a span must lie inside every series.
    /// </summary>
    public static IEnumerable<GwfFrameData> Split(IReadOnlyList<TimeSeries> series, IEnumerable<Segment> frameSpans, GwfVectorType type = GwfVectorType.Float64, string frameName = "GwReprocess")
    {
        uint number = 0;
        foreach (var span in frameSpans)
        {
            var channels = new GwfChannelData[series.Count];
            for (int i = 0; i < series.Count; i++)
            {
                var cropped = series[i].Crop(span.Start, span.End);
                channels[i] = GwfChannelData.FromSeries(cropped, GwfChannelKind.Proc, type, (cropped.T0 - span.Start).TotalSeconds);
            }
            yield return new GwfFrameData(span.Start, span.Duration, channels) { Name = frameName, FrameNumber = number++ };
        }
    }
}

/// <summary>Options of <see cref="GwfWriter"/>.</summary>
public sealed record GwfWriteOptions
{
    /// <summary>Compression of every vector: <see cref="GwfCompression.Gzip"/> (default), <see cref="GwfCompression.DifferentialGzip"/> or <see cref="GwfCompression.Raw"/>.</summary>
    /// <remarks>Differences apply to integer vectors only; float vectors asked for them are gzip-compressed, as FrameL does.</remarks>
    public GwfCompression Compression { get; init; } = GwfCompression.Gzip;

    /// <summary>zlib level; the spec asks for the default level (Optimal = zlib 6).</summary>
    public System.IO.Compression.CompressionLevel Level { get; init; } = System.IO.Compression.CompressionLevel.Optimal;

    public static GwfWriteOptions Default { get; } = new();
}
