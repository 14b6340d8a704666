using System.Text;

namespace GwReprocess.Workflow;

/// <summary>HTCondor's "new syntax" for <c>arguments</c>: quoting an argv into a submit value and parsing it back.</summary>
/// <remarks>
/// The whole value is wrapped in double quotes; arguments are separated by spaces; an argument holding
/// whitespace or a single quote is wrapped in single quotes with <c>'</c> doubled; a literal <c>"</c> is
/// written <c>""</c>. Backslash is not special. Parsing is the inverse, so tests can check that every
/// generated line gives back the argv it was made from, as <c>condor_submit</c> would read it.
/// </remarks>
public static class SubmitArguments
{
    /// <summary>The submit value (with its surrounding double quotes) for an argv.</summary>
    public static string Quote(IEnumerable<string> argv)
    {
        var sb = new StringBuilder("\"");
        bool first = true;
        foreach (var arg in argv)
        {
            if (!first) sb.Append(' ');
            first = false;
            foreach (char c in arg)
                if (c is '\n' or '\r') throw new BadInputException($"argument '{arg.ReplaceLineEndings(" ")}' contains a line break, which a submit file cannot carry");
            bool needsSingle = arg.Length == 0 || arg.Any(c => char.IsWhiteSpace(c) || c == '\'');
            string escaped = arg.Replace("\"", "\"\"");
            if (needsSingle) sb.Append('\'').Append(escaped.Replace("'", "''")).Append('\'');
            else sb.Append(escaped);
        }
        return sb.Append('"').ToString();
    }

    /// <summary>Parses a new-syntax value (with its surrounding double quotes) into an argv.</summary>
    public static IReadOnlyList<string> Parse(string value)
    {
        var v = value.Trim();
        if (v.Length < 2 || v[0] != '"' || v[^1] != '"')
            throw new FormatException("new-syntax arguments must be wrapped in double quotes");
        var inner = v[1..^1];
        var args = new List<string>();
        var current = new StringBuilder();
        bool inArg = false, inSingle = false;
        for (int i = 0; i < inner.Length; i++)
        {
            char c = inner[i];
            if (c == '"')
            {
                if (i + 1 < inner.Length && inner[i + 1] == '"') { current.Append('"'); inArg = true; i++; continue; }
                throw new FormatException($"unescaped double quote at position {i + 1}");
            }
            if (inSingle)
            {
                if (c == '\'')
                {
                    if (i + 1 < inner.Length && inner[i + 1] == '\'') { current.Append('\''); i++; continue; }
                    inSingle = false;
                    continue;
                }
                current.Append(c);
                continue;
            }
            if (c == '\'') { inSingle = true; inArg = true; continue; }
            if (char.IsWhiteSpace(c))
            {
                if (inArg) { args.Add(current.ToString()); current.Clear(); inArg = false; }
                continue;
            }
            current.Append(c);
            inArg = true;
        }
        if (inSingle) throw new FormatException("unterminated single quote");
        if (inArg) args.Add(current.ToString());
        return args;
    }
}
