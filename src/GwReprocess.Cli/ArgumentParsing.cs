using CommandLine;
using CommandLine.Text;

namespace GwReprocess.Cli;

/// <summary>CommandLineParser set up the gwrepro way: help on stdout with exit 0, usage errors on stderr with exit 2.</summary>
public static class ArgumentParsing
{
    private static Parser NewParser() => new(s =>
    {
        s.HelpWriter = null;
        s.CaseInsensitiveEnumValues = true;
        s.AutoVersion = false;
        s.MaximumDisplayWidth = 100;
    });

    /// <summary>Parses one options type for a verb without sub-verbs.</summary>
    public static Task<int> RunAsync<TOptions>(string command, string[] args, Func<TOptions, Task<int>> run)
    {
        using var parser = NewParser();
        var result = parser.ParseArguments<TOptions>(args);
        return result.Tag == ParserResultType.Parsed ? run(((Parsed<TOptions>)result).Value) : Task.FromResult(Report(command, result));
    }

    /// <summary>Parses one of several sub-verb option types (each marked <c>[Verb]</c>).</summary>
    public static Task<int> RunVerbsAsync(string command, string[] args, Type[] verbs, Func<object, Task<int>> run)
    {
        using var parser = NewParser();
        if (args.Length > 0 && !args[0].StartsWith('-')) command += " " + args[0];
        var result = parser.ParseArguments(args, verbs);
        return result.Tag == ParserResultType.Parsed ? run(((Parsed<object>)result).Value) : Task.FromResult(Report(command, result));
    }

    private static int Report<T>(string command, ParserResult<T> result)
    {
        var errors = ((NotParsed<T>)result).Errors.ToList();
        bool help = errors.Any(e => e.Tag is ErrorType.HelpRequestedError or ErrorType.HelpVerbRequestedError);
        if (help || errors.Any(e => e.Tag == ErrorType.NoVerbSelectedError))
        {
            var text = HelpText.AutoBuild(result, h =>
            {
                h.Heading = $"gwrepro {command}".TrimEnd();
                h.Copyright = "";
                h.AddDashesToOption = true;
                h.AdditionalNewLineAfterOption = false;
                h.AddEnumValuesToHelpText = true;
                return h;
            }, e => e, verbsIndex: true);
            if (help)
            {
                Console.Out.WriteLine(text);
                return ExitCodes.Success;
            }
            Console.Error.WriteLine(text);
            return ExitCodes.BadInput;
        }
        var builder = SentenceBuilder.Create();
        var first = errors.First();
        Console.Error.WriteLine($"gwrepro {command}: {builder.FormatError(first)}".Replace("  ", " "));
        Console.Error.WriteLine($"Run 'gwrepro {command} --help' for usage.");
        return ExitCodes.BadInput;
    }
}
