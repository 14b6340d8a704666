using System.Text;

namespace GwReprocess.Tests.Architecture;

/// <summary>C# source with comments, string and character literals and preprocessor lines blanked out, so only code names are left.</summary>
/// <remarks>
/// A lexer, not a parser: enough to keep "GwReprocess.Storage" in a comment, an error message or a doc example from counting
/// as a use. Interpolation holes are code and are kept. Each blanked piece becomes one space, so tokens never merge.
/// </remarks>
internal static class CSharpCode
{
    public static string WithoutCommentsAndLiterals(string source)
    {
        var code = new StringBuilder(source.Length);
        int i = 0;
        Code(source, ref i, code, closingBraces: 0);
        return code.ToString();
    }

    /// <summary>Copies code from <paramref name="i"/>; inside an interpolation hole (<paramref name="closingBraces"/> &gt; 0) it stops after the brace run that closes it.</summary>
    private static void Code(string s, ref int i, StringBuilder code, int closingBraces)
    {
        int depth = 0;
        bool lineStart = true;
        while (i < s.Length)
        {
            char c = s[i];
            if (c == '\n') { code.Append(c); i++; lineStart = true; continue; }
            if (char.IsWhiteSpace(c)) { code.Append(c); i++; continue; }
            if (lineStart && c == '#' && closingBraces == 0) { SkipLine(s, ref i); code.Append(' '); continue; }
            lineStart = false;
            if (c == '/' && At(s, i + 1) == '/') { SkipLine(s, ref i); code.Append(' '); continue; }
            if (c == '/' && At(s, i + 1) == '*')
            {
                int end = s.IndexOf("*/", i + 2, StringComparison.Ordinal);
                i = end < 0 ? s.Length : end + 2;
                code.Append(' ');
                continue;
            }
            if (c == '\'') { CharLiteral(s, ref i); code.Append(' '); continue; }
            if (c is '"' or '$' or '@' && StringStart(s, i) is { } start) { StringLiteral(s, ref i, start, code); continue; }
            if (closingBraces > 0)
            {
                if (c == '{') depth++;
                else if (c == '}' && depth-- == 0)
                {
                    for (int k = 0; k < closingBraces && At(s, i) == '}'; k++) i++;
                    return;
                }
            }
            code.Append(c);
            i++;
        }
    }

    private readonly record struct Start(int Dollars, bool Verbatim, int Quotes, int Length);

    /// <summary>The prefix (<c>$</c>s, <c>@</c>) and opening quotes of a string literal at <paramref name="i"/>, or null when none starts there.</summary>
    private static Start? StringStart(string s, int i)
    {
        int j = i, dollars = 0;
        bool verbatim = false;
        while (At(s, j) == '$') { dollars++; j++; }
        if (At(s, j) == '@') { verbatim = true; j++; }
        if (!verbatim) while (At(s, j) == '$') { dollars++; j++; }
        if (At(s, j) != '"') return null;
        int quotes = 0;
        while (At(s, j + quotes) == '"') quotes++;
        // "" is an empty string, """ or more opens a raw string; verbatim strings never are raw.
        quotes = verbatim || quotes < 3 ? 1 : quotes;
        return new Start(dollars, verbatim, quotes, j - i + quotes);
    }

    private static void StringLiteral(string s, ref int i, Start start, StringBuilder code)
    {
        i += start.Length;
        code.Append(' ');
        bool raw = start.Quotes >= 3;
        while (i < s.Length)
        {
            char c = s[i];
            if (c == '"')
            {
                if (raw)
                {
                    int run = 0;
                    while (At(s, i + run) == '"') run++;
                    i += run;
                    if (run >= start.Quotes) return;
                    continue;
                }
                if (start.Verbatim && At(s, i + 1) == '"') { i += 2; continue; }
                i++;
                return;
            }
            if (c == '\\' && !start.Verbatim && !raw) { i += 2; continue; }
            if (c == '\n' && !start.Verbatim && !raw) return; // unterminated: stop at the line's end
            if (c == '{' && start.Dollars > 0)
            {
                int run = 0;
                while (At(s, i + run) == '{') run++;
                int opening = raw ? start.Dollars : 1;
                if (!raw && run >= 2) { i += 2; continue; } // {{ is a literal brace
                if (run < opening) { i += run; continue; }
                i += run;
                code.Append(' ');
                Code(s, ref i, code, opening);
                code.Append(' ');
                continue;
            }
            i++;
        }
    }

    private static void CharLiteral(string s, ref int i)
    {
        i++;
        while (i < s.Length && s[i] != '\'' && s[i] != '\n') i += s[i] == '\\' ? 2 : 1;
        i++;
    }

    private static void SkipLine(string s, ref int i)
    {
        int end = s.IndexOf('\n', i);
        i = end < 0 ? s.Length : end;
    }

    private static char At(string s, int i) => i < s.Length ? s[i] : '\0';
}
