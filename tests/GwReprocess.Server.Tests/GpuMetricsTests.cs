using System.Text;
using GwReprocess.Server.Execution;
using GwReprocess.Server.Metrics;
using GwReprocess.Server.Repository;

namespace GwReprocess.Server.Tests;

/// <summary>nv_gpu_* metrics as Triton writes them, from a reading source standing in for NVML; none at all where NVML is absent.</summary>
public sealed class GpuMetricsTests
{
    /// <summary>Readings given by the test; the device the source cannot read is left out, as NVML errors are.</summary>
    private sealed class FixedReadings(IReadOnlyList<GpuDevice> devices, Dictionary<string, GpuReading> readings) : IGpuReadings
    {
        public IReadOnlyList<GpuDevice> Devices { get; } = devices;

        public bool TryRead(GpuDevice device, out GpuReading reading) => readings.TryGetValue(device.Uuid, out reading);
    }

    private sealed class EmptyStore : IModelRepositoryStore
    {
        public string Location => "empty";
        public Task<IReadOnlyList<string>> ListModelsAsync(CancellationToken cancellationToken) => Task.FromResult<IReadOnlyList<string>>([]);
        public Task<IReadOnlyList<long>> ListVersionsAsync(string model, CancellationToken cancellationToken) => Task.FromResult<IReadOnlyList<long>>([]);
        public Task<byte[]> ReadFileAsync(string model, string relativePath, CancellationToken cancellationToken) => throw new FileNotFoundException(relativePath);
    }

    private static async Task<string> Scrape(MetricsExporter exporter)
    {
        using var stream = new MemoryStream();
        await exporter.WriteAsync(stream, CancellationToken.None);
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    [Fact]
    public async Task GpuMetricsCarryTritonsNamesHelpAndLabel()
    {
        GpuDevice a = new(0, "GPU-aaaa", "Tesla T4"), b = new(1, "GPU-bbbb", "Tesla T4"), c = new(2, "GPU-cccc", "Tesla T4");
        var source = new FixedReadings([a, b, c], new()
        {
            [a.Uuid] = new GpuReading(0.37, 1_234_567_890, 16_106_127_360),
            [b.Uuid] = new GpuReading(0, 268_435_456, 16_106_127_360),
            [c.Uuid] = new GpuReading(1, 1, 2),
        });
        using var models = new ModelManager(new EmptyStore(), ModelControlMode.None, new OnnxSessionSettings(1, 1), _ => { });
        // This process sees GPUs 0 and 1 only (CUDA_VISIBLE_DEVICES): GPU 2 is not reported.
        string text = await Scrape(new MetricsExporter(models, source, [a, b]));
        string[] lines = text.Split('\n');
        Assert.Contains("# HELP nv_gpu_utilization GPU utilization rate [0.0 - 1.0)", lines);
        Assert.Contains("# TYPE nv_gpu_utilization gauge", lines);
        Assert.Contains("nv_gpu_utilization{gpu_uuid=\"GPU-aaaa\"} 0.37", lines);
        Assert.Contains("nv_gpu_utilization{gpu_uuid=\"GPU-bbbb\"} 0", lines);
        Assert.Contains("# HELP nv_gpu_memory_total_bytes GPU total memory, in bytes", lines);
        Assert.Contains("nv_gpu_memory_total_bytes{gpu_uuid=\"GPU-aaaa\"} 16106127360", lines);
        Assert.Contains("# HELP nv_gpu_memory_used_bytes GPU used memory, in bytes", lines);
        Assert.Contains("nv_gpu_memory_used_bytes{gpu_uuid=\"GPU-aaaa\"} 1234567890", lines);
        Assert.Contains("nv_gpu_memory_used_bytes{gpu_uuid=\"GPU-bbbb\"} 268435456", lines);
        Assert.DoesNotContain("GPU-cccc", text);
    }

    [Fact]
    public async Task WithoutNvmlThereAreNoGpuMetricsAndNoError()
    {
        // The real reader: on a node without the NVIDIA driver it opens nothing.
        var nvml = NvmlGpuReadings.TryOpen();
        Assert.Equal(System.Runtime.InteropServices.NativeLibrary.TryLoad(CudaLibraries.Nvml, out _), nvml is not null);
        if (nvml is not null) return;
        using var models = new ModelManager(new EmptyStore(), ModelControlMode.None, new OnnxSessionSettings(1, 1), _ => { });
        string text = await Scrape(new MetricsExporter(models, nvml));
        Assert.DoesNotContain("nv_gpu_", text);
        Assert.Contains("nv_cpu_utilization", text);
    }
}
