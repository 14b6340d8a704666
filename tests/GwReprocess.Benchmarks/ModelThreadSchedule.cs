using System.Globalization;
using GwReprocess.Server.Execution;

namespace GwReprocess.Benchmarks;

/// <summary>Scheduler counters summed over a server's model threads (named <c>ORT:*</c>: instance threads and ONNX Runtime's intra-op threads), from /proc/PID/task.</summary>
/// <param name="RunNs">Time on a CPU.</param>
/// <param name="WaitNs">Time runnable but waiting for a CPU.</param>
/// <param name="Involuntary">Involuntary context switches (preemptions).</param>
public readonly record struct ModelThreadSchedule(long RunNs, long WaitNs, long Involuntary)
{
    public static ModelThreadSchedule operator -(ModelThreadSchedule a, ModelThreadSchedule b) => new(a.RunNs - b.RunNs, a.WaitNs - b.WaitNs, a.Involuntary - b.Involuntary);

    /// <summary>Reads the counters of process <paramref name="pid"/>'s model threads now.</summary>
    public static ModelThreadSchedule Read(int pid)
    {
        long run = 0, wait = 0, involuntary = 0;
        foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
        {
            try
            {
                if (!File.ReadAllText(Path.Combine(task, "comm")).StartsWith(InstanceThreadNames.Prefix, StringComparison.Ordinal)) continue;
                var fields = File.ReadAllText(Path.Combine(task, "schedstat")).Split(' ');
                run += long.Parse(fields[0], CultureInfo.InvariantCulture);
                wait += long.Parse(fields[1], CultureInfo.InvariantCulture);
                foreach (var line in File.ReadLines(Path.Combine(task, "status")))
                    if (line.StartsWith("nonvoluntary_ctxt_switches:", StringComparison.Ordinal))
                        involuntary += long.Parse(line.AsSpan(line.IndexOf(':') + 1).Trim(), CultureInfo.InvariantCulture);
            }
            catch (IOException)
            {
                // the thread ended while being read
            }
        }
        return new(run, wait, involuntary);
    }
}
