using System.Text;

namespace GwReprocess.Workflow;

/// <summary>A submit description as condor_submit reads it: <c>command = value</c> lines (commands case-insensitive, later lines win) and one queue statement.</summary>
public sealed class SubmitDescription
{
    private readonly Dictionary<string, (string Value, int Line)> _commands = new(StringComparer.OrdinalIgnoreCase);

    private SubmitDescription(string source) => Source = source;

    /// <summary>Where the description came from, for messages.</summary>
    public string Source { get; }

    /// <summary>Number of queue statements.</summary>
    public int Queues { get; private set; }

    /// <summary>The raw (unexpanded) value of a command, or null.</summary>
    public string? this[string command] => _commands.TryGetValue(command, out var v) ? v.Value : null;

    /// <summary>The line a command was last set on (0 when absent).</summary>
    public int LineOf(string command) => _commands.TryGetValue(command, out var v) ? v.Line : 0;

    /// <summary>Reads submit text; problems (lines that are not commands, queue misuse) are added to <paramref name="problems"/>.</summary>
    public static SubmitDescription Parse(string text, string source, List<DagProblem> problems)
    {
        var d = new SubmitDescription(source);
        int lineNumber = 0;
        foreach (var raw in text.Split('\n'))
        {
            lineNumber++;
            string line = raw.TrimEnd('\r').Trim();
            if (line.Length == 0 || line[0] == '#') continue;
            if (line.Equals("queue", StringComparison.OrdinalIgnoreCase) || line.StartsWith("queue ", StringComparison.OrdinalIgnoreCase))
            {
                if (++d.Queues > 1) problems.Add(new DagProblem(source, lineNumber, "a DAG node's submit file must have exactly one queue statement"));
                if (line.Length > 5) problems.Add(new DagProblem(source, lineNumber, "a DAG node's submit file needs a bare 'queue' (per-node values go in VARS)"));
                continue;
            }
            int eq = line.IndexOf('=');
            if (eq <= 0) { problems.Add(new DagProblem(source, lineNumber, $"expected 'command = value', found '{line}'")); continue; }
            d._commands[line[..eq].Trim()] = (line[(eq + 1)..].Trim(), lineNumber);
        }
        if (d.Queues == 0) problems.Add(new DagProblem(source, lineNumber, "no queue statement"));
        return d;
    }

    /// <summary>Reads a submit file; any problem is a <see cref="BadInputException"/> naming the file and line.</summary>
    public static SubmitDescription Load(string path)
    {
        if (!File.Exists(path)) throw new BadInputException($"{path}: submit file not found");
        var problems = new List<DagProblem>();
        var d = Parse(File.ReadAllText(path), path, problems);
        if (problems.Count > 0) throw new BadInputException(problems[0].ToString());
        return d;
    }

    /// <summary>
    /// Expands <c>$(name)</c> macros in <paramref name="value"/> as condor_submit does: the description's own commands first
    /// (they override prepended VARS), then <paramref name="macros"/> (the node's VARS and DAGMan's JOB, RETRY, ...);
    /// names are case-insensitive, expansion is recursive, an undefined macro expands to nothing, <c>$$</c> forms are left alone.
    /// </summary>
    public string Expand(string value, IReadOnlyDictionary<string, string> macros) => Expand(value, macros, 0);

    private string Expand(string value, IReadOnlyDictionary<string, string> macros, int depth)
    {
        if (depth > 32) throw new BadInputException($"{Source}: macro expansion of '{value}' does not terminate (a macro refers to itself)");
        if (!value.Contains("$(", StringComparison.Ordinal)) return value;
        var sb = new StringBuilder(value.Length + 32);
        int i = 0;
        while (i < value.Length)
        {
            int open = value.IndexOf("$(", i, StringComparison.Ordinal);
            if (open < 0) { sb.Append(value, i, value.Length - i); break; }
            sb.Append(value, i, open - i);
            int close = value.IndexOf(')', open + 2);
            if (close < 0 || (open > 0 && value[open - 1] == '$')) { sb.Append(value, open, 2); i = open + 2; continue; }
            string name = value[(open + 2)..close];
            // $(name:default) gives a default for an undefined macro.
            string? fallback = null;
            int colon = name.IndexOf(':');
            if (colon > 0) { fallback = name[(colon + 1)..]; name = name[..colon]; }
            string? v = _commands.TryGetValue(name, out var own) ? own.Value
                : macros.TryGetValue(name, out var given) ? given : fallback;
            sb.Append(v is null ? "" : Expand(v, macros, depth + 1));
            i = close + 1;
        }
        return sb.ToString();
    }

    /// <summary>A command's value with macros expanded, or null when the command is absent.</summary>
    public string? Get(string command, IReadOnlyDictionary<string, string> macros) =>
        this[command] is { } raw ? Expand(raw, macros) : null;

    /// <summary>The argv of <c>arguments</c> (new syntax when double-quoted, else the old whitespace-separated syntax), macros expanded.</summary>
    public IReadOnlyList<string> Arguments(IReadOnlyDictionary<string, string> macros)
    {
        string? value = Get("arguments", macros) ?? Get("args", macros);
        if (string.IsNullOrWhiteSpace(value)) return [];
        if (value.StartsWith('"'))
        {
            try { return SubmitArguments.Parse(value); }
            catch (FormatException e) { throw BadInputException.AtLine(Source, LineOf("arguments"), $"arguments: {e.Message}"); }
        }
        return value.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
    }

    /// <summary>The variables of <c>environment</c> (new syntax: <c>"A=1 B='x y'"</c>, quoted like arguments), macros expanded.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Environment(IReadOnlyDictionary<string, string> macros)
    {
        string? value = Get("environment", macros);
        if (string.IsNullOrWhiteSpace(value)) return [];
        if (!value.StartsWith('"'))
            throw BadInputException.AtLine(Source, LineOf("environment"), "environment: only the new (double-quoted) syntax is supported");
        var result = new List<KeyValuePair<string, string>>();
        IReadOnlyList<string> items;
        try { items = SubmitArguments.Parse(value); }
        catch (FormatException e) { throw BadInputException.AtLine(Source, LineOf("environment"), $"environment: {e.Message}"); }
        foreach (var item in items)
        {
            int eq = item.IndexOf('=');
            if (eq <= 0) throw BadInputException.AtLine(Source, LineOf("environment"), $"environment: '{item}' is not NAME=value");
            result.Add(new(item[..eq], item[(eq + 1)..]));
        }
        return result;
    }
}
