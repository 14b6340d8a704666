using System.Globalization;
using System.Text;
using System.Text.Json;
using GwReprocess.Storage;

namespace GwReprocess.Analysis;

/// <summary>Writes the report of one or more runs: <c>report.md</c>, a self-contained <c>report.html</c>, <c>summary.json</c> and the PNG plots.</summary>
public static class ReportWriter
{
    /// <summary>The files written, relative to <paramref name="directory"/>.</summary>
    public static async Task<IReadOnlyList<string>> WriteAsync(IReadOnlyList<RunMetrics> runs, IReadOnlyList<RunSummary> summaries, string directory, CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(directory);
        var figures = new List<(string File, string Caption)>();
        for (int i = 0; i < runs.Count; i++)
        {
            string file = runs.Count == 1 ? "throughput.png" : $"throughput-{Slug(runs[i].Name)}.png";
            ReportPlots.ThroughputVsTime(runs[i], summaries[i].BinSeconds, Path.Combine(directory, file));
            figures.Add((file, $"Throughput of {runs[i].Name} since the synchronized start, all servers and each."));
        }
        ReportPlots.ScalingPlot(summaries, cost: false, Path.Combine(directory, "time-vs-servers.png"));
        figures.Add(("time-vs-servers.png", "Wall seconds per second of data against server count: median of the binned throughput with 25th–75th percentile bars."));
        if (summaries.Any(s => s.Cost is not null))
        {
            ReportPlots.ScalingPlot(summaries, cost: true, Path.Combine(directory, "cost-vs-servers.png"));
            figures.Add(("cost-vs-servers.png", $"Cost per second of data against server count ({summaries.First(s => s.Cost is not null).CostModel})."));
        }
        var latency = summaries.SelectMany(s => s.Latency).ToList();
        if (latency.Count > 0)
        {
            ReportPlots.LatencyBreakdown(summaries.First(s => s.Latency.Count > 0).Latency, Path.Combine(directory, "latency.png"));
            figures.Add(("latency.png", "Mean time per request in each model: compute and queue."));
        }

        string md = Markdown(runs, summaries, figures);
        await AtomicFile.WriteAllTextAsync(Path.Combine(directory, "report.md"), md, cancellationToken).ConfigureAwait(false);
        await AtomicFile.WriteAllTextAsync(Path.Combine(directory, "report.html"), Html(summaries, figures, directory), cancellationToken).ConfigureAwait(false);
        await AtomicFile.WriteAllTextAsync(Path.Combine(directory, "summary.json"), Json(summaries), cancellationToken).ConfigureAwait(false);
        return [.. figures.Select(f => f.File), "report.md", "report.html", "summary.json"];
    }

