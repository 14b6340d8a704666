using System.Globalization;
using GwReprocess.IO;
using GwReprocess.Workflow;

namespace GwReprocess.Analysis;

/// <summary>
/// Several searches over the same injections (typically the template bank and BBHnet on one span), each at its own
/// <see cref="InjectionRecovery.ThresholdPercentile"/>th-percentile threshold; the first is the reported run.
/// </summary>
/// <param name="CommonInjections">Injections that every search scored: the efficiency bins and ROCs of all searches count these.</param>
/// <param name="Searches">The reported run first, then each compared one in the order given.</param>
public sealed record SearchComparison(int CommonInjections, IReadOnlyList<ComparedSearch> Searches)
{
    /// <summary>
    /// Reads each <paramref name="specs"/> entry's scores against the reported run's injection table and compares. An entry is
    /// <c>LOCATION[=label]</c>: a run directory (its <c>workflow.toml</c>'s <c>[outputs] uri</c>, label default the run's name) or an
    /// outputs location itself (a directory or bucket URI holding <c>scores/</c>, label default its last path segment).
    /// </summary>
    /// <exception cref="BadInputException">The reported run has no scores or no injection table, an entry has no score files, or its scored span does not overlap the reported run's.</exception>
    public static async Task<SearchComparison> ComputeAsync(string label, string outputs, InjectionRecovery? primary, IReadOnlyList<string> specs,
        CancellationToken cancellationToken)
    {
        if (primary is null) throw new BadInputException($"--compare: {label} has no scores to compare");
        if (primary.InjectionTable is null) throw new BadInputException($"--compare: {label} has no injection table (--injections, or the simulated frames directory's injections.csv)");
        var searches = new List<(string Label, string Outputs, InjectionRecovery Search)> { (label, outputs, primary) };
        foreach (string spec in specs)
        {
            var (location, runDirectory, given, fallback) = Parse(spec);
            using var other = RunOutputs.Open(location, runDirectory);
            var (search, note) = await InjectionRecovery.ComputeAsync(other, null, runDirectory, primary.InjectionTable, primary.LoudSnr, cancellationToken).ConfigureAwait(false);
            if (search is null) throw new BadInputException($"--compare {spec}: {note}");
            if (!(Math.Max(search.SpanStart, primary.SpanStart) < Math.Min(search.SpanEnd, primary.SpanEnd)))
                throw new BadInputException(string.Create(CultureInfo.InvariantCulture,
                    $"--compare {spec}: its scored span [{search.SpanStart:F2}, {search.SpanEnd:F2}) does not overlap {label}'s [{primary.SpanStart:F2}, {primary.SpanEnd:F2})"));
            string name = given ?? fallback;
            // Labels head the table's columns: a repeated one gets its position so the columns stay apart.
            if (searches.Any(s => s.Label == name)) name = $"{name} #{searches.Count + 1}";
            searches.Add((name, other.UriOf(""), search));
        }

        // Both tables count the same injections: those every search has a window over (a search with a gap misses none of the others').
        var common = new HashSet<double>();
        foreach (var j in primary.Injections) if (j.MaxScore is not null) common.Add(j.GeocentGps);
        foreach (var (_, _, s) in searches.Skip(1))
        {
            var scored = new HashSet<double>();
            foreach (var j in s.Injections) if (j.MaxScore is not null) scored.Add(j.GeocentGps);
            common.IntersectWith(scored);
        }
        var result = new List<ComparedSearch>(searches.Count);
        foreach (var (name, where, s) in searches)
        {
            var subset = s.Injections.Where(j => common.Contains(j.GeocentGps)).ToList();
            result.Add(new ComparedSearch(name, where, s.Channel, s.SpanStart, s.SpanEnd, SearchSensitivity.Compute(s, subset), s));
        }
        return new SearchComparison(common.Count, result);
    }

    /// <summary>Splits <c>LOCATION[=label]</c> and resolves a run directory to its outputs.</summary>
    private static (string Location, string RunDirectory, string? Label, string Fallback) Parse(string spec)
    {
        string text = spec;
        string? label = null;
        int eq = spec.LastIndexOf('=');
        // A label never holds '/', so "s3://b/p?x=y/z" stays whole, and an existing path named "a=b" is not split.
        if (eq > 0 && spec.IndexOf('/', eq) < 0 && !Directory.Exists(spec))
        {
            text = spec[..eq];
            label = spec[(eq + 1)..].Trim();
            if (label.Length == 0) throw new BadInputException($"--compare {spec}: empty label after '='");
        }
        string workflowPath = Path.Combine(text, "workflow.toml");
        if (!Location.Parse(text).IsUrl && File.Exists(workflowPath))
        {
            var workflow = WorkflowConfig.Load(workflowPath);
            return (workflow.Outputs.Uri, Path.GetFullPath(text), label, workflow.Name);
        }
        string trimmed = text.TrimEnd('/');
        string fallback = trimmed[(trimmed.LastIndexOf('/') + 1)..];
        return (text, Environment.CurrentDirectory, label, fallback.Length > 0 ? fallback : text);
    }
}
