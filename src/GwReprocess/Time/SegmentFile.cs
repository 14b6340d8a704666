using System.Globalization;
using System.Text;
using System.Text.Json;
using GwReprocess.IO;

namespace GwReprocess.Time;

/// <summary>Reads and writes segment files: plain two-column, segwizard and DQSegDB JSON.</summary>
/// <remarks>The format is detected from the content on read; errors name the file and line.</remarks>
public static class SegmentFile
{
    /// <summary>Reads the segments of a file; for DQSegDB JSON, the <c>active</c> list.</summary>
    public static SegmentList Read(string path) => ReadFlag(path).Active;

    /// <summary>Reads a file as a flag; for text formats, known equals active.</summary>
    public static DataQualityFlag ReadFlag(string path)
    {
        return ParseFlag(InputFile.ReadAllText(path, "segment file"), path);
    }

    /// <summary>Parses segment text; <paramref name="source"/> names it in errors.</summary>
    public static DataQualityFlag ParseFlag(string text, string source)
    {
        if (text.AsSpan().TrimStart().StartsWith("{")) return ParseJson(text, source);
        var active = ParseText(text, source);
        return new DataQualityFlag(Path.GetFileNameWithoutExtension(source), active, active);
    }

    /// <summary>Detects the layout of segment text.</summary>
    public static SegmentFileFormat Detect(string text)
    {
        if (text.AsSpan().TrimStart().StartsWith("{")) return SegmentFileFormat.Json;
        foreach (var raw in text.Split('\n'))
        {
            var line = StripComment(raw);
            if (line.Length == 0) continue;
            return Columns(line).Length == 4 ? SegmentFileFormat.Segwizard : SegmentFileFormat.Plain;
        }
        return SegmentFileFormat.Plain;
    }

    private static SegmentList ParseText(string text, string source)
    {
        var segments = new List<Segment>();
        int lineNumber = 0;
        int? columns = null;
        foreach (var raw in text.Split('\n'))
        {
            lineNumber++;
            var line = StripComment(raw);
            if (line.Length == 0) continue;
            var cols = Columns(line);
            if (cols.Length != 2 && cols.Length != 4)
                throw BadInputException.AtLine(source, lineNumber,
                    $"expected 'start end' or 'index start end duration', found {cols.Length} column(s)");
            if (columns is int c && c != cols.Length)
                throw BadInputException.AtLine(source, lineNumber, $"{cols.Length} columns where earlier lines have {c}");
            columns = cols.Length;
            int first = cols.Length == 4 ? 1 : 0;
            var start = ParseTime(cols[first], source, lineNumber, "start");
            var end = ParseTime(cols[first + 1], source, lineNumber, "end");
            if (end < start)
                throw BadInputException.AtLine(source, lineNumber, $"end {end} is before start {start}");
            if (cols.Length == 4)
            {
                if (!GpsDuration.TryParse(cols[3], out var duration))
                    throw BadInputException.AtLine(source, lineNumber, $"duration '{cols[3]}' is not a number");
                // segwizard writers round durations; allow a nanosecond-scale discrepancy only.
                if (Math.Abs((duration - (end - start)).TotalSeconds) > 1e-6)
                    throw BadInputException.AtLine(source, lineNumber, $"duration {duration} does not equal end − start = {end - start}");
            }
            segments.Add(new Segment(start, end));
        }
        return new SegmentList(segments);
    }

