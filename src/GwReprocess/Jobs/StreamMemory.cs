using GwReprocess.Time;

namespace GwReprocess.Jobs;

/// <summary>One stream's samples, indexed by stream sample number from <see cref="Start"/>: strain as read, noise as assembled, scores as answered.</summary>
/// <remarks>The reader appends strain, the receiver noise and scores, the writer copies frames out and drops what no later frame needs.</remarks>
internal sealed class StreamMemory
{
    /// <summary>Places a stream from the update grid point at or before (first missing frame − padding) to the padded end.</summary>
    /// <remarks>Starting on the padded start's update grid puts every window of a frame in the same batch slot whichever run streams it.</remarks>
    public StreamMemory(ClientJobSettings settings, StreamGeometry geometry, GpsTime firstMissing)
    {
        var padded = settings.Job.Padded;
        var padding = settings.Job.Core.Start - padded.Start;
        long want = StreamGeometry.SamplesBetween(padded.Start, firstMissing - padding);
        long startIndex = Math.Max(0, want / geometry.Update * geometry.Update);
        Start = StreamGeometry.After(padded.Start, startIndex);
        Updates = (StreamGeometry.SamplesBetween(Start, padded.End) - geometry.Settling) / geometry.Update;
        Strain = new SampleStore[settings.Detectors.Count];
        Noise = new SampleStore[settings.Detectors.Count];
        StrainUnit = new string[settings.Detectors.Count];
        Array.Fill(StrainUnit, "");
        for (int d = 0; d < Strain.Length; d++)
        {
            Strain[d] = new SampleStore();
            Noise[d] = new SampleStore();
        }
    }

    /// <summary>Stream sample 0.</summary>
    public GpsTime Start { get; }

    /// <summary>N, the updates the stream sends.</summary>
    public long Updates { get; }

    /// <summary>Each detector's strain at 4096 Hz, as read.</summary>
    public SampleStore[] Strain { get; }

    /// <summary>Each detector's strain unit as its frames give it (kept on the cleaned channel).</summary>
    public string[] StrainUnit { get; }

    /// <summary>Each detector's noise estimate, averaged over the windows covering each sample.</summary>
    public SampleStore[] Noise { get; }

    /// <summary>Detection scores, one per stride (zeros when the ensemble has no score output).</summary>
    public SampleStore Scores { get; } = new();

    /// <summary>The stream sample at <paramref name="t"/>.</summary>
    public long Index(GpsTime t) => StreamGeometry.SamplesBetween(Start, t);

    /// <summary>The time of stream sample <paramref name="index"/>.</summary>
    public GpsTime TimeOf(long index) => StreamGeometry.After(Start, index);
}
