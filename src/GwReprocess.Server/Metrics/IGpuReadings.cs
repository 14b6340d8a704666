using GwReprocess.Server.Execution;

namespace GwReprocess.Server.Metrics;

/// <summary>A source of GPU readings for the nv_gpu_* metrics: the node's GPUs and, per GPU, its utilisation and memory.</summary>
public interface IGpuReadings
{
    /// <summary>The node's GPUs in PCI bus order (<see cref="GpuDevice.Index"/> = position).</summary>
    IReadOnlyList<GpuDevice> Devices { get; }

    /// <summary>One reading of <paramref name="device"/>; false when the source cannot read it now.</summary>
    bool TryRead(GpuDevice device, out GpuReading reading);
}
