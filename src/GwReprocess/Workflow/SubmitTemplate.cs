using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;

namespace GwReprocess.Workflow;

/// <summary>A submit-file (or dagman.config) template from <c>condor/</c> with <c>{{name}}</c> placeholders.</summary>
/// <remarks>
/// The defaults are the files in the repository's <c>condor/</c> folder, embedded in the binary so that a
/// submit host needs nothing else; a workflow may point <c>condor.templates</c> at a folder of edited copies.
/// Users change templates, not code. HTCondor's own <c>$(macro)</c> syntax passes through untouched.
/// </remarks>
public sealed partial class SubmitTemplate
{
    private readonly string _text;

    /// <summary>Where the template came from, for messages.</summary>
    public string Source { get; }

    private SubmitTemplate(string source, string text)
    {
        Source = source;
        _text = text;
    }

    /// <summary>Loads <paramref name="fileName"/> from <paramref name="directory"/>, or the embedded default when no directory is given.</summary>
    public static SubmitTemplate Load(string fileName, string? directory)
    {
        if (directory is not null)
        {
            string path = Path.Combine(directory, fileName);
            if (!File.Exists(path)) throw new BadInputException($"{path}: template not found (condor.templates points at {directory})");
            return new SubmitTemplate(path, File.ReadAllText(path));
        }
        var assembly = typeof(SubmitTemplate).Assembly;
        using var stream = assembly.GetManifestResourceStream("condor/" + fileName)
            ?? throw new InvalidOperationException($"embedded template condor/{fileName} is missing from the build");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return new SubmitTemplate("condor/" + fileName, reader.ReadToEnd());
    }

    /// <summary>True when the template has <c>{{name}}</c> somewhere.</summary>
    public bool Uses(string name) => _text.Contains("{{" + name + "}}", StringComparison.Ordinal);

    /// <summary>Fills every placeholder; a placeholder without a value is an error naming the template and line.</summary>
    public string Render(IReadOnlyDictionary<string, string> values)
    {
        var sb = new StringBuilder(_text.Length + 256);
        int lineNumber = 0;
        foreach (var line in _text.Split('\n'))
        {
            lineNumber++;
            if (lineNumber > 1) sb.Append('\n');
            var m = Placeholder().Match(line);
            if (!m.Success) { sb.Append(line); continue; }
            // A placeholder alone on its line may expand to several lines (or none).
            if (m.Value == line.Trim())
            {
                string key = m.Groups[1].Value;
                if (!values.TryGetValue(key, out var block)) throw Unknown(key, lineNumber);
                if (block.Length == 0) { if (sb.Length > 0 && lineNumber > 1) sb.Length--; continue; }
                sb.Append(block);
                continue;
            }
            int lineCopy = lineNumber;
            sb.Append(Placeholder().Replace(line, match =>
                values.TryGetValue(match.Groups[1].Value, out var v) ? v : throw Unknown(match.Groups[1].Value, lineCopy)));
        }
        return sb.ToString();
    }

    private BadInputException Unknown(string key, int line) =>
        BadInputException.AtLine(Source, line, $"unknown placeholder '{{{{{key}}}}}'");

    [GeneratedRegex(@"\{\{([a-z_]+)\}\}")]
    private static partial Regex Placeholder();
}