    private static DataQualityFlag ParseJson(string text, string source)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(text); }
        catch (JsonException e)
        {
            long line = (e.LineNumber ?? 0) + 1;
            throw BadInputException.AtLine(source, (int)line, $"not valid JSON ({FirstSentence(e.Message)})");
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new BadInputException($"{source}: a DQSegDB segment file is a JSON object with 'known' and 'active'");
            string name = FlagName(root);
            if (!root.TryGetProperty("active", out var active))
                throw new BadInputException($"{source}: key 'active' is missing");
            var activeList = ReadJsonSegments(active, source, "active");
            var knownList = root.TryGetProperty("known", out var known) ? ReadJsonSegments(known, source, "known") : activeList;
            return new DataQualityFlag(name, knownList, activeList);
        }
    }

    private static string FlagName(JsonElement root)
    {
        string ifo = root.TryGetProperty("ifo", out var i) && i.ValueKind == JsonValueKind.String ? i.GetString()! : "";
        string name = root.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString()! : "";
        string version = root.TryGetProperty("version", out var v) && v.ValueKind == JsonValueKind.Number ? v.GetRawText() : "";
        var sb = new StringBuilder();
        if (ifo.Length > 0) sb.Append(ifo).Append(':');
        sb.Append(name);
        if (version.Length > 0) sb.Append(':').Append(version);
        return sb.ToString();
    }

    private static SegmentList ReadJsonSegments(JsonElement list, string source, string key)
    {
        if (list.ValueKind != JsonValueKind.Array)
            throw new BadInputException($"{source}: key '{key}' must be a list of [start, end] pairs");
        var segments = new List<Segment>(list.GetArrayLength());
        int index = 0;
        foreach (var pair in list.EnumerateArray())
        {
            if (pair.ValueKind != JsonValueKind.Array || pair.GetArrayLength() != 2)
                throw new BadInputException($"{source}: {key}[{index}] is not a [start, end] pair");
            var start = JsonTime(pair[0], source, key, index);
            var end = JsonTime(pair[1], source, key, index);
            if (end < start)
                throw new BadInputException($"{source}: {key}[{index}] ends ({end}) before it starts ({start})");
            segments.Add(new Segment(start, end));
            index++;
        }
        return new SegmentList(segments);
    }

    private static GpsTime JsonTime(JsonElement e, string source, string key, int index)
    {
        if (e.ValueKind == JsonValueKind.Number)
        {
            string raw = e.GetRawText();
            if (GpsTime.TryParseDecimalNanoseconds(raw, true, out long ns)) return GpsTime.FromNanoseconds(ns);
            if (e.TryGetDouble(out double d) && double.IsFinite(d)) return GpsTime.FromSeconds(d);
        }
        throw new BadInputException($"{source}: {key}[{index}] holds '{e.GetRawText()}', not a GPS time");
    }

    /// <summary>Formats segments in the given layout.</summary>
    public static string Format(SegmentList segments, SegmentFileFormat format, string flagName = "")
    {
        var sb = new StringBuilder();
        switch (format)
        {
            case SegmentFileFormat.Plain:
                foreach (var s in segments) sb.Append(s.Start).Append(' ').Append(s.End).Append('\n');
                break;
            case SegmentFileFormat.Segwizard:
                sb.Append("# seg\tstart\tstop\tduration\n");
                int i = 0;
                foreach (var s in segments)
                    sb.Append(i++.ToString(CultureInfo.InvariantCulture)).Append('\t').Append(s.Start).Append('\t')
                      .Append(s.End).Append('\t').Append(s.Duration).Append('\n');
                break;
            case SegmentFileFormat.Json:
                return FormatJson(new DataQualityFlag(flagName, segments, segments));
            default:
                throw new ArgumentOutOfRangeException(nameof(format));
        }
        return sb.ToString();
    }

    /// <summary>Formats a flag as DQSegDB JSON.</summary>
    public static string FormatJson(DataQualityFlag flag)
    {
        var parts = flag.Name.Split(':');
        string ifo = parts.Length >= 2 ? parts[0] : "";
        string name = parts.Length >= 2 ? parts[1] : flag.Name;
        string? version = parts.Length >= 3 ? parts[2] : null;
        var sb = new StringBuilder();
        sb.Append("{\n  \"ifo\": ").Append(JsonSerializer.Serialize(ifo))
          .Append(",\n  \"name\": ").Append(JsonSerializer.Serialize(name));
        if (version is not null && int.TryParse(version, NumberStyles.None, CultureInfo.InvariantCulture, out int v))
            sb.Append(",\n  \"version\": ").Append(v.ToString(CultureInfo.InvariantCulture));
        AppendJsonList(sb, "known", flag.Known);
        AppendJsonList(sb, "active", flag.Active);
        sb.Append("\n}\n");
        return sb.ToString();
    }

    private static void AppendJsonList(StringBuilder sb, string key, SegmentList list)
    {
        sb.Append(",\n  \"").Append(key).Append("\": [");
        for (int i = 0; i < list.Count; i++)
        {
            sb.Append(i == 0 ? "\n    [" : ",\n    [").Append(list[i].Start).Append(", ").Append(list[i].End).Append(']');
        }
        sb.Append(list.Count > 0 ? "\n  ]" : "]");
    }

    /// <summary>Writes segments atomically in the given layout.</summary>
    public static Task WriteAsync(string path, SegmentList segments, SegmentFileFormat format, CancellationToken cancellationToken = default) =>
        AtomicFile.WriteAllTextAsync(path, Format(segments, format, Path.GetFileNameWithoutExtension(path)), cancellationToken);

    /// <summary>Picks a layout from a file name: <c>.json</c> → JSON, <c>.seg</c>/<c>.segwizard</c> → segwizard, else plain.</summary>
    public static SegmentFileFormat FormatForPath(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".json" => SegmentFileFormat.Json,
        ".seg" or ".segwizard" => SegmentFileFormat.Segwizard,
        _ => SegmentFileFormat.Plain,
    };

    private static string StripComment(string raw)
    {
        int hash = raw.IndexOf('#');
        return (hash >= 0 ? raw[..hash] : raw).Trim();
    }

    private static string[] Columns(string line) =>
        line.Split([' ', '\t', ','], StringSplitOptions.RemoveEmptyEntries);

    private static GpsTime ParseTime(string text, string source, int line, string what)
    {
        if (GpsTime.TryParseDecimalNanoseconds(text, true, out long ns)) return GpsTime.FromNanoseconds(ns);
        throw BadInputException.AtLine(source, line, $"{what} '{text}' is not a GPS time");
    }

    private static string FirstSentence(string message)
    {
        int i = message.IndexOf(". ", StringComparison.Ordinal);
        return (i > 0 ? message[..i] : message).TrimEnd('.');
    }
}
