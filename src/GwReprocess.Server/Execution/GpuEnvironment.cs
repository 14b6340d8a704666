using GwReprocess.Server.Metrics;
using Microsoft.ML.OnnxRuntime;

namespace GwReprocess.Server.Execution;

/// <summary>What the process can run on: whether ONNX Runtime has the CUDA provider, the GPUs CUDA will show it, and why GPUs cannot be used when they cannot.</summary>
/// <param name="Providers">ONNX Runtime's execution providers in this build (GetAvailableProviders).</param>
/// <param name="Visible">The visible GPUs, position = CUDA device id.</param>
/// <param name="Unusable">Why no instance can go on a GPU (no CUDA provider, a missing library, no visible GPU); null when they can.</param>
public sealed record GpuEnvironment(IReadOnlyList<string> Providers, IReadOnlyList<GpuDevice> Visible, string? Unusable)
{
    /// <summary>ONNX Runtime's name of the CUDA execution provider.</summary>
    public const string CudaProvider = "CUDAExecutionProvider";

    /// <summary>Why the default build cannot place an instance on a GPU.</summary>
    public const string NoCudaProvider = "this ONNX Runtime build has no CUDA execution provider (publish gwrepro with -p:Accelerator=cuda)";

    /// <summary>A CPU-only process (the default build, and tests).</summary>
    public static GpuEnvironment CpuOnly { get; } = new(["CPUExecutionProvider"], [], NoCudaProvider);

    /// <summary>The value of CUDA_VISIBLE_DEVICES the visible list came from (null when unset).</summary>
    public string? CudaVisibleDevicesValue { get; init; }

    public bool HasCudaProvider => Providers.Contains(CudaProvider);

    /// <summary>True when instances can be placed on GPUs.</summary>
    public bool GpusUsable => Unusable is null && Visible.Count > 0;

    /// <summary>"CUDA_VISIBLE_DEVICES='1,3'" or "CUDA_VISIBLE_DEVICES unset", for messages.</summary>
    public string Visibility => CudaVisibleDevicesValue is { } v ? $"{CudaVisibleDevices.Variable}='{v}'" : $"{CudaVisibleDevices.Variable} unset";

    /// <summary>The execution providers of this build, for <c>gwrepro serve --version</c> and the startup line.</summary>
    public static string BuildDescription() =>
        $"ONNX Runtime {OrtEnv.Instance().GetVersionString()}, execution providers: {string.Join(", ", OrtEnv.Instance().GetAvailableProviders())}";

    /// <summary>
    /// Looks at this process: ONNX Runtime's providers, then (CUDA build) the driver, CUDA 13 and cuDNN 9 libraries,
    /// then the node's GPUs from NVML (<paramref name="nvml"/>) seen through CUDA_VISIBLE_DEVICES.
    /// </summary>
    public static GpuEnvironment Detect(IGpuReadings? nvml)
    {
        var providers = OrtEnv.Instance().GetAvailableProviders();
        string? visible = Environment.GetEnvironmentVariable(CudaVisibleDevices.Variable);
        if (!providers.Contains(CudaProvider)) return new GpuEnvironment(providers, [], NoCudaProvider) { CudaVisibleDevicesValue = visible };
        var missing = CudaLibraries.Missing();
        if (missing.Count > 0) return new GpuEnvironment(providers, [], CudaLibraries.Message(missing)) { CudaVisibleDevicesValue = visible };
        if (nvml is null)
            return new GpuEnvironment(providers, [], $"cannot list the GPUs: {CudaLibraries.Nvml} did not load or initialise") { CudaVisibleDevicesValue = visible };
        // NVML lists GPUs in PCI bus order; CUDA numbers them so too only with CUDA_DEVICE_ORDER=PCI_BUS_ID (its default,
        // FASTEST_FIRST, may reorder unlike GPUs). Set before any session initialises CUDA, so both numberings agree.
        CudaLibraries.SetEnvironmentIfUnset("CUDA_DEVICE_ORDER", "PCI_BUS_ID");
        var devices = CudaVisibleDevices.Apply(nvml.Devices, visible);
        return new GpuEnvironment(providers, devices, null) { CudaVisibleDevicesValue = visible };
    }
}
