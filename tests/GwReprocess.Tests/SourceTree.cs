namespace GwReprocess.Tests;

/// <summary>The checkout the tests were built from: the folder above the test binaries that holds GwReprocess.sln.</summary>
internal static class SourceTree
{
    /// <summary>The repository root (workflows/, model-repository/, src/, training/ below it).</summary>
    public static string Root { get; } = Find();

    private static string Find()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "GwReprocess.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new DirectoryNotFoundException($"no GwReprocess.sln above {AppContext.BaseDirectory}");
    }
}
