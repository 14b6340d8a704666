namespace GwReprocess.Tests;

/// <summary>Writable copies of checked-in or fixture directories, for tests that change or extend them.</summary>
internal static class TestDirectories
{
    /// <summary>
    /// Copies every file under <paramref name="from"/> to the same relative path under <paramref name="to"/> (created, even when empty),
    /// each copy writable; files whose first path segment <paramref name="leaveOut"/> names are not copied.
    /// </summary>
    public static void Copy(string from, string to, Func<string, bool>? leaveOut = null)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            string relative = Path.GetRelativePath(from, file);
            if (leaveOut is not null && leaveOut(relative.Split(Path.DirectorySeparatorChar)[0])) continue;
            string target = Path.Combine(to, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
            File.SetAttributes(target, FileAttributes.Normal);
        }
    }
}
