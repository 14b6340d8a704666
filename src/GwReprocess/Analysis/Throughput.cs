using GwReprocess.Dsp;
using GwReprocess.Jobs;

namespace GwReprocess.Analysis;

/// <summary>Aggregate seconds of data per second in one time bin after the synchronized start.</summary>
/// <param name="Start">Bin start, seconds since the synchronized start.</param>
/// <param name="End">Bin end, seconds since the synchronized start.</param>
/// <param name="DataSecondsPerSecond">Σ over jobs of data seconds processed in the bin ÷ bin width.</param>
public readonly record struct ThroughputBin(double Start, double End, double DataSecondsPerSecond);

/// <summary>Throughput of a run from its clients' metrics: as a time series (all servers, or one), and run-level.</summary>
public sealed class Throughput
{
    private readonly IReadOnlyList<JobMetricsInterval> _intervals;

    public Throughput(IReadOnlyList<JobMetricsInterval> intervals, double? synchronizedStart = null)
    {
        if (intervals.Count == 0) throw new BadInputException("no client metrics: the run produced no metrics rows");
        _intervals = intervals;
        double first = double.MaxValue, last = double.MinValue, data = 0;
        foreach (var m in intervals)
        {
            first = Math.Min(first, m.WallStart);
            last = Math.Max(last, m.WallEnd);
            data += m.DataSeconds;
        }
        SynchronizedStart = synchronizedStart ?? first;
        End = last;
        DataSeconds = data;
    }

    /// <summary>Unix time every clock is measured from: the barrier's start time (or the first interval's start).</summary>
    public double SynchronizedStart { get; }

    /// <summary>Unix time of the last interval's end.</summary>
    public double End { get; }

    /// <summary>Seconds of data processed by all jobs.</summary>
    public double DataSeconds { get; }

    /// <summary>Wall seconds from the synchronized start to the last interval's end.</summary>
    public double WallSeconds => End - SynchronizedStart;

    /// <summary>Run-level seconds of data per second.</summary>
    public double DataSecondsPerSecond => DataSeconds / WallSeconds;

    /// <summary>Servers that appear in the metrics, sorted.</summary>
    public IReadOnlyList<string> Servers => _intervals.Select(m => m.Server).Distinct().Order(StringComparer.Ordinal).ToList();

    /// <summary>
    /// Throughput in bins of <paramref name="binSeconds"/> from the synchronized start; an interval's data
    /// is spread uniformly over its wall time, so bins need not align with reporting intervals.
    /// </summary>
    public IReadOnlyList<ThroughputBin> Series(double binSeconds, string? server = null)
    {
        if (!(binSeconds > 0)) throw new ArgumentOutOfRangeException(nameof(binSeconds));
        int bins = (int)Math.Ceiling(WallSeconds / binSeconds - 1e-9);
        var data = new double[Math.Max(bins, 1)];
        foreach (var m in _intervals)
        {
            if (server is not null && m.Server != server) continue;
            double a = m.WallStart - SynchronizedStart, b = m.WallEnd - SynchronizedStart;
            if (b <= a)
            {
                int k = Math.Clamp((int)Math.Floor(a / binSeconds), 0, data.Length - 1);
                data[k] += m.DataSeconds;
                continue;
            }
            double rate = m.DataSeconds / (b - a);
            int first = Math.Max(0, (int)Math.Floor(a / binSeconds)), last = Math.Min(data.Length - 1, (int)Math.Ceiling(b / binSeconds) - 1);
            for (int k = first; k <= last; k++)
            {
                double overlap = Math.Min(b, (k + 1) * binSeconds) - Math.Max(a, k * binSeconds);
                if (overlap > 0) data[k] += rate * overlap;
            }
        }
        var series = new ThroughputBin[data.Length];
        for (int k = 0; k < data.Length; k++)
        {
            double end = Math.Min((k + 1) * binSeconds, WallSeconds);
            double width = end - k * binSeconds;
            series[k] = new ThroughputBin(k * binSeconds, end, width > 0 ? data[k] / width : 0);
        }
        return series;
    }

    /// <summary>Quartiles of the binned aggregate throughput over full bins (the last, partial bin is left out).</summary>
    public Quartiles Distribution(double binSeconds)
    {
        var values = Series(binSeconds).Where(b => b.End - b.Start >= binSeconds * (1 - 1e-9)).Select(b => b.DataSecondsPerSecond).ToList();
        if (values.Count == 0) values = Series(binSeconds).Select(b => b.DataSecondsPerSecond).ToList();
        return Percentiles.QuartilesOf(values);
    }
}
