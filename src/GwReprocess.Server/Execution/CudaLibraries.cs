using System.Runtime.InteropServices;

namespace GwReprocess.Server.Execution;

/// <summary>The native libraries the CUDA build needs from the node, probed the way ONNX Runtime will load them (dlopen by name), so a missing one is named before a session fails on it.</summary>
public static partial class CudaLibraries
{
    /// <summary>The NVIDIA driver's management library (GPU list and metrics).</summary>
    public const string Nvml = "libnvidia-ml.so.1";

    /// <summary>Each library and what provides it: the driver, the CUDA 13 runtime libraries ONNX Runtime's CUDA provider links, and cuDNN 9, which it loads at run time.</summary>
    public static IReadOnlyList<(string Library, string From)> Required { get; } =
    [
        ("libcuda.so.1", "the NVIDIA driver"),
        (Nvml, "the NVIDIA driver"),
        ("libcudart.so.13", "the CUDA 13 runtime"),
        ("libcublas.so.13", "the CUDA 13 runtime"),
        ("libcublasLt.so.13", "the CUDA 13 runtime"),
        ("libcurand.so.10", "the CUDA 13 runtime"),
        ("libcudnn.so.9", "cuDNN 9"),
    ];

    /// <summary>The required libraries the dynamic loader cannot open in this process.</summary>
    public static IReadOnlyList<(string Library, string From)> Missing()
    {
        var missing = new List<(string, string)>();
        foreach (var (library, from) in Required)
            if (!NativeLibrary.TryLoad(library, out _)) missing.Add((library, from));
        return missing;
    }

    /// <summary>One line naming what is missing and where the loader looked.</summary>
    public static string Message(IReadOnlyList<(string Library, string From)> missing)
    {
        var groups = missing.GroupBy(m => m.From).Select(g => $"{string.Join(", ", g.Select(m => m.Library))} ({g.Key})");
        string path = Environment.GetEnvironmentVariable("LD_LIBRARY_PATH") is { Length: > 0 } p ? $"LD_LIBRARY_PATH={p}" : "LD_LIBRARY_PATH unset";
        return $"the CUDA build cannot open {string.Join("; ", groups)}: the dynamic loader looked in {path}, /etc/ld.so.cache, /lib and /usr/lib " +
               "(run the container with --nv, or add the CUDA 13 and cuDNN 9 library directories to LD_LIBRARY_PATH)";
    }

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetEnv(string name, string value, int overwrite);

    /// <summary>Sets a variable in the native environment (what CUDA reads with getenv) unless it is set already; .NET's own setter changes only its managed copy.</summary>
    internal static void SetEnvironmentIfUnset(string name, string value)
    {
        if (Environment.GetEnvironmentVariable(name) is not null) return;
        SetEnv(name, value, 0);
        Environment.SetEnvironmentVariable(name, value);
    }
}
