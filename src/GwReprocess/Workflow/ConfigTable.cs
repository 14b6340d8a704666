using System.Globalization;
using Tomlyn.Parsing;
using Tomlyn.Syntax;

namespace GwReprocess.Workflow;

/// <summary>A TOML table read with line numbers, so every error names the key and the line; unknown keys are errors.</summary>
/// <remarks>
/// Built on Tomlyn's syntax tree rather than its object model because only the tree keeps positions.
/// Keys are tracked as they are read; <see cref="RejectUnknownKeys"/> then reports a typo such as
/// <c>job.lenght</c> instead of silently using a default.
/// </remarks>
public sealed class ConfigTable
{
    private readonly Dictionary<string, (ValueSyntax Value, int Line)> _values = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _tables = new(StringComparer.Ordinal);
    private readonly List<string> _tableOrder = new();
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);

    /// <summary>The file name used in messages.</summary>
    public string Source { get; }

    private ConfigTable(string source) => Source = source;

    /// <summary>Reads a TOML file.</summary>
    public static ConfigTable Load(string path)
    {
        return Parse(InputFile.ReadAllText(path, "workflow file"), path);
    }

    /// <summary>Parses TOML text; <paramref name="source"/> names it in errors.</summary>
    public static ConfigTable Parse(string text, string source)
    {
        var doc = SyntaxParser.Parse(text, source);
        if (doc.HasErrors)
        {
            var first = doc.Diagnostics.First(d => d.Kind == DiagnosticMessageKind.Error);
            throw BadInputException.AtLine(source, first.Span.Start.Line + 1, $"TOML syntax error: {first.Message}");
        }
        var table = new ConfigTable(source);
        foreach (var kv in doc.KeyValues) table.Add("", kv);
        foreach (var t in doc.Tables)
        {
            if (t is TableArraySyntax)
                throw BadInputException.AtLine(source, t.Span.Start.Line + 1, "arrays of tables ([[...]]) are not used in workflow files");
            string prefix = KeyName(t.Name!);
            if (table._tables.ContainsKey(prefix))
                throw BadInputException.AtLine(source, t.Span.Start.Line + 1, $"table [{prefix}] is defined twice");
            table._tables[prefix] = t.Span.Start.Line + 1;
            table._tableOrder.Add(prefix);
            foreach (var kv in t.Items) table.Add(prefix, kv);
        }
        return table;
    }

    private void Add(string prefix, KeyValueSyntax kv)
    {
        string key = (prefix.Length > 0 ? prefix + "." : "") + KeyName(kv.Key!);
        int line = kv.Span.Start.Line + 1;
        if (_values.ContainsKey(key)) throw BadInputException.AtLine(Source, line, $"key '{key}' is set twice");
        if (kv.Value is InlineTableSyntax inline)
        {
            _tables[key] = line;
            _tableOrder.Add(key);
            foreach (var item in inline.Items) Add(key, item.KeyValue!);
            return;
        }
        _values[key] = (kv.Value!, line);
    }

    private static string KeyName(KeySyntax key)
    {
        var parts = new List<string> { BareOrQuoted(key.Key!) };
        foreach (var dot in key.DotKeys) parts.Add(BareOrQuoted(dot.Key!));
        return string.Join('.', parts);
    }

    private static string BareOrQuoted(BareKeyOrStringValueSyntax k) => k switch
    {
        BareKeySyntax b => b.Key!.Text!,
        StringValueSyntax s => s.Value!,
        _ => k.ToString()!.Trim(),
    };

    /// <summary>True when the key is present (marks it as known).</summary>
    public bool Has(string key)
    {
        bool has = _values.ContainsKey(key);
        if (has) _used.Add(key);
        return has;
    }

    /// <summary>The line a key or table is on, or 0.</summary>
    public int LineOf(string key) =>
        _values.TryGetValue(key, out var v) ? v.Line : _tables.TryGetValue(key, out int l) ? l : 0;

    /// <summary>Sub-table names directly under <paramref name="prefix"/>, in document order (e.g. detectors H1, L1).</summary>
    public IReadOnlyList<string> TablesUnder(string prefix)
    {
        var names = new List<string>();
        foreach (var t in _tableOrder)
        {
            if (t.StartsWith(prefix + ".", StringComparison.Ordinal))
            {
                var rest = t[(prefix.Length + 1)..];
                if (!rest.Contains('.') && !names.Contains(rest)) names.Add(rest);
            }
        }
        return names;
    }

    /// <summary>An error naming the key and its line.</summary>
    public BadInputException Error(string key, string reason)
    {
        int line = LineOf(key);
        return line > 0 ? BadInputException.AtLine(Source, line, $"{key}: {reason}") : new BadInputException($"{Source}: {key}: {reason}");
    }

    public string? OptionalString(string key) => Has(key) ? AsString(key, _values[key].Value) : null;

    public string RequiredString(string key) => OptionalString(key) ?? throw Missing(key);

    public string String(string key, string fallback) => OptionalString(key) ?? fallback;

    public long? OptionalInteger(string key)
    {
        if (!Has(key)) return null;
        return _values[key].Value is IntegerValueSyntax i ? i.Value : throw Error(key, "expected an integer");
    }

    public long Integer(string key, long fallback) => OptionalInteger(key) ?? fallback;

    public long RequiredInteger(string key) => OptionalInteger(key) ?? throw Missing(key);

    public double? OptionalNumber(string key)
    {
        if (!Has(key)) return null;
        return _values[key].Value switch
        {
            IntegerValueSyntax i => i.Value,
            FloatValueSyntax f => f.Value,
            _ => throw Error(key, "expected a number"),
        };
    }

    public double Number(string key, double fallback) => OptionalNumber(key) ?? fallback;

    public bool Boolean(string key, bool fallback)
    {
        if (!Has(key)) return fallback;
        return _values[key].Value is BooleanValueSyntax b ? b.Value : throw Error(key, "expected true or false");
    }

    /// <summary>A GPS time given as an integer, a decimal string ("1126259462.4") or a UTC string.</summary>
    public Time.GpsTime? OptionalGpsTime(string key)
    {
        if (!Has(key)) return null;
        var v = _values[key].Value;
        string text = v switch
        {
            IntegerValueSyntax i => i.Value.ToString(CultureInfo.InvariantCulture),
            StringValueSyntax s => s.Value!,
            FloatValueSyntax => throw Error(key, "write fractional GPS times as strings (\"1126259462.4\") so they stay exact"),
            _ => throw Error(key, "expected GPS seconds or a UTC time string"),
        };
        return Time.GpsTime.TryParse(text, out var t) ? t : throw Error(key, $"'{text}' is neither GPS seconds nor a UTC time");
    }

    /// <summary>A duration in seconds given as an integer or a decimal string.</summary>
    public Time.GpsDuration? OptionalDuration(string key)
    {
        if (!Has(key)) return null;
        var v = _values[key].Value;
        string text = v switch
        {
            IntegerValueSyntax i => i.Value.ToString(CultureInfo.InvariantCulture),
            StringValueSyntax s => s.Value!,
            FloatValueSyntax f => f.Value.ToString("R", CultureInfo.InvariantCulture),
            _ => throw Error(key, "expected a number of seconds"),
        };
        return Time.GpsDuration.TryParse(text, out var d) && d >= Time.GpsDuration.Zero
            ? d : throw Error(key, $"'{text}' is not a non-negative number of seconds");
    }

    /// <summary>A list of strings, in the order written (channel order is never sorted).</summary>
    public IReadOnlyList<string>? OptionalStringList(string key)
    {
        if (!Has(key)) return null;
        if (_values[key].Value is not ArraySyntax array) throw Error(key, "expected a list of strings");
        var list = new List<string>();
        foreach (var item in array.Items)
            list.Add(item.Value is StringValueSyntax s ? s.Value! : throw Error(key, "every item must be a string"));
        return list;
    }

    /// <summary>Every key under <paramref name="prefix"/> with its string value (site-specific extras).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> StringsUnder(string prefix)
    {
        var result = new List<KeyValuePair<string, string>>();
        foreach (var (key, (value, _)) in _values.OrderBy(k => k.Value.Line))
        {
            if (!key.StartsWith(prefix + ".", StringComparison.Ordinal)) continue;
            _used.Add(key);
            result.Add(new(key[(prefix.Length + 1)..], AsString(key, value)));
        }
        return result;
    }

    /// <summary>Fails on the first key that no reader asked for: a typo must not silently fall back to a default.</summary>
    public void RejectUnknownKeys()
    {
        foreach (var (key, (_, line)) in _values.OrderBy(k => k.Value.Line))
            if (!_used.Contains(key))
                throw BadInputException.AtLine(Source, line, $"unknown key '{key}'");
    }

    private string AsString(string key, ValueSyntax value) => value switch
    {
        StringValueSyntax s => s.Value!,
        _ => throw Error(key, "expected a string"),
    };

    private BadInputException Missing(string key)
    {
        int dot = key.LastIndexOf('.');
        string table = dot > 0 ? key[..dot] : "";
        int line = table.Length > 0 ? LineOf(table) : 0;
        string where = table.Length > 0 ? $" in [{table}]" : "";
        return line > 0
            ? BadInputException.AtLine(Source, line, $"required key '{key}' is missing{where}")
            : new BadInputException($"{Source}: required key '{key}' is missing");
    }
}
