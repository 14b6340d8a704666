namespace GwReprocess.Server.Execution;

/// <summary>Where one model instance runs: its instance group, its number within the model, and its GPU (CUDA device id and the device) or the CPU.</summary>
public sealed record InstancePlacement(string Group, int Instance, int DeviceId, GpuDevice? Gpu)
{
    /// <summary>The CUDA device id of a CPU instance.</summary>
    public const int Cpu = -1;

    public bool OnGpu => DeviceId != Cpu;

    /// <summary>"GPU 1 (GPU-5c…, Tesla T4)" or "CPU", for the startup log.</summary>
    public string Describe() => Gpu is null ? "CPU" :
        $"GPU {DeviceId} ({Gpu.Uuid}{(Gpu.Name.Length > 0 ? ", " + Gpu.Name : "")}{(Gpu.Index != DeviceId ? $", node GPU {Gpu.Index}" : "")})";
}
