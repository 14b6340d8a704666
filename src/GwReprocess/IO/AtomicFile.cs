namespace GwReprocess.IO;

/// <summary>Writes a local file so that it either appears complete under its name or not at all.</summary>
/// <remarks>
/// The content goes to a hidden temporary file in the same directory (same filesystem, so the
/// rename is atomic), is flushed to disk, and is then renamed over the target. A failure or
/// cancellation deletes the temporary file and leaves any existing target untouched.
/// </remarks>
public static class AtomicFile
{
    /// <summary>Writes <paramref name="path"/> with whatever <paramref name="write"/> puts into the stream.</summary>
    public static async Task WriteAsync(string path, Func<Stream, CancellationToken, Task> write, CancellationToken cancellationToken = default)
    {
        string full = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(full) ?? throw new BadInputException($"{path}: not a file path");
        Directory.CreateDirectory(directory);
        string temp = TemporaryNameFor(full);
        try
        {
            await using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
            {
                await write(stream, cancellationToken).ConfigureAwait(false);
                await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
                stream.Flush(flushToDisk: true);
            }
            cancellationToken.ThrowIfCancellationRequested();
            File.Move(temp, full, overwrite: true);
        }
        catch (IOException e) when (e is not FileWriteException && FileWriteException.IsOutOfSpace(e))
        {
            TryDelete(temp);
            throw FileWriteException.OutOfSpace(full, e);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>Writes text (UTF-8, no BOM) atomically.</summary>
    public static Task WriteAllTextAsync(string path, string text, CancellationToken cancellationToken = default) =>
        WriteAsync(path, async (s, ct) =>
        {
            await using var w = new StreamWriter(s, new System.Text.UTF8Encoding(false), 1 << 16, leaveOpen: true);
            await w.WriteAsync(text.AsMemory(), ct).ConfigureAwait(false);
        }, cancellationToken);

    /// <summary>The hidden temporary name used next to <paramref name="fullPath"/>; unique per call.</summary>
    internal static string TemporaryNameFor(string fullPath) =>
        Path.Combine(Path.GetDirectoryName(fullPath)!, "." + Path.GetFileName(fullPath) + "." + Guid.NewGuid().ToString("N")[..12] + ".tmp");

    /// <summary>True for a file name <see cref="TemporaryNameFor"/> makes, so listings can hide writes in progress or left by a killed process.</summary>
    public static bool IsTemporaryName(string fileName) =>
        fileName.Length > 18 && fileName[0] == '.' && fileName.EndsWith(".tmp", StringComparison.Ordinal)
        && fileName[^17] == '.' && IsLowerHex(fileName.AsSpan(fileName.Length - 16, 12));

    private static bool IsLowerHex(ReadOnlySpan<char> s)
    {
        foreach (char c in s)
            if (c is not ((>= '0' and <= '9') or (>= 'a' and <= 'f'))) return false;
        return true;
    }

    internal static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
