using ScottPlot;

namespace GwReprocess.Analysis;

/// <summary>The report's figures as PNG files (ScottPlot, rendered headless).</summary>
public static class ReportPlots
{
    public const int Width = 900, Height = 500;

    /// <summary>Seconds of data per second against time since the synchronized start: all servers, and each (the published Fig. 10 style).</summary>
    public static void ThroughputVsTime(RunMetrics run, double binSeconds, string path)
    {
        var t = new Throughput(run.Clients, run.SynchronizedStart);
        var plot = new Plot();
        AddSeries(plot, t.Series(binSeconds), "all servers", 2);
        var servers = t.Servers;
        if (servers.Count > 1 && servers.Count <= 12)
            foreach (var s in servers) AddSeries(plot, t.Series(binSeconds, s), s, 1);
        plot.Title($"{run.Name}: throughput ({binSeconds:G3} s bins)");
        plot.XLabel("time since synchronized start (s)");
        plot.YLabel("seconds of data per second");
        plot.ShowLegend();
        plot.SavePng(path, Width, Height);
    }

    private static void AddSeries(Plot plot, IReadOnlyList<ThroughputBin> bins, string label, float width)
    {
        var xs = new double[bins.Count * 2];
        var ys = new double[bins.Count * 2];
        for (int i = 0; i < bins.Count; i++)
        {
            xs[2 * i] = bins[i].Start; xs[2 * i + 1] = bins[i].End;
            ys[2 * i] = ys[2 * i + 1] = bins[i].DataSecondsPerSecond;
        }
        var line = plot.Add.Scatter(xs, ys);
        line.MarkerSize = 0;
        line.LineWidth = width;
        line.LegendText = label;
    }

    /// <summary>Time (or cost) per second of data against server count: median with 25th–75th percentile bars, one point per run.</summary>
    public static void ScalingPlot(IReadOnlyList<RunSummary> runs, bool cost, string path)
    {
        var plot = new Plot();
        var points = runs.Where(r => !cost || r.Cost is not null).OrderBy(r => r.Servers).ToList();
        double[] xs = points.Select(r => (double)r.Servers).ToArray();
        // Per-bin throughput quartiles turn into time-per-data quartiles (the order flips).
        double Scale(RunSummary r) => cost ? r.Cost!.PerHour / 3600 : 1;
        double[] med = points.Select(r => Scale(r) / r.BinnedThroughput.Median).ToArray();
        double[] lo = points.Select((r, i) => med[i] - Scale(r) / r.BinnedThroughput.P75).ToArray();
        double[] hi = points.Select((r, i) => Scale(r) / Math.Max(r.BinnedThroughput.P25, 1e-300) - med[i]).ToArray();
        var markers = plot.Add.Scatter(xs, med);
        markers.LineWidth = 0;
        markers.MarkerSize = 10;
        // Quartile bars are asymmetric: 25th and 75th percentiles of the binned throughput, inverted.
        plot.Add.Plottable(new ScottPlot.Plottables.ErrorBar(xs, med, null, null, lo, hi));
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            xs.Distinct().Select(x => new Tick(x, x.ToString("0", System.Globalization.CultureInfo.InvariantCulture))).ToArray());
        plot.Title(cost ? $"cost per second of data ({points.FirstOrDefault()?.CostModel})" : "time per second of data");
        plot.XLabel("servers");
        plot.YLabel(cost ? "cost per second of data" : "wall seconds per second of data");
        plot.SavePng(path, Width, Height);
    }

    /// <summary>Mean queue and compute time per request of each model, stacked.</summary>
    public static void LatencyBreakdown(IReadOnlyList<ModelLatency> models, string path)
    {
        var plot = new Plot();
        var bars = new List<Bar>();
        var ticks = new List<Tick>();
        for (int i = 0; i < models.Count; i++)
        {
            var m = models[i];
            bars.Add(new Bar { Position = i, ValueBase = 0, Value = m.MeanComputeUs / 1000, FillColor = Colors.SteelBlue });
            bars.Add(new Bar { Position = i, ValueBase = m.MeanComputeUs / 1000, Value = (m.MeanComputeUs + m.MeanQueueUs) / 1000, FillColor = Colors.Orange });
            ticks.Add(new Tick(i, m.Model));
        }
        plot.Add.Bars(bars);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticks.ToArray());
        plot.Legend.ManualItems.Add(new LegendItem { LabelText = "compute (input + infer + output)", FillColor = Colors.SteelBlue });
        plot.Legend.ManualItems.Add(new LegendItem { LabelText = "queue", FillColor = Colors.Orange });
        plot.ShowLegend();
        plot.Title("latency per request");
        plot.YLabel("milliseconds per request");
        plot.SavePng(path, Width, Height);
    }
}
