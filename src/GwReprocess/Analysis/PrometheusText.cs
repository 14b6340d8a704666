using System.Globalization;
using System.Text;

namespace GwReprocess.Analysis;

/// <summary>One sample of a Prometheus text exposition: metric name, labels, value.</summary>
public sealed record PrometheusSample(string Name, IReadOnlyDictionary<string, string> Labels, double Value)
{
    public string Label(string name) => Labels.TryGetValue(name, out var v) ? v : "";
}

/// <summary>Parses the Prometheus text exposition format (what Triton and <c>gwrepro serve</c> answer on /metrics).</summary>
public static class PrometheusText
{
    /// <summary>Every sample; comment lines (<c># HELP</c>, <c># TYPE</c>) are skipped; a malformed line is an error naming the line.</summary>
    public static IReadOnlyList<PrometheusSample> Parse(string text, string source = "metrics")
    {
        var samples = new List<PrometheusSample>();
        int lineNumber = 0;
        foreach (var raw in text.Split('\n'))
        {
            lineNumber++;
            var line = raw.TrimEnd('\r').Trim();
            if (line.Length == 0 || line[0] == '#') continue;
            int i = 0;
            while (i < line.Length && (char.IsAsciiLetterOrDigit(line[i]) || line[i] is '_' or ':')) i++;
            if (i == 0) throw BadInputException.AtLine(source, lineNumber, "expected a metric name");
            string name = line[..i];
            var labels = new Dictionary<string, string>(StringComparer.Ordinal);
            if (i < line.Length && line[i] == '{')
            {
                i++;
                while (true)
                {
                    while (i < line.Length && line[i] is ' ' or ',') i++;
                    if (i < line.Length && line[i] == '}') { i++; break; }
                    int k = i;
                    while (i < line.Length && line[i] != '=') i++;
                    if (i >= line.Length - 1 || line[i + 1] != '"') throw BadInputException.AtLine(source, lineNumber, "malformed label");
                    string key = line[k..i].Trim();
                    i += 2;
                    var value = new StringBuilder();
                    while (i < line.Length && line[i] != '"')
                    {
                        if (line[i] == '\\' && i + 1 < line.Length)
                        {
                            value.Append(line[i + 1] switch { 'n' => '\n', var c => c });
                            i += 2;
                            continue;
                        }
                        value.Append(line[i++]);
                    }
                    if (i >= line.Length) throw BadInputException.AtLine(source, lineNumber, "unterminated label value");
                    i++;
                    labels[key] = value.ToString();
                }
            }
            var rest = line[i..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (rest.Length == 0) throw BadInputException.AtLine(source, lineNumber, $"metric {name} has no value");
            double v = rest[0] switch
            {
                "+Inf" => double.PositiveInfinity,
                "-Inf" => double.NegativeInfinity,
                "NaN" => double.NaN,
                var s => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) ? d
                    : throw BadInputException.AtLine(source, lineNumber, $"metric {name} value '{s}' is not a number"),
            };
            samples.Add(new PrometheusSample(name, labels, v));
        }
        return samples;
    }
}
