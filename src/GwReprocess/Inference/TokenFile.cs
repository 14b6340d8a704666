namespace GwReprocess.Inference;

/// <summary>Reads a bearer token from a file (<c>--token-file</c>, <c>[inference] token_file</c>), so it never appears in argv, DAG or submit files.</summary>
public static class TokenFile
{
    /// <summary>The file's content without surrounding whitespace (a trailing newline is usual); errors name the file and <paramref name="what"/>.</summary>
    public static string Read(string path, string what)
    {
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new BadInputException($"{path}: no such token file ({what})", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BadInputException($"{path}: cannot read the token file ({what}): {e.Message}", e);
        }
        string token = text.Trim();
        if (token.Length == 0) throw new BadInputException($"{path}: the token file ({what}) is empty");
        foreach (char c in token)
            if (c < 0x21 || c > 0x7e) throw new BadInputException($"{path}: the token file ({what}) holds more than one printable token (a bearer token has no spaces or control characters)");
        return token;
    }
}
