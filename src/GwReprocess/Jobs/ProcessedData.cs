using GwReprocess.Time;

namespace GwReprocess.Jobs;

/// <summary>How far into the job's core segment the data has been answered: each second is counted as processed once, across reconnects.</summary>
/// <param name="core">The job's core segment.</param>
/// <param name="countedTo">Data before this time counts as processed already (an earlier run committed it).</param>
/// <param name="metrics">Where the processed spans are recorded.</param>
internal sealed class ProcessedData(Segment core, GpsTime countedTo, JobMetricsRecorder metrics)
{
    /// <summary>Data up to here has been counted.</summary>
    public GpsTime CountedTo { get; private set; } = countedTo;

    /// <summary>The stream has been answered up to <paramref name="answered"/>; returns the seconds of the core segment this adds.</summary>
    public double Advance(GpsTime answered)
    {
        var end = GpsTime.Min(answered, core.End);
        if (end <= CountedTo) return 0;
        var from = GpsTime.Max(CountedTo, core.Start);
        CountedTo = end;
        if (end <= from) return 0;
        metrics.Data(from.TotalSeconds, end.TotalSeconds);
        return (end - from).TotalSeconds;
    }
}
