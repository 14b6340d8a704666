namespace GwReprocess;

/// <summary>Reads a file a user named, turning "not there" and "not allowed" into a one-line <see cref="BadInputException"/>.</summary>
public static class InputFile
{
    /// <summary>The whole text of <paramref name="path"/>; <paramref name="kind"/> says what it should have been ("segment file").</summary>
    public static string ReadAllText(string path, string kind) => Read(path, kind, File.ReadAllText);

    /// <summary>The lines of <paramref name="path"/>.</summary>
    public static string[] ReadAllLines(string path, string kind) => Read(path, kind, File.ReadAllLines);

    private static T Read<T>(string path, string kind, Func<string, T> read)
    {
        try { return read(path); }
        catch (FileNotFoundException) { throw new BadInputException($"{path}: no such {kind}"); }
        catch (DirectoryNotFoundException) { throw new BadInputException($"{path}: no such {kind}"); }
        catch (UnauthorizedAccessException) { throw new BadInputException($"{path}: permission denied reading the {kind}"); }
    }
}
