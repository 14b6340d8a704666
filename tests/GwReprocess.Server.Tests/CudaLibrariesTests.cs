using System.Runtime.InteropServices;
using GwReprocess.Server.Execution;

namespace GwReprocess.Server.Tests;

/// <summary>The CUDA build's one-line failure when the node lacks the driver, CUDA 13 or cuDNN 9, probed for real with the dynamic loader.</summary>
public sealed class CudaLibrariesTests
{
    [Fact]
    public void MissingLibrariesAreNamedWithWhereTheLoaderLooked()
    {
        var missing = CudaLibraries.Missing();
        // The probe agrees with dlopen, library by library (on a GPU node most load; on this CI none does).
        foreach (var (library, _) in CudaLibraries.Required)
            Assert.Equal(!NativeLibrary.TryLoad(library, out _), missing.Any(m => m.Library == library));
        if (missing.Count == 0) return;
        string message = CudaLibraries.Message(missing);
        Assert.DoesNotContain('\n', message);
        foreach (var (library, from) in missing)
        {
            Assert.Contains(library, message);
            Assert.Contains(from, message);
        }
        string? path = Environment.GetEnvironmentVariable("LD_LIBRARY_PATH");
        Assert.Contains(string.IsNullOrEmpty(path) ? "LD_LIBRARY_PATH unset" : $"LD_LIBRARY_PATH={path}", message);
        Assert.Contains("/etc/ld.so.cache", message);
    }

    [DllImport("libc", EntryPoint = "getenv")]
    private static extern IntPtr NativeGetEnv(string name);

    [Fact]
    public void CudaDeviceOrderIsSetWhereCudaReadsIt()
    {
        // CUDA reads its variables with getenv: the native environment must change, not only .NET's copy.
        string name = "GWREPRO_TEST_" + Guid.NewGuid().ToString("N");
        CudaLibraries.SetEnvironmentIfUnset(name, "PCI_BUS_ID");
        Assert.Equal("PCI_BUS_ID", Marshal.PtrToStringUTF8(NativeGetEnv(name)));
        Assert.Equal("PCI_BUS_ID", Environment.GetEnvironmentVariable(name));
        // A value the operator set is kept.
        CudaLibraries.SetEnvironmentIfUnset(name, "FASTEST_FIRST");
        Assert.Equal("PCI_BUS_ID", Marshal.PtrToStringUTF8(NativeGetEnv(name)));
    }

    [Fact]
    public void TheMessageGroupsLibrariesByWhatProvidesThem()
    {
        var message = CudaLibraries.Message([("libcuda.so.1", "the NVIDIA driver"), ("libcudart.so.13", "the CUDA 13 runtime"), ("libcudnn.so.9", "cuDNN 9")]);
        Assert.StartsWith("the CUDA build cannot open libcuda.so.1 (the NVIDIA driver); libcudart.so.13 (the CUDA 13 runtime); libcudnn.so.9 (cuDNN 9): the dynamic loader looked in ", message);
    }

    [Fact]
    public void ThisBuildSaysWhichProvidersItHas()
    {
        var gpus = GpuEnvironment.Detect(Server.Metrics.NvmlGpuReadings.TryOpen());
        string build = GpuEnvironment.BuildDescription();
        Assert.Contains("CPUExecutionProvider", build);
        Assert.Equal(gpus.HasCudaProvider, build.Contains("CUDAExecutionProvider"));
        // The default build (what CI tests) has no CUDA provider, and says so as the reason GPUs cannot be used.
        if (!gpus.HasCudaProvider) Assert.Equal(GpuEnvironment.NoCudaProvider, gpus.Unusable);
    }
}
