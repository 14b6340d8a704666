using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;

namespace GwReprocess.Training;

/// <summary>Where gwrepro-train's LibTorch can run: this host as it is, or a training root entered in a private mount namespace.</summary>
/// <remarks>
/// TorchSharp 0.107's glue library needs GLIBCXX_3.4.32 (GCC 13's libstdc++); Debian 12 has 3.4.30. Nothing on the host is
/// replaced: on such a host the program re-runs itself inside a root that has the newer library (training/make-root.sh makes one),
/// with the host's /proc, /dev, /sys and the directories it reads and writes bound at the same paths.
/// </remarks>
internal static partial class TrainingHost
{
    /// <summary>Environment variable naming the training root (the --root option wins).</summary>
    public const string RootVariable = "GWREPRO_TRAINING_ROOT";

    /// <summary>Set inside the root, so the program does not try to enter it again.</summary>
    public const string InsideVariable = "GWREPRO_IN_TRAINING_ROOT";

    private static readonly string[] SystemDirectories = ["bin", "boot", "dev", "etc", "lib", "lib32", "lib64", "libx32", "proc", "run", "sbin", "sys", "usr", "var"];

    /// <summary>Null when LibTorch's glue library loads here; otherwise one line naming what is missing and the remedy.</summary>
    public static string? LibTorchProblem()
    {
        string? lib = new[] { "libLibTorchSharp.so", Path.Combine("runtimes", "linux-x64", "native", "libLibTorchSharp.so") }
            .Select(p => Path.Combine(AppContext.BaseDirectory, p)).FirstOrDefault(File.Exists);
        if (lib is null) return $"gwrepro-train: libLibTorchSharp.so is not beside the program in {AppContext.BaseDirectory} (publish it with its runtime: dotnet publish src/GwReprocess.Training -r linux-x64)";
        try
        {
            NativeLibrary.Load(lib);
            return null;
        }
        catch (DllNotFoundException e)
        {
            var missing = MissingVersion().Match(e.Message);
            string what = missing.Success ? missing.Groups[1].Value : "a library it links";
            string needs = what.StartsWith("GLIBCXX_", StringComparison.Ordinal) ? $"{what} (GCC 13's libstdc++)" : what;
            string host = HostLibrary(what.StartsWith("GLIBCXX_", StringComparison.Ordinal) ? "libstdc++.so.6" : "libc.so.6");
            return $"gwrepro-train: LibTorch cannot load on this host: {Path.GetFileName(missing.Success ? missing.Groups[2].Value : lib)} needs {needs}, which {host} lacks; "
                 + $"make a training root once with training/make-root.sh DIR (a minimal Debian trixie) and run with --root DIR or {RootVariable}=DIR";
        }
    }

    /// <summary>True when this process was started inside a training root by <see cref="RunInRoot"/>.</summary>
    public static bool InsideRoot => Environment.GetEnvironmentVariable(InsideVariable) == "1";

    /// <summary>Runs this program again inside <paramref name="root"/> with the same arguments; returns its exit code.</summary>
    /// <param name="root">The training root.</param>
    /// <param name="args">This run's arguments, passed on unchanged.</param>
    /// <param name="paths">Files and directories the run reads or writes: their directories are bound into the root.</param>
    public static int RunInRoot(string root, IReadOnlyList<string> args, IEnumerable<string> paths)
    {
        root = Path.GetFullPath(root);
        if (!File.Exists(Path.Combine(root, "usr", "lib", "x86_64-linux-gnu", "libstdc++.so.6")))
            throw new BadInputException($"{root}: not a training root (no usr/lib/x86_64-linux-gnu/libstdc++.so.6); make one with training/make-root.sh {root}");
        string program = Environment.ProcessPath ?? throw new InvalidOperationException("cannot tell this program's path");
        // The host's fonts too: the loss curve's labels are drawn with them, and a minimal root has none.
        string[] fonts = [.. ((string[])["/usr/share/fonts", "/etc/fonts"]).Where(Directory.Exists)];
        var binds = Binds([Path.GetDirectoryName(program)!, AppContext.BaseDirectory, Environment.CurrentDirectory, Path.GetTempPath(), .. fonts, .. paths]);
        var script = new StringBuilder("set -e; r=\"$1\"; shift; for d in proc dev sys; do mount --rbind \"/$d\" \"$r/$d\"; done; ");
        foreach (var b in binds) script.Append("mkdir -p \"$r\"").Append(Quote(b)).Append("; mount --rbind ").Append(Quote(b)).Append(" \"$r\"").Append(Quote(b)).Append("; ");
        script.Append("exec chroot \"$r\" /bin/sh -c 'cd \"$0\" && exec \"$@\"' \"$@\"");
        var start = new ProcessStartInfo("unshare") { UseShellExecute = false };
        foreach (var a in (string[])["--mount", "--propagation", "private", "--", "/bin/sh", "-c", script.ToString(), "sh", root, Environment.CurrentDirectory, program]) start.ArgumentList.Add(a);
        foreach (var a in args) start.ArgumentList.Add(a);
        start.Environment[InsideVariable] = "1";
        using var child = Process.Start(start) ?? throw new InvalidOperationException("could not start unshare");
        child.WaitForExit();
        return child.ExitCode;
    }

    /// <summary>The directories to bind: a path's top-level directory, or the path's own directory under a system directory the root has its own copy of.</summary>
    internal static IReadOnlyList<string> Binds(IEnumerable<string> paths)
    {
        var binds = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var p in paths)
        {
            if (string.IsNullOrEmpty(p)) continue;
            string full = Path.GetFullPath(p);
            var parts = full.Split('/', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 0) continue;
            string dir;
            if (Array.IndexOf(SystemDirectories, parts[0]) < 0) dir = "/" + parts[0];
            else
            {
                dir = Directory.Exists(full) ? full : Path.GetDirectoryName(full)!;
                while (!Directory.Exists(dir) && dir != "/") dir = Path.GetDirectoryName(dir)!;
                if (dir.Split('/', StringSplitOptions.RemoveEmptyEntries).Length < 2) continue;
            }
            if (Directory.Exists(dir)) binds.Add(dir);
        }
        // A directory inside another bound one comes along with it.
        return binds.Where(b => !binds.Any(o => o != b && b.StartsWith(o + "/", StringComparison.Ordinal))).ToList();
    }

    private static string Quote(string s) => "'" + s.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    /// <summary>The host's copy of <paramref name="name"/>, with the newest version tag it carries when one is found.</summary>
    private static string HostLibrary(string name)
    {
        string tag = name.StartsWith("libstdc++", StringComparison.Ordinal) ? "GLIBCXX_" : "GLIBC_";
        foreach (var dir in (string[])["/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64", "/usr/lib"])
        {
            string path = Path.Combine(dir, name);
            if (!File.Exists(path)) continue;
            try
            {
                var text = Encoding.Latin1.GetString(File.ReadAllBytes(path));
                var newest = VersionTag().Matches(text).Where(m => m.Value.StartsWith(tag, StringComparison.Ordinal))
                    .Select(m => m.Value).MaxBy(v => Version.TryParse(v[tag.Length..], out var parsed) ? parsed : new Version(0, 0));
                return newest is null ? path : $"{path} (newest {newest})";
            }
            catch (IOException) { return path; }
        }
        return $"this host's {name}";
    }

    [GeneratedRegex(@"GLIBC(XX)?_[0-9]+(\.[0-9]+)+")]
    private static partial Regex VersionTag();

    [GeneratedRegex(@"version [`']?([A-Z]+_[0-9.]+)'? not found \(required by ([^)]+)\)")]
    private static partial Regex MissingVersion();
}
