namespace GwReprocess;

/// <summary>Input that cannot be used as given (a file, key, channel or tensor); the CLI maps it to exit code 2.</summary>
/// <remarks>The message is one line that names what was wrong, so it can be shown to a user as is.</remarks>
public class BadInputException : Exception
{
    public BadInputException(string message) : base(message) { }

    public BadInputException(string message, Exception inner) : base(message, inner) { }

    /// <summary>Builds the conventional "file:line: reason" message.</summary>
    public static BadInputException AtLine(string file, int line, string reason) =>
        new($"{file}:{line}: {reason}");
}
