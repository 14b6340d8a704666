namespace GwReprocess.IO;

/// <summary>A local file could not be written because its filesystem is full; the message names the file and the reason.</summary>
/// <remarks>
/// The runtime's own message names the hidden temporary file and carries the path in quotes after the reason; a user
/// needs the name the output would have had, so a job's one-line error can say which output and why.
/// </remarks>
public sealed class FileWriteException : IOException
{
    // errno values on Linux (ENOSPC, EDQUOT) and the Windows HRESULTs for ERROR_DISK_FULL and ERROR_HANDLE_DISK_FULL.
    private const int Enospc = 28, Edquot = 122;
    private const int DiskFull = unchecked((int)0x80070070), HandleDiskFull = unchecked((int)0x80070027);

    private FileWriteException(string path, string reason, IOException inner)
        : base($"writing {path}: {reason}", inner)
    {
        Path = path;
        Reason = reason;
        HResult = inner.HResult;
    }

    /// <summary>The file that was being written (its final name, not the temporary one).</summary>
    public string Path { get; }

    /// <summary>The system's reason, e.g. "No space left on device".</summary>
    public string Reason { get; }

    /// <summary>True when <paramref name="e"/> says the filesystem (or the user's quota on it) has no room left.</summary>
    public static bool IsOutOfSpace(IOException e) =>
        e.HResult is Enospc or Edquot or DiskFull or HandleDiskFull
        || e.Message.StartsWith("No space left on device", StringComparison.Ordinal)
        || e.Message.StartsWith("Disk quota exceeded", StringComparison.Ordinal);

    /// <summary>The exception to throw for an out-of-space <paramref name="e"/> while writing <paramref name="path"/>.</summary>
    public static FileWriteException OutOfSpace(string path, IOException e) =>
        new(path, e.HResult == Edquot || e.Message.StartsWith("Disk quota exceeded", StringComparison.Ordinal) ? "Disk quota exceeded" : "No space left on device", e);
}