    /// <summary>The summaries as JSON, for scripts.</summary>
    public static string Json(IReadOnlyList<RunSummary> summaries) =>
        JsonSerializer.Serialize(new { runs = summaries }, new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower }) + "\n";

    private static string Markdown(IReadOnlyList<RunMetrics> runs, IReadOnlyList<RunSummary> summaries, List<(string File, string Caption)> figures)
    {
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append("# GwReprocess report\n\n");
        sb.Append(c, $"{summaries.Count} run(s), generated {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC. Throughput is seconds of data processed per wall-clock second (s'/s), ")
          .Append("from the synchronized start to the last client's end; binned figures are quartiles over full bins.\n\n");
        sb.Append("| run | servers | GPUs | jobs | data (s) | wall (s) | s'/s | binned s'/s (25 / 50 / 75 %) | bin (s) | server-side s'/s |\n");
        sb.Append("|---|---:|---:|---:|---:|---:|---:|---|---:|---:|\n");
        foreach (var s in summaries)
            sb.Append(c, $"| {s.Name} | {s.Servers} | {s.Gpus} | {s.Jobs} | {s.DataSeconds:F0} | {s.WallSeconds:F1} | {s.DataSecondsPerSecond:G4} | {s.BinnedThroughput.P25:G4} / {s.BinnedThroughput.Median:G4} / {s.BinnedThroughput.P75:G4} | {s.BinSeconds:G3} | {(s.ServerDataSecondsPerSecond is double v ? v.ToString("G4", c) : "—")} |\n");
        sb.Append('\n');
        foreach (var s in summaries)
        {
            if (s.Disagreement is double d)
            {
                sb.Append(c, $"- {s.Name}: the servers' counters give {s.ServerDataSecondsPerSecond:G4} s'/s (requests × B / r / wall time), the clients {s.DataSecondsPerSecond:G4} s'/s: ");
                if (d <= 0.05) sb.Append(c, $"they agree within {d * 100:F1} %.\n");
                else sb.Append(c, $"they differ by {d * 100:F1} % — check for failed or retried requests, or servers not scraped for the whole run.\n");
            }
            else
                sb.Append(c, $"- {s.Name}: no server metrics were scraped, so the clients' figure stands alone.\n");
        }
        if (summaries.Any(s => s.Cost is not null))
        {
            sb.Append("\n## Cost\n\n| run | cost model | per hour | per s of data | vCPU-hours per s of data | per year of data |\n|---|---|---:|---:|---:|---:|\n");
            foreach (var s in summaries.Where(s => s.Cost is not null))
                sb.Append(c, $"| {s.Name} | {s.CostModel} | {s.Cost!.PerHour:F4} | {s.Cost.PerDataSecond:E3} | {s.Cost.VcpuHoursPerDataSecond:E3} | {s.Cost.PerDataYear:F0} |\n");
        }
        var latency = summaries.Where(s => s.Latency.Count > 0).ToList();
        if (latency.Count > 0)
        {
            sb.Append("\n## Latency per request\n\n| run | model | requests | queue (ms) | compute (ms) |\n|---|---|---:|---:|---:|\n");
            foreach (var s in latency)
                foreach (var m in s.Latency)
                    sb.Append(c, $"| {s.Name} | {m.Model} | {m.Requests:F0} | {m.MeanQueueUs / 1000:F3} | {m.MeanComputeUs / 1000:F3} |\n");
        }
        sb.Append("\n## Figures\n\n");
        foreach (var (file, caption) in figures) sb.Append($"![{caption}]({file})\n\n*{caption}*\n\n");
        sb.Append("## Runs\n\n");
        foreach (var r in runs)
        {
            sb.Append($"- **{r.Name}** ({r.RunDirectory})");
            if (r.Workflow is { } w)
                sb.Append(c, $": {w.IfoTag} [{w.Data.Span.Start}, {w.Data.Span.End}), ensemble `{w.Inference.Ensemble}`, r = {w.Inference.Rate} Hz, B = {w.Inference.Batch}, {w.Inference.ServerCount} server(s) × {w.Inference.ClientsPerServer} clients, site profile `{w.Site.Name}`");
            sb.Append('\n');
        }
        return sb.ToString();
    }

    private static string Html(IReadOnlyList<RunSummary> summaries, List<(string File, string Caption)> figures, string directory)
    {
        var sb = new StringBuilder();
        sb.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>GwReprocess report</title>\n")
          .Append("<style>body{font-family:sans-serif;max-width:1000px;margin:2em auto;color:#222}table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:4px 8px;text-align:right}td:first-child,th:first-child{text-align:left}img{max-width:100%;border:1px solid #ddd}figcaption{font-style:italic;margin-bottom:2em}</style></head><body>\n")
          .Append("<h1>GwReprocess report</h1>\n<table><tr><th>run</th><th>servers</th><th>GPUs</th><th>jobs</th><th>data (s)</th><th>wall (s)</th><th>s'/s</th><th>median binned s'/s</th><th>server-side s'/s</th><th>cost per s of data</th></tr>\n");
        var c = CultureInfo.InvariantCulture;
        foreach (var s in summaries)
            sb.Append(c, $"<tr><td>{Escape(s.Name)}</td><td>{s.Servers}</td><td>{s.Gpus}</td><td>{s.Jobs}</td><td>{s.DataSeconds:F0}</td><td>{s.WallSeconds:F1}</td><td>{s.DataSecondsPerSecond:G4}</td><td>{s.BinnedThroughput.Median:G4}</td><td>{(s.ServerDataSecondsPerSecond is double v ? v.ToString("G4", c) : "—")}</td><td>{(s.Cost is { } cost ? cost.PerDataSecond.ToString("E3", c) : "—")}</td></tr>\n");
        sb.Append("</table>\n");
        foreach (var (file, caption) in figures)
        {
            // Embedded, so the report is one file that can be mailed or attached to a review.
            string data = Convert.ToBase64String(File.ReadAllBytes(Path.Combine(directory, file)));
            sb.Append($"<figure><img alt=\"{Escape(caption)}\" src=\"data:image/png;base64,{data}\"><figcaption>{Escape(caption)}</figcaption></figure>\n");
        }
        sb.Append("</body></html>\n");
        return sb.ToString();
    }

    private static string Escape(string s) => System.Net.WebUtility.HtmlEncode(s);

    private static string Slug(string name) => string.Concat(name.Select(ch => char.IsAsciiLetterOrDigit(ch) || ch is '-' or '_' ? ch : '-'));
}
