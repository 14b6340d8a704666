using System.Diagnostics;
using System.Globalization;

namespace GwReprocess.Benchmarks;

/// <summary>Prints one line per figure, <c>benchmark: figure = value unit</c>, so runs can be compared and pasted into notes.</summary>
public sealed class BenchmarkReport(string benchmark, TextWriter output)
{
    public void Figure(string name, double value, string unit) =>
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{benchmark}: {name} = {Format(value)} {unit}"));

    public void Note(string text) => output.WriteLine($"{benchmark}: # {text}");

    /// <summary>Runs <paramref name="action"/> <paramref name="repetitions"/> times after one warm-up and returns the best wall time and the allocations of that run.</summary>
    public static (TimeSpan Best, long AllocatedBytes) Measure(Action action, int repetitions = 5)
    {
        action();
        var best = TimeSpan.MaxValue;
        long allocated = 0;
        for (int i = 0; i < repetitions; i++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            var sw = Stopwatch.StartNew();
            action();
            sw.Stop();
            long bytes = GC.GetAllocatedBytesForCurrentThread() - before;
            if (sw.Elapsed < best) { best = sw.Elapsed; allocated = bytes; }
        }
        return (best, allocated);
    }

    private static string Format(double v) =>
        v == Math.Round(v) && Math.Abs(v) < 1e15 ? v.ToString("F0", CultureInfo.InvariantCulture)
        : Math.Abs(v) >= 100 ? v.ToString("F1", CultureInfo.InvariantCulture) : v.ToString("G4", CultureInfo.InvariantCulture);
}
