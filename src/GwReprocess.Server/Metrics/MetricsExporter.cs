using System.Diagnostics;
using System.Globalization;
using GwReprocess.Server.Execution;
using GwReprocess.Server.Repository;
using Prometheus;

namespace GwReprocess.Server.Metrics;

/// <summary>Prometheus text on the metrics port: Triton's nv_inference_* counters per model and version, GPU utilisation and memory per GPU (when NVML is there), plus process and host CPU/memory.</summary>
public sealed class MetricsExporter
{
    private readonly CollectorRegistry _registry = Prometheus.Metrics.NewCustomRegistry();
    private readonly ModelManager _models;
    private (long Busy, long Total) _lastCpu = CpuTimes.Read();

    private readonly Counter _success, _failure, _count, _exec, _request, _queue, _input, _infer, _output;
    private readonly Gauge _pending, _loadSeconds, _cpuUtil, _memTotal, _memUsed, _processCpu, _processRss;
    private readonly IGpuReadings? _gpus;
    private readonly IReadOnlyList<GpuDevice> _gpuDevices = [];
    private readonly Gauge? _gpuUtil, _gpuMemUsed, _gpuMemTotal;

    private static readonly (FailureReason Reason, string Label)[] Reasons =
        [(FailureReason.Rejected, "REJECTED"), (FailureReason.Canceled, "CANCELED"), (FailureReason.Backend, "BACKEND"), (FailureReason.Other, "OTHER")];

    /// <summary>Metrics of <paramref name="models"/>; <paramref name="gpus"/> (null: no nv_gpu_* metrics at all, as Triton without GPUs) read for <paramref name="gpuDevices"/>, the GPUs this process sees.</summary>
    public MetricsExporter(ModelManager models, IGpuReadings? gpus = null, IReadOnlyList<GpuDevice>? gpuDevices = null)
    {
        _models = models;
        _gpus = gpus;
        var f = Prometheus.Metrics.WithCustomRegistry(_registry);
        string[] labels = ["model", "version"];
        Counter C(string name, string help) => f.CreateCounter(name, help, labels);
        _success = C("nv_inference_request_success", "Number of successful inference requests, all batch sizes");
        // Triton (prometheus-cpp) writes labels in name order: model, reason, version; clients matching the text literally see the same line.
        _failure = f.CreateCounter("nv_inference_request_failure", "Number of failed inference requests, all batch sizes", ["model", "reason", "version"]);
        _count = C("nv_inference_count", "Number of inferences performed (does not include cached requests)");
        _exec = C("nv_inference_exec_count", "Number of model executions performed (does not include cached requests)");
        _request = C("nv_inference_request_duration_us", "Cumulative inference request duration in microseconds (includes cached requests)");
        _queue = C("nv_inference_queue_duration_us", "Cumulative inference queuing duration in microseconds (includes cached requests)");
        _input = C("nv_inference_compute_input_duration_us", "Cumulative compute input duration in microseconds (does not include cached requests)");
        _infer = C("nv_inference_compute_infer_duration_us", "Cumulative compute inference duration in microseconds (does not include cached requests)");
        _output = C("nv_inference_compute_output_duration_us", "Cumulative inference compute output duration in microseconds (does not include cached requests)");
        _pending = f.CreateGauge("nv_inference_pending_request_count", "Instantaneous number of pending requests awaiting execution per-model.", labels);
        _loadSeconds = f.CreateGauge("nv_model_load_duration_secs", "Model load time in seconds", labels);
        _cpuUtil = f.CreateGauge("nv_cpu_utilization", "CPU utilization rate [0.0 - 1.0]");
        _memTotal = f.CreateGauge("nv_cpu_memory_total_bytes", "CPU total memory (RAM), in bytes");
        _memUsed = f.CreateGauge("nv_cpu_memory_used_bytes", "CPU used memory (RAM), in bytes");
        _processCpu = f.CreateGauge("process_cpu_seconds_total", "Total user and system CPU time spent in seconds");
        _processRss = f.CreateGauge("process_resident_memory_bytes", "Resident memory size in bytes");
        if (gpus is not null)
        {
            _gpuDevices = gpuDevices ?? gpus.Devices;
            // Triton's names, help and label (gpu_uuid), so dashboards made for Triton read these unchanged.
            _gpuUtil = f.CreateGauge("nv_gpu_utilization", "GPU utilization rate [0.0 - 1.0)", ["gpu_uuid"]);
            _gpuMemTotal = f.CreateGauge("nv_gpu_memory_total_bytes", "GPU total memory, in bytes", ["gpu_uuid"]);
            _gpuMemUsed = f.CreateGauge("nv_gpu_memory_used_bytes", "GPU used memory, in bytes", ["gpu_uuid"]);
        }
        _registry.AddBeforeCollectCallback(Update);
    }

