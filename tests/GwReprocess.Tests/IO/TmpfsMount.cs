using System.Diagnostics;
using System.Globalization;

namespace GwReprocess.Tests.IO;

/// <summary>A size-limited tmpfs mounted on a directory for a test, unmounted on dispose.</summary>
/// <remarks>
/// Tests run as root here and in CI, so a real small filesystem is the honest way to fill a disk; a mount that fails
/// fails the test with the reason rather than skipping it, so the disk-full path is never silently untested.
/// </remarks>
public sealed class TmpfsMount : IAsyncDisposable
{
    private TmpfsMount(string path) => Path = path;

    /// <summary>The mounted directory.</summary>
    public string Path { get; }

    /// <summary>Mounts a tmpfs of <paramref name="kib"/> KiB on <paramref name="path"/> (created if missing).</summary>
    public static async Task<TmpfsMount> MountAsync(string path, long kib)
    {
        Directory.CreateDirectory(path);
        await RunAsync("mount", "-t", "tmpfs", "-o", "size=" + kib.ToString(CultureInfo.InvariantCulture) + "k", "tmpfs", path);
        return new TmpfsMount(path);
    }

    /// <summary>Frees space by growing the filesystem in place (files stay).</summary>
    public Task ResizeAsync(long kib) => RunAsync("mount", "-o", "remount,size=" + kib.ToString(CultureInfo.InvariantCulture) + "k", Path);

    public async ValueTask DisposeAsync() => await RunAsync("umount", Path);

    private static async Task RunAsync(string program, params string[] args)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args) info.ArgumentList.Add(a);
        using var p = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {program}");
        string err = await p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"{program} {string.Join(' ', args)} failed ({p.ExitCode}): {err.Trim()}; this test needs root to mount a small tmpfs (it runs as root in CI)");
    }
}
