using System.Globalization;
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
        // Quartile bars are asymmetric: 25th and 75th percentiles of the binned throughput, inverted. ScottPlot 5 takes the
        // distances above the point before those below.
        plot.Add.Plottable(new ScottPlot.Plottables.ErrorBar(xs, med, null, null, hi, lo));
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            xs.Distinct().Select(x => new Tick(x, x.ToString("0", System.Globalization.CultureInfo.InvariantCulture))).ToArray());
        plot.Title(cost ? $"cost per second of data ({points.FirstOrDefault()?.CostModel})" : "time per second of data");
        plot.XLabel("servers");
        plot.YLabel(cost ? "cost per second of data" : "wall seconds per second of data");
        plot.SavePng(path, Width, Height);
    }

    /// <summary>
    /// Mean queue and compute time per request of each step model that served requests, stacked. The ensemble
    /// (<paramref name="ensemble"/>) is left out: its times span its steps and would dwarf them (the report's table has it).
    /// </summary>
    public static void LatencyBreakdown(IReadOnlyList<ModelLatency> models, string path, string? ensemble = null)
    {
        var plot = new Plot();
        var bars = new List<Bar>();
        var ticks = new List<Tick>();
        var shown = models.Where(m => m.Requests > 0 && m.Model != ensemble).ToList();
        for (int i = 0; i < shown.Count; i++)
        {
            var m = shown[i];
            bars.Add(new Bar { Position = i, ValueBase = 0, Value = m.MeanComputeUs / 1000, FillColor = Colors.SteelBlue });
            bars.Add(new Bar { Position = i, ValueBase = m.MeanComputeUs / 1000, Value = (m.MeanComputeUs + m.MeanQueueUs) / 1000, FillColor = Colors.Orange });
            ticks.Add(new Tick(i, m.Model));
        }
        plot.Add.Bars(bars);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticks.ToArray());
        plot.Legend.ManualItems.Add(new LegendItem { LabelText = "compute (input + infer + output)", FillColor = Colors.SteelBlue });
        plot.Legend.ManualItems.Add(new LegendItem { LabelText = "queue", FillColor = Colors.Orange });
        plot.ShowLegend(Alignment.UpperRight);
        plot.Axes.AutoScale();
        var limits = plot.Axes.GetLimits();
        // Bars start at zero; headroom above the tallest keeps the legend off them.
        plot.Axes.SetLimitsY(0, Math.Max(limits.Top, 1e-3) * 1.35);
        plot.Title(ensemble is null ? "latency per request" : $"latency per request in the steps of {ensemble}");
        plot.YLabel("milliseconds per request");
        plot.SavePng(path, Width, Height);
    }

    /// <summary>ASD(cleaned)/ASD(raw) per detector against frequency, both axes logarithmic, 10–1000 Hz, with a line at 1.</summary>
    public static void AsdRatioPlot(CleaningComparison comparison, string path)
    {
        var plot = new Plot();
        foreach (var d in comparison.Detectors)
        {
            var xs = new double[d.Frequencies.Length];
            var ys = new double[d.Ratio.Length];
            for (int i = 0; i < xs.Length; i++)
            {
                xs[i] = Math.Log10(d.Frequencies[i]);
                // A ratio of exactly 0 (a zeroed cleaned channel) would be -∞ on the log axis; floor it far below any real value.
                ys[i] = Math.Log10(Math.Max(d.Ratio[i], 1e-12));
            }
            var line = plot.Add.Scatter(xs, ys);
            line.MarkerSize = 0;
            line.LineWidth = 1.5f;
            line.LegendText = string.Create(CultureInfo.InvariantCulture, $"{d.Ifo} (60 Hz: {d.RatioAt60Hz:G3}, median 20–500 Hz: {d.MedianRatio20To500Hz:G3})");
        }
        var one = plot.Add.HorizontalLine(0);
        one.Color = Colors.Black;
        one.LineWidth = 1;
        one.LinePattern = LinePattern.Dashed;
        plot.Axes.Bottom.TickGenerator = LogTicks();
        plot.Axes.Left.TickGenerator = LogTicks();
        plot.Grid.MajorLineColor = Colors.Black.WithOpacity(.15);
        plot.Grid.MinorLineColor = Colors.Black.WithOpacity(.05);
        plot.Grid.MinorLineWidth = 1;
        plot.Axes.SetLimitsX(Math.Log10(CleaningComparison.LowHz), Math.Log10(CleaningComparison.HighHz));
        plot.Axes.AutoScaleY();
        var y = plot.Axes.GetLimits();
        // Keep the line at 1 and at least a decade either side of it in view.
        plot.Axes.SetLimitsY(Math.Min(y.Bottom, -1), Math.Max(y.Top, 0.5));
        plot.Title(string.Create(CultureInfo.InvariantCulture,
            $"ASD cleaned / raw, GPS {comparison.FrameGps:F0} + {comparison.FrameSeconds:G6} s (Welch {comparison.FftSeconds:G3} s, median)"));
        plot.XLabel("frequency (Hz)");
        plot.YLabel("ASD ratio cleaned / raw");
        plot.ShowLegend(Alignment.LowerLeft);
        plot.SavePng(path, Width, Height);
    }

    /// <summary>Ticks for an axis plotted as log10 of the value: labels at the decades, minor ticks at 2–9.</summary>
    private static ScottPlot.TickGenerators.NumericAutomatic LogTicks() => new()
    {
        MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
        IntegerTicksOnly = true,
        LabelFormatter = v => Math.Pow(10, v).ToString("G4", CultureInfo.InvariantCulture),
    };

    /// <summary>Injection SNR classes of the scores plot: lower bound and colour.</summary>
    private static readonly (double Snr, Color Color)[] SnrClasses =
        [(0, Colors.Gray), (8, Colors.DodgerBlue), (12, Colors.DarkOrange), (20, Colors.Crimson)];

    /// <summary>Scores against time with each injection marked by a vertical line coloured by its network SNR, and the background threshold.</summary>
    public static void ScoresPlot(InjectionRecovery search, string path)
    {
        var plot = new Plot();
        double origin = Math.Floor(search.Times[0]);
        var xs = new double[search.Times.Length];
        for (int i = 0; i < xs.Length; i++) xs[i] = search.Times[i] - origin;
        var scores = plot.Add.Scatter(xs, search.Values);
        scores.MarkerSize = 0;
        scores.LineWidth = 1;
        scores.Color = Colors.Black.WithOpacity(.8);
        foreach (var inj in search.Injections)
        {
            var cls = SnrClasses.Last(c => inj.NetworkSnr >= c.Snr);
            var line = plot.Add.VerticalLine(inj.GeocentGps - origin);
            line.Color = cls.Color.WithOpacity(.7);
            line.LineWidth = inj.NetworkSnr >= search.LoudSnr ? 2 : 1;
        }
        for (int k = 0; k < SnrClasses.Length; k++)
        {
            if (search.Injections.Count == 0) break;
            string label = k + 1 < SnrClasses.Length
                ? string.Create(CultureInfo.InvariantCulture, $"injection, network SNR {SnrClasses[k].Snr:G3}–{SnrClasses[k + 1].Snr:G3}")
                : string.Create(CultureInfo.InvariantCulture, $"injection, network SNR ≥ {SnrClasses[k].Snr:G3}");
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = label, LineColor = SnrClasses[k].Color, LineWidth = 2 });
        }
        if (double.IsFinite(search.Threshold))
        {
            var t = plot.Add.HorizontalLine(search.Threshold);
            t.Color = Colors.Green;
            t.LinePattern = LinePattern.Dashed;
            t.LineWidth = 1.5f;
            plot.Legend.ManualItems.Add(new LegendItem
            {
                LabelText = string.Create(CultureInfo.InvariantCulture, $"{InjectionRecovery.ThresholdPercentile}th percentile away from injections ({search.Threshold:G4})"),
                LineColor = Colors.Green, LineWidth = 1.5f, LinePattern = LinePattern.Dashed,
            });
        }
        plot.Legend.ManualItems.Insert(0, new LegendItem { LabelText = $"{search.Channel} at each window's end", LineColor = Colors.Black, LineWidth = 1 });
        // Headroom above the scores so the legend does not hide them.
        plot.Axes.AutoScale();
        var limits = plot.Axes.GetLimits();
        plot.Axes.SetLimitsY(limits.Bottom, limits.Top + 0.6 * (limits.Top - limits.Bottom));
        plot.Title(string.Create(CultureInfo.InvariantCulture,
            $"search scores with injections marked: {search.LoudAboveThreshold} of {search.Loud} with SNR ≥ {search.LoudSnr:G3} above threshold"));
        plot.XLabel(string.Create(CultureInfo.InvariantCulture, $"time since GPS {origin:F0} (s)"));
        plot.YLabel("score");
        plot.ShowLegend(Alignment.UpperRight);
        plot.SavePng(path, Width, Height);
    }

    /// <summary>Colours of the searches in the efficiency and ROC plots, in comparison order.</summary>
    private static readonly Color[] SearchColors = [Colors.DodgerBlue, Colors.Crimson, Colors.DarkGreen, Colors.DarkOrange, Colors.Purple, Colors.SaddleBrown];

    /// <summary>
    /// Detection efficiency against network SNR, one curve per search (each at its own threshold): a point per non-empty bin at the
    /// bin's mean SNR, with the 68 % Wilson interval as bars.
    /// </summary>
    public static void EfficiencyPlot(IReadOnlyList<(string Label, SearchSensitivity Sensitivity)> searches, string path)
    {
        var plot = new Plot();
        for (int s = 0; s < searches.Count; s++)
        {
            var (label, x) = searches[s];
            var bins = x.Efficiency.Where(b => b.Total > 0).ToList();
            if (bins.Count == 0) continue;
            double[] xs = bins.Select(b => b.MeanSnr).ToArray(), ys = bins.Select(b => b.Efficiency).ToArray();
            var color = SearchColors[s % SearchColors.Length];
            var line = plot.Add.Scatter(xs, ys);
            line.Color = color;
            line.LineWidth = 2;
            line.MarkerSize = 7;
            line.LegendText = string.Create(CultureInfo.InvariantCulture,
                $"{label}: threshold {x.Threshold:G4}, FAR {x.FarPerHour:G3}/h");
            // ScottPlot 5 takes the distances above the point before those below.
            var bars = new ScottPlot.Plottables.ErrorBar(xs, ys, null, null,
                bins.Select(b => b.WilsonHigh - b.Efficiency).ToArray(), bins.Select(b => b.Efficiency - b.WilsonLow).ToArray()) { Color = color };
            plot.Add.Plottable(bars);
        }
        var one = plot.Add.HorizontalLine(1);
        one.Color = Colors.Black.WithOpacity(.4);
        one.LinePattern = LinePattern.Dashed;
        one.LineWidth = 1;
        plot.Axes.AutoScaleX();
        plot.Axes.SetLimitsY(0, 1.3);
        plot.Title($"detection efficiency at each search's {InjectionRecovery.ThresholdPercentile}th-percentile threshold");
        plot.XLabel("optimal network SNR (mean of each bin: " + string.Join(", ", searches[0].Sensitivity.Efficiency.Select(b => b.Label)) + ")");
        plot.YLabel("found / injected (bars: 68 % Wilson)");
        plot.ShowLegend(Alignment.UpperLeft);
        plot.SavePng(path, Width, Height);
    }

    /// <summary>
    /// ROC: efficiency for injections with network SNR ≥ the floor against background events per hour (log axis), as the threshold
    /// sweeps each search's background scores; a large marker at each search's own threshold. Thresholds no background event passes
    /// (rate 0) have no place on the log axis and are left out.
    /// </summary>
    public static void RocPlot(IReadOnlyList<(string Label, SearchSensitivity Sensitivity)> searches, string path)
    {
        var plot = new Plot();
        for (int s = 0; s < searches.Count; s++)
        {
            var (label, x) = searches[s];
            var shown = x.Roc.Where(p => p.FarPerHour > 0 && double.IsFinite(p.Efficiency)).ToList();
            if (shown.Count == 0) continue;
            var color = SearchColors[s % SearchColors.Length];
            var line = plot.Add.Scatter(shown.Select(p => Math.Log10(p.FarPerHour)).ToArray(), shown.Select(p => p.Efficiency).ToArray());
            line.Color = color;
            line.LineWidth = 2;
            line.MarkerSize = 0;
            line.LegendText = string.Create(CultureInfo.InvariantCulture, $"{label} ({x.RocInjections} injections with SNR ≥ {x.RocMinSnr:G3})");
            if (x.FarPerHour > 0)
            {
                double efficiency = x.Roc.FirstOrDefault(p => p.Threshold == x.Threshold)?.Efficiency ?? double.NaN;
                var marker = plot.Add.Marker(Math.Log10(x.FarPerHour), efficiency);
                marker.Color = color;
                marker.Size = 12;
                marker.LegendText = string.Create(CultureInfo.InvariantCulture,
                    $"{label} at its {InjectionRecovery.ThresholdPercentile}th percentile: {x.FarPerHour:G3}/h, {efficiency:P0}");
            }
        }
        plot.Axes.Bottom.TickGenerator = LogTicks();
        plot.Grid.MajorLineColor = Colors.Black.WithOpacity(.15);
        plot.Axes.AutoScaleX();
        plot.Axes.SetLimitsY(0, 1.3);
        plot.Title(string.Create(CultureInfo.InvariantCulture,
            $"ROC: efficiency (network SNR ≥ {searches[0].Sensitivity.RocMinSnr:G3}) against false-alarm rate"));
        plot.XLabel("background events per hour (clusters of consecutive above-threshold windows)");
        plot.YLabel("found / injected");
        plot.ShowLegend(Alignment.UpperLeft);
        plot.SavePng(path, Width, Height);
    }
}