    private void Update()
    {
        foreach (var v in _models.ReadyVersions)
        {
            var s = v.Statistics;
            string[] l = [s.Model, s.Version.ToString(CultureInfo.InvariantCulture)];
            _success.WithLabels(l).IncTo(s.Success);
            // Triton creates all four reason series with the model, so each reads 0 until it happens.
            foreach (var (reason, label) in Reasons) _failure.WithLabels(l[0], label, l[1]).IncTo(s.Failures(reason));
            _pending.WithLabels(l).Set(s.Pending);
            _loadSeconds.WithLabels(l).Set(s.LoadSeconds);
            _count.WithLabels(l).IncTo(s.InferenceCount);
            _exec.WithLabels(l).IncTo(s.ExecutionCount);
            _request.WithLabels(l).IncTo(s.RequestNs / 1000);
            _queue.WithLabels(l).IncTo(s.QueueNs / 1000);
            _input.WithLabels(l).IncTo(s.ComputeInputNs / 1000);
            _infer.WithLabels(l).IncTo(s.ComputeInferNs / 1000);
            _output.WithLabels(l).IncTo(s.ComputeOutputNs / 1000);
        }
        if (_gpus is not null)
            foreach (var d in _gpuDevices)
                if (_gpus.TryRead(d, out var r))
                {
                    _gpuUtil!.WithLabels(d.Uuid).Set(r.Utilization);
                    _gpuMemTotal!.WithLabels(d.Uuid).Set(r.MemoryTotalBytes);
                    _gpuMemUsed!.WithLabels(d.Uuid).Set(r.MemoryUsedBytes);
                }
        // Triton's nv_cpu_utilization is the whole host's (/proc/stat, all cores) since the previous reading; this process's own CPU is process_cpu_seconds_total.
        var cpu = CpuTimes.Read();
        if (cpu.Total > _lastCpu.Total) _cpuUtil.Set(Math.Clamp((cpu.Busy - _lastCpu.Busy) / (double)(cpu.Total - _lastCpu.Total), 0, 1));
        _lastCpu = cpu;
        using var p = Process.GetCurrentProcess();
        _processCpu.Set(p.TotalProcessorTime.TotalSeconds);
        _processRss.Set(p.WorkingSet64);
        var (total, available) = MemInfo();
        if (total > 0)
        {
            _memTotal.Set(total);
            _memUsed.Set(total - available);
        }
    }

    private static (long Total, long Available) MemInfo()
    {
        try
        {
            long total = 0, available = 0;
            foreach (var line in File.ReadLines("/proc/meminfo"))
            {
                var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length < 2) continue;
                if (parts[0] == "MemTotal:") total = long.Parse(parts[1], CultureInfo.InvariantCulture) * 1024;
                else if (parts[0] == "MemAvailable:") available = long.Parse(parts[1], CultureInfo.InvariantCulture) * 1024;
            }
            return (total, available);
        }
        catch (IOException) { return (0, 0); }
    }

    public Task WriteAsync(Stream stream, CancellationToken cancellationToken) => _registry.CollectAndExportAsTextAsync(stream, cancellationToken);
}

/// <summary>Host CPU time from the first line of /proc/stat, in clock ticks, as Triton reads it for nv_cpu_utilization.</summary>
internal static class CpuTimes
{
    /// <summary>Busy and total ticks summed over all cores (idle = idle + iowait; guest time is already inside user); zeros where /proc/stat is missing.</summary>
    public static (long Busy, long Total) Read()
    {
        try
        {
            using var reader = new StreamReader("/proc/stat");
            return Parse(reader.ReadLine() ?? "");
        }
        catch (IOException) { return (0, 0); }
        catch (UnauthorizedAccessException) { return (0, 0); }
    }

    /// <summary>Parses "cpu user nice system idle iowait irq softirq steal ...".</summary>
    public static (long Busy, long Total) Parse(string line)
    {
        var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (f.Length < 9 || f[0] != "cpu") return (0, 0);
        Span<long> v = stackalloc long[8];
        for (int i = 0; i < 8; i++)
            if (!long.TryParse(f[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out v[i])) return (0, 0);
        long total = 0;
        foreach (long x in v) total += x;
        long idle = v[3] + v[4];
        return (total - idle, total);
    }
}
