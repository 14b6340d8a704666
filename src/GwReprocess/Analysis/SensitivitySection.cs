using System.Globalization;
using System.Text;

namespace GwReprocess.Analysis;

/// <summary>The report's search-sensitivity section (false-alarm rate of the threshold, efficiency per network-SNR bin), as markdown and HTML from one set of tables.</summary>
internal static class SensitivitySection
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    /// <summary>The searches of each efficiency table: a run's comparison (all its searches over the common injections), else the run alone.</summary>
    public static List<(string Title, List<(string Label, SearchSensitivity Sensitivity)> Columns)> Groups(IReadOnlyList<RunSummary> summaries)
    {
        var groups = new List<(string, List<(string, SearchSensitivity)>)>();
        foreach (var s in summaries)
        {
            if (s.Comparison is { } cmp)
                groups.Add(($"{s.Name} compared on the same injections ({cmp.CommonInjections} scored by every search)",
                    cmp.Searches.Select(x => (x.Label, x.Sensitivity)).ToList()));
            else if (s.Sensitivity is { } x)
                groups.Add((s.Name, [(s.Name, x)]));
        }
        return groups;
    }

    public static string Markdown(IReadOnlyList<RunSummary> summaries)
    {
        var groups = Groups(summaries);
        if (groups.Count == 0) return "";
        var sb = new StringBuilder("\n## Search sensitivity: false-alarm rate and efficiency\n\n");
        var (header, rows) = RateTable(groups);
        AppendMarkdown(sb, header, rows);
        sb.Append('\n').Append(RateNote).Append("\n\n");
        foreach (var (title, columns) in WithInjections(groups))
        {
            sb.Append("**").Append(title).Append("**\n\n");
            var (h, r) = EfficiencyTable(columns);
            AppendMarkdown(sb, h, r);
            sb.Append('\n');
        }
        if (WithInjections(groups).Any()) sb.Append(EfficiencyNote(groups)).Append("\n\n");
        return sb.ToString();
    }

    public static string Html(IReadOnlyList<RunSummary> summaries)
    {
        var groups = Groups(summaries);
        if (groups.Count == 0) return "";
        var sb = new StringBuilder("<h2>Search sensitivity: false-alarm rate and efficiency</h2>\n");
        var (header, rows) = RateTable(groups);
        AppendHtml(sb, header, rows);
        sb.Append("<p>").Append(Escape(RateNote)).Append("</p>\n");
        foreach (var (title, columns) in WithInjections(groups))
        {
            sb.Append("<h3>").Append(Escape(title)).Append("</h3>\n");
            var (h, r) = EfficiencyTable(columns);
            AppendHtml(sb, h, r);
        }
        if (WithInjections(groups).Any()) sb.Append("<p>").Append(Escape(EfficiencyNote(groups))).Append("</p>\n");
        return sb.ToString();
    }

    /// <summary>Groups with scored injections: a run without an injection table has a false-alarm rate but no efficiency.</summary>
    private static IEnumerable<(string Title, List<(string Label, SearchSensitivity Sensitivity)> Columns)> WithInjections(
        List<(string Title, List<(string Label, SearchSensitivity Sensitivity)> Columns)> groups) =>
        groups.Where(g => g.Columns[0].Sensitivity.InjectionsScored > 0);

    private const string RateNote =
        "A background event is a cluster of consecutive injection-free windows scoring above the threshold (one cluster = one trigger; a gap or an " +
        "injection's excluded windows ends a cluster). FAR = events / background livetime, the livetime being the background windows × their stride 1/r. " +
        "The naive rate counts every above-threshold window as a trigger: per-window FAP × windows per hour.";

    private static string EfficiencyNote(List<(string Title, List<(string Label, SearchSensitivity Sensitivity)> Columns)> groups)
    {
        var x = WithInjections(groups).First().Columns[0].Sensitivity;
        return string.Create(C,
            $"Bins of optimal network SNR (lower edge inclusive, the last open): {string.Join(", ", x.Efficiency.Select(b => b.Label))}. Found: the injection's score " +
            $"(highest window containing t_c) is above the search's own {InjectionRecovery.ThresholdPercentile}th-percentile threshold. ± is the binomial standard error " +
            $"√(ε(1 − ε)/n), brackets the 68 % Wilson interval. Injections below SNR {SearchSensitivity.SnrEdges[0]:G3} are in no bin. ROC figure: efficiency of the " +
            $"injections with network SNR ≥ {x.RocMinSnr:G3} against FAR as the threshold sweeps the top {SearchSensitivity.RocBackgroundFraction:P0} of the background scores.");
    }

    private static (string[] Header, List<string[]> Rows) RateTable(List<(string Title, List<(string Label, SearchSensitivity Sensitivity)> Columns)> groups)
    {
        string[] header = ["search", "threshold", "background windows", "livetime (h)", "windows above", "events (clusters)", "FAR (per hour)",
            "per-window FAP", "windows per hour", "naive FAP × windows per hour"];
        var rows = new List<string[]>();
        var seen = new HashSet<string>();
        foreach (var (_, columns) in groups)
            foreach (var (label, x) in columns)
                if (seen.Add(label))
                    rows.Add([label, F(x.Threshold, "G6"), F(x.BackgroundWindows), F(x.LivetimeHours, "G4"), F(x.WindowsAboveThreshold), F(x.BackgroundEvents),
                        F(x.FarPerHour, "G4"), F(x.NaiveFap, "G3"), F(x.WindowsPerHour, "G6"), F(x.NaiveFarPerHour, "G4")]);
        return (header, rows);
    }

    /// <summary>One row per SNR bin, two columns per search: found / total, and efficiency.</summary>
    public static (string[] Header, List<string[]> Rows) EfficiencyTable(IReadOnlyList<(string Label, SearchSensitivity Sensitivity)> columns)
    {
        var header = new List<string> { "network SNR" };
        foreach (var (label, _) in columns) header.AddRange([$"{label}: found / total", $"{label}: efficiency ± σ [68 %]"]);
        var rows = new List<string[]>();
        int bins = columns[0].Sensitivity.Efficiency.Count;
        for (int b = 0; b < bins; b++)
        {
            var row = new List<string> { columns[0].Sensitivity.Efficiency[b].Label };
            foreach (var (_, x) in columns)
            {
                var bin = x.Efficiency[b];
                row.Add($"{bin.Found} / {bin.Total}");
                row.Add(bin.Total == 0 ? "—" : string.Create(C, $"{bin.Efficiency:F3} ± {bin.Sigma:F3} [{bin.WilsonLow:F3}, {bin.WilsonHigh:F3}]"));
            }
            rows.Add([.. row]);
        }
        return (header.ToArray(), rows);
    }

    private static void AppendMarkdown(StringBuilder sb, string[] header, List<string[]> rows)
    {
        sb.Append("| ").Append(string.Join(" | ", header)).Append(" |\n|---").Append(string.Concat(Enumerable.Repeat("|---:", header.Length - 1))).Append("|\n");
        foreach (var r in rows) sb.Append("| ").Append(string.Join(" | ", r)).Append(" |\n");
    }

    private static void AppendHtml(StringBuilder sb, string[] header, List<string[]> rows)
    {
        sb.Append("<table><tr>").Append(string.Concat(header.Select(h => $"<th>{Escape(h)}</th>"))).Append("</tr>\n");
        foreach (var r in rows) sb.Append("<tr>").Append(string.Concat(r.Select(v => $"<td>{Escape(v)}</td>"))).Append("</tr>\n");
        sb.Append("</table>\n");
    }

    private static string F(double v, string format) => double.IsFinite(v) ? v.ToString(format, C) : "—";

    private static string F(int v) => v.ToString(C);

    private static string Escape(string s) => System.Net.WebUtility.HtmlEncode(s);
}
