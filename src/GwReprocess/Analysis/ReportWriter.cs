using System.Globalization;
using System.Text;
using System.Text.Json;
using GwReprocess.IO;

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
        for (int i = 0; i < summaries.Count; i++)
        {
            string suffix = runs.Count == 1 ? "" : "-" + Slug(runs[i].Name);
            if (summaries[i].Cleaning is { } cleaning)
            {
                string file = $"asd-ratio{suffix}.png";
                ReportPlots.AsdRatioPlot(cleaning, Path.Combine(directory, file));
                figures.Add((file, string.Create(CultureInfo.InvariantCulture,
                    $"{runs[i].Name}: ASD of the cleaned strain over the ASD of the raw strain (resampled to {cleaning.SampleRate:G5} Hz), GPS {cleaning.FrameGps:F0} + {cleaning.FrameSeconds:G6} s, per detector; dashed: no change.")));
            }
            if (summaries[i].Search is { } search)
            {
                string file = $"scores{suffix}.png";
                ReportPlots.ScoresPlot(search, Path.Combine(directory, file));
                figures.Add((file, $"{runs[i].Name}: {search.Channel} against time; vertical lines: injections coloured by network SNR; dashed: the {InjectionRecovery.ThresholdPercentile}th percentile of the scores away from injections."));
            }
            AddSensitivityFigures(summaries[i], suffix, directory, figures);
        }
        var latency = summaries.SelectMany(s => s.Latency).ToList();
        if (latency.Count > 0)
        {
            int k = summaries.Select((s, i) => (s, i)).First(x => x.s.Latency.Count > 0).i;
            string? ensemble = runs[k].Workflow?.Inference.Ensemble;
            ReportPlots.LatencyBreakdown(summaries[k].Latency, Path.Combine(directory, "latency.png"), ensemble);
            figures.Add(("latency.png", $"{runs[k].Name}: mean time per request in each step model that served requests, compute and queue{(ensemble is null ? "" : $" (the ensemble {ensemble} spans its steps: see the latency table)")}."));
        }

        string md = Markdown(runs, summaries, figures);
        await AtomicFile.WriteAllTextAsync(Path.Combine(directory, "report.md"), md, cancellationToken).ConfigureAwait(false);
        await AtomicFile.WriteAllTextAsync(Path.Combine(directory, "report.html"), Html(summaries, figures, directory), cancellationToken).ConfigureAwait(false);
        await AtomicFile.WriteAllTextAsync(Path.Combine(directory, "summary.json"), Json(summaries), cancellationToken).ConfigureAwait(false);
        return [.. figures.Select(f => f.File), "report.md", "report.html", "summary.json"];
    }

    /// <summary>
    /// <c>efficiency{suffix}.png</c> and <c>roc{suffix}.png</c> of a run with injections: its search alone, or every search of its
    /// comparison in both.
    /// </summary>
    private static void AddSensitivityFigures(RunSummary summary, string suffix, string directory, List<(string File, string Caption)> figures)
    {
        List<(string Label, SearchSensitivity Sensitivity)> searches = summary.Comparison is { } cmp
            ? cmp.Searches.Select(x => (x.Label, x.Sensitivity)).ToList()
            : summary.Sensitivity is { } x ? [(summary.Name, x)] : [];
        if (searches.Count == 0 || searches[0].Sensitivity.InjectionsScored == 0) return;
        string names = string.Join(" and ", searches.Select(s => s.Label));
        string common = summary.Comparison is { } c ? $" over the {c.CommonInjections} injections every search scored" : "";
        string efficiency = $"efficiency{suffix}.png", roc = $"roc{suffix}.png";
        ReportPlots.EfficiencyPlot(searches, Path.Combine(directory, efficiency));
        figures.Add((efficiency, $"Detection efficiency of {names} against optimal network SNR{common}, each at its own {InjectionRecovery.ThresholdPercentile}th-percentile threshold; bars: 68 % Wilson intervals."));
        ReportPlots.RocPlot(searches, Path.Combine(directory, roc));
        figures.Add((roc, string.Create(CultureInfo.InvariantCulture,
            $"ROC of {names}{common}: efficiency for network SNR ≥ {searches[0].Sensitivity.RocMinSnr:G3} against background events (clusters of consecutive above-threshold windows) per hour; markers: each search's {InjectionRecovery.ThresholdPercentile}th-percentile threshold.")));
    }

    /// <summary>The summaries as JSON, for scripts.</summary>
    public static string Json(IReadOnlyList<RunSummary> summaries) =>
        JsonSerializer.Serialize(new { runs = summaries }, new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals }) + "\n";

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
        sb.Append("\n## Throughput check\n\n");
        foreach (var s in summaries) sb.Append("- ").Append(ThroughputCheck(s)).Append('\n');
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
            {
                string? ensemble = runs.FirstOrDefault(r => r.Name == s.Name)?.Workflow?.Inference.Ensemble;
                foreach (var m in s.Latency.Where(m => m.Requests > 0))
                    sb.Append(c, $"| {s.Name} | {m.Model}{(m.Model == ensemble ? " (ensemble: spans its steps)" : "")} | {m.Requests:F0} | {m.MeanQueueUs / 1000:F3} | {m.MeanComputeUs / 1000:F3} |\n");
            }
        }
        sb.Append(CoverageSection(summaries));
        sb.Append(CleaningSection(summaries));
        sb.Append(SearchSection(summaries));
        sb.Append(SensitivitySection.Markdown(summaries));
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

    /// <summary>The s'/s cross-check of one run in words: the clients' data seconds over wall time against the servers' inferences / Δt / r.</summary>
    public static string ThroughputCheck(RunSummary s)
    {
        var c = CultureInfo.InvariantCulture;
        string clients = string.Create(c, $"data seconds / wall time from the synchronized start = {s.DataSeconds:F0} s / {s.WallSeconds:F1} s = {s.DataSecondsPerSecond:G4} s'/s");
        if (s.Disagreement is not double d || s.ServerInferences is not double n || s.InferenceRate is not double r)
            return $"{s.Name}: {clients}; no server metrics were scraped, so the check against inferences / Δt / r cannot be made and the clients' figure stands alone.";
        string servers = string.Create(c, $"inferences / Δt / r = {n:F0} / {s.WallSeconds:F1} s / {r:G4} Hz = {s.ServerDataSecondsPerSecond:G4} s'/s");
        // The servers score the jobs' padding too: their windows are checked against the windows the clients had answered, not their data seconds.
        string answered = s.ClientInferences is double m && s.ClientResponses is double q && m > 0
            ? string.Create(c, $"; the servers scored {n:F0} windows, the clients had {m:F0} answered ({q:F0} responses × B = {m / q:G4}; both count the jobs' padding, the data seconds do not)")
            : "";
        string what = answered.Length > 0 ? "the window counts" : "they";
        return d <= 0.05
            ? string.Create(c, $"{s.Name}: {clients}; {servers}{answered}; {what} agree within 5 % (difference {d * 100:F1} %).")
            : string.Create(c, $"{s.Name}: {clients}; {servers}{answered}; {what} do NOT agree within 5 % (difference {d * 100:F1} %) — check for failed or retried requests, or servers not scraped for the whole run.");
    }

    private static string CoverageSection(IReadOnlyList<RunSummary> summaries)
    {
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder($"\n## {CoverageTitle(summaries)}\n\n");
        foreach (var (header, rows, note) in CoverageTables(summaries))
        {
            sb.Append("| ").AppendJoin(" | ", header).Append(" |\n|---|---|").AppendJoin("", header.Skip(2).Select(h => h is "cache" or "segment file" ? "---|" : "---:|")).Append('\n');
            foreach (var row in rows) sb.Append("| ").AppendJoin(" | ", row).Append(" |\n");
            sb.Append('\n').Append(note).Append("\n\n");
        }
        foreach (var s in summaries.Where(s => s.Coverage is not null))
            foreach (var d in s.Coverage!.Where(d => d.IncompleteJobs.Count > 0))
                sb.Append(c, $"- {s.Name} {d.Ifo}: jobs not fully committed: {string.Join(", ", d.IncompleteJobs)}.\n");
        foreach (var s in summaries.Where(s => s.CoverageNote is not null))
            sb.Append(c, $"- {s.Name}: {s.CoverageNote}.\n");
        return sb.ToString();
    }

    /// <summary>What the coverage section is about: a strain-only run (no witnesses) cleans nothing, it searches.</summary>
    private static string CoverageTitle(IReadOnlyList<RunSummary> summaries)
    {
        var coverage = summaries.SelectMany(s => s.Coverage ?? []).ToList();
        bool searched = coverage.Any(d => d.StrainOnly), cleaned = coverage.Count == 0 || coverage.Any(d => !d.StrainOnly);
        return searched && cleaned ? "Coverage: what was cleaned, or searched (strain-only)" : searched ? "Coverage: what was searched" : "Coverage: what was cleaned";
    }

    /// <summary>The coverage tables of the report (Markdown and HTML alike): one for the runs that clean, one for the strain-only runs, each with the note under it.</summary>
    private static List<(string[] Header, List<string[]> Rows, string Note)> CoverageTables(IReadOnlyList<RunSummary> summaries)
    {
        var c = CultureInfo.InvariantCulture;
        var tables = new List<(string[], List<string[]>, string)>();
        var rows = summaries.Where(s => s.Coverage is not null).SelectMany(s => s.Coverage!.Select(d => (s.Name, d))).ToList();
        const string Analyzable = "Analyzable: science segments (vetoes removed) ∩ the workflow's span ∩ frame coverage.";
        var cleaning = rows.Where(x => !x.d.StrainOnly).Select(x => new[]
        {
            x.Name, x.d.Ifo, x.d.AnalyzableSeconds.ToString("F0", c), x.d.CleanedSeconds.ToString("F0", c), x.d.SegmentEdgeSeconds.ToString("F0", c),
            x.d.FailedJobSeconds.ToString("F0", c), x.d.CleanedFrames.ToString(c), x.d.Cache, x.d.SegmentFile,
        }).ToList();
        if (cleaning.Count > 0)
            tables.Add((["run", "detector", "analyzable (s)", "cleaned (s)", "not cleaned: segment edges (s)", "not cleaned: failed or missing jobs (s)", "cleaned frames", "cache", "segment file"], cleaning,
                $"{Analyzable} Segment edges: the padding a job reads at each edge of a science segment but cannot clean, and segments too short for a job. Paths are relative to the run's outputs."));
        var searching = rows.Where(x => x.d.StrainOnly).Select(x => new[]
        {
            x.Name, x.d.Ifo, x.d.AnalyzableSeconds.ToString("F0", c), x.d.SearchedSeconds.ToString("F0", c), x.d.SegmentEdgeSeconds.ToString("F0", c),
            x.d.FailedJobSeconds.ToString("F0", c), x.d.ScoreFiles.ToString(c), OutputCatalog.ScoresCacheName,
        }).ToList();
        if (searching.Count > 0)
            tables.Add((["run", "detector", "analyzable (s)", "searched (s)", "not searched: segment edges (s)", "not searched: failed or missing jobs (s)", "score files", "cache"], searching,
                $"Strain-only (no witnesses): the jobs clean nothing and write scores only; searched is the time the committed score files cover. {Analyzable} Segment edges: the padding a job reads at each edge of a science segment but scores no window of, and segments too short for a job. Paths are relative to the run's outputs."));
        return tables;
    }

    private static string CleaningSection(IReadOnlyList<RunSummary> summaries)
    {
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder("\n## Cleaning: ASD ratio cleaned / raw\n\n");
        var with = summaries.Where(s => s.Cleaning is not null).ToList();
        if (with.Count > 0)
        {
            sb.Append("| run | detector | frame (GPS + s) | Welch (s) | ratio at 60 Hz | median ratio 20–500 Hz | largest ratio 20–500 Hz | 20–500 Hz bins > 1.1 |\n|---|---|---|---:|---:|---:|---:|---:|\n");
            foreach (var s in with)
                foreach (var d in s.Cleaning!.Detectors)
                    sb.Append(c, $"| {s.Name} | {d.Ifo} | {s.Cleaning.FrameGps:F0} + {s.Cleaning.FrameSeconds:G6} | {s.Cleaning.FftSeconds:G3} | {d.RatioAt60Hz:G3} | {d.MedianRatio20To500Hz:G4} | {d.MaxRatio20To500Hz:G3} | {d.FractionAbove110Percent20To500Hz:P1} |\n");
            sb.Append("\nBelow 1 the cleaning removed noise; above 1 it added some. The median over 20–500 Hz can sit near 1 while a part of the band is raised, so the table also gives the largest ratio and the share of 20–500 Hz bins where the cleaned ASD exceeds the raw by more than 10 %.\n\n");
            var featured = WithFeatures(summaries);
            if (featured.Count > 0)
            {
                sb.Append("| run | detector | line or sideband (Hz) | ASD ratio cleaned / raw |\n|---|---|---|---:|\n");
                foreach (var (s, d) in featured)
                    foreach (var f in d.Features)
                        sb.Append(c, $"| {s.Name} | {d.Ifo} | {f.Kind} {f.Hz:G6} | {f.Ratio:G3} |\n");
                sb.Append("\n| run | detector | 1 Hz bands in 20–50 and 80–500 Hz, >2 Hz from every line and sideband | outside ±10 % | furthest from 1 |\n|---|---|---:|---:|---:|\n");
                foreach (var (s, d) in featured)
                    sb.Append(c, $"| {s.Name} | {d.Ifo} | {d.BroadbandBands} | {d.BroadbandOutside10Percent} | {d.BroadbandWorst:G4} |\n");
                sb.Append("\nLines and sidebands are the simulation's own (frames/truth.json): the mains harmonics and the bilinear couplings' 60 Hz ± modulation sidebands.\n\n");
            }
        }
        foreach (var s in summaries.Where(s => s.CleaningNote is not null))
            sb.Append(c, $"- {s.Name}: {(s.Cleaning is null ? "no ASD-ratio plot: " : "")}{s.CleaningNote}.\n");
        return sb.ToString();
    }

    /// <summary>Each compared detector that has known lines and sidebands (a simulated run), with its run: the rows of both reports' feature tables.</summary>
    private static List<(RunSummary Run, AsdRatio Detector)> WithFeatures(IReadOnlyList<RunSummary> summaries) =>
        summaries.Where(s => s.Cleaning is not null).SelectMany(s => s.Cleaning!.Detectors.Select(d => (s, d))).Where(x => x.d.Features.Count > 0).ToList();

    private static string SearchSection(IReadOnlyList<RunSummary> summaries)
    {
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder("\n## Search: scores and injections\n\n");
        var with = summaries.Where(s => s.Search is not null).ToList();
        if (with.Count > 0)
        {
            sb.Append(c, $"| run | channel | scores | window (s) | injections in span | {InjectionRecovery.ThresholdPercentile}th percentile away from injections | SNR ≥ 12 scored | of which above it |\n|---|---|---:|---:|---:|---:|---:|---:|\n");
            foreach (var s in with)
            {
                var x = s.Search!;
                sb.Append(c, $"| {s.Name} | {x.Channel} | {x.Scores} | {x.WindowSeconds:G4} | {x.Injections.Count} | {x.Threshold:G4} ({x.BackgroundScores} scores) | {x.Loud} | {x.LoudAboveThreshold} |\n");
            }
            sb.Append(c, $"\nA window is away from injections when it overlaps no injection's [t_c − τ(20 Hz) − 1 s, t_c + {InjectionRecovery.AfterSeconds:G3} s] (τ: Newtonian time to coalescence from 20 Hz); an injection's score is the highest of the windows containing t_c; SNR is the optimal network SNR of the injection table.\n\n");
        }
        foreach (var s in summaries.Where(s => s.SearchNote is not null))
            sb.Append(c, $"- {s.Name}: {(s.Search is null ? "no scores plot: " : "")}{s.SearchNote}.\n");
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
        sb.Append("</table>\n<h2>Throughput check</h2>\n<ul>\n");
        foreach (var s in summaries) sb.Append("<li>").Append(Escape(ThroughputCheck(s))).Append("</li>\n");
        sb.Append("</ul>\n");
        if (summaries.Any(s => s.Coverage is not null || s.CoverageNote is not null))
        {
            sb.Append("<h2>").Append(Escape(CoverageTitle(summaries))).Append("</h2>\n");
            foreach (var (header, rows, note) in CoverageTables(summaries))
            {
                sb.Append("<table><tr>").AppendJoin("", header.Select(h => $"<th>{Escape(h)}</th>")).Append("</tr>\n");
                foreach (var row in rows) sb.Append("<tr>").AppendJoin("", row.Select(v => $"<td>{Escape(v)}</td>")).Append("</tr>\n");
                sb.Append("</table>\n<p>").Append(Escape(note)).Append("</p>\n");
            }
            foreach (var s in summaries.Where(s => s.CoverageNote is not null))
                sb.Append("<p>").Append(Escape($"{s.Name}: {s.CoverageNote}.")).Append("</p>\n");
        }
        if (summaries.Any(s => s.Cleaning is not null || s.CleaningNote is not null))
        {
            sb.Append("<h2>Cleaning: ASD ratio cleaned / raw</h2>\n");
            if (summaries.Any(s => s.Cleaning is not null))
            {
                sb.Append("<table><tr><th>run</th><th>detector</th><th>frame (GPS + s)</th><th>Welch (s)</th><th>ratio at 60 Hz</th><th>median ratio 20–500 Hz</th><th>largest ratio 20–500 Hz</th><th>20–500 Hz bins &gt; 1.1</th></tr>\n");
                foreach (var s in summaries.Where(s => s.Cleaning is not null))
                    foreach (var d in s.Cleaning!.Detectors)
                        sb.Append(c, $"<tr><td>{Escape(s.Name)}</td><td>{d.Ifo}</td><td>{s.Cleaning.FrameGps:F0} + {s.Cleaning.FrameSeconds:G6}</td><td>{s.Cleaning.FftSeconds:G3}</td><td>{d.RatioAt60Hz:G3}</td><td>{d.MedianRatio20To500Hz:G4}</td><td>{d.MaxRatio20To500Hz:G3}</td><td>{d.FractionAbove110Percent20To500Hz:P1}</td></tr>\n");
                sb.Append("</table>\n");
                var featured = WithFeatures(summaries);
                if (featured.Count > 0)
                {
                    sb.Append("<table><tr><th>run</th><th>detector</th><th>line or sideband (Hz)</th><th>ASD ratio cleaned / raw</th></tr>\n");
                    foreach (var (s, d) in featured)
                        foreach (var f in d.Features)
                            sb.Append(c, $"<tr><td>{Escape(s.Name)}</td><td>{d.Ifo}</td><td>{f.Kind} {f.Hz:G6}</td><td>{f.Ratio:G3}</td></tr>\n");
                    sb.Append("</table>\n<table><tr><th>run</th><th>detector</th><th>1 Hz bands in 20–50 and 80–500 Hz, &gt;2 Hz from every line and sideband</th><th>outside ±10 %</th><th>furthest from 1</th></tr>\n");
                    foreach (var (s, d) in featured)
                        sb.Append(c, $"<tr><td>{Escape(s.Name)}</td><td>{d.Ifo}</td><td>{d.BroadbandBands}</td><td>{d.BroadbandOutside10Percent}</td><td>{d.BroadbandWorst:G4}</td></tr>\n");
                    sb.Append("</table>\n");
                }
            }
            foreach (var s in summaries.Where(s => s.CleaningNote is not null))
                sb.Append("<p>").Append(Escape($"{s.Name}: {(s.Cleaning is null ? "no ASD-ratio plot: " : "")}{s.CleaningNote}.")).Append("</p>\n");
        }
        if (summaries.Any(s => s.Search is not null || s.SearchNote is not null))
        {
            sb.Append("<h2>Search: scores and injections</h2>\n");
            if (summaries.Any(s => s.Search is not null))
            {
                sb.Append(c, $"<table><tr><th>run</th><th>channel</th><th>scores</th><th>window (s)</th><th>injections in span</th><th>{InjectionRecovery.ThresholdPercentile}th percentile away from injections</th><th>SNR ≥ 12 scored</th><th>of which above it</th></tr>\n");
                foreach (var s in summaries.Where(s => s.Search is not null))
                {
                    var x = s.Search!;
                    sb.Append(c, $"<tr><td>{Escape(s.Name)}</td><td>{Escape(x.Channel)}</td><td>{x.Scores}</td><td>{x.WindowSeconds:G4}</td><td>{x.Injections.Count}</td><td>{x.Threshold:G4} ({x.BackgroundScores} scores)</td><td>{x.Loud}</td><td>{x.LoudAboveThreshold}</td></tr>\n");
                }
                sb.Append("</table>\n");
            }
            foreach (var s in summaries.Where(s => s.SearchNote is not null))
                sb.Append("<p>").Append(Escape($"{s.Name}: {(s.Search is null ? "no scores plot: " : "")}{s.SearchNote}.")).Append("</p>\n");
        }
        sb.Append(SensitivitySection.Html(summaries));
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
