using System.Globalization;

namespace GwReprocess.Benchmarks;

/// <summary>CPU time another process has used so far, from /proc/PID/stat (utime + stime, in the kernel's 100 Hz ticks).</summary>
public static class ProcessCpu
{
    public static TimeSpan Of(int pid)
    {
        // After "pid (comm)": state is field 0; utime and stime are fields 11 and 12 (proc(5) fields 14 and 15).
        var fields = File.ReadAllText($"/proc/{pid}/stat").Split(')')[^1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return TimeSpan.FromMilliseconds((long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) * 10.0);
    }
}
