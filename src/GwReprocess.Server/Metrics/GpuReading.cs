namespace GwReprocess.Server.Metrics;

/// <summary>One GPU's utilisation (0 to 1, over the driver's last sample period) and memory in bytes.</summary>
public readonly record struct GpuReading(double Utilization, long MemoryUsedBytes, long MemoryTotalBytes);
