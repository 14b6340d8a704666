using System.Diagnostics;
using GwReprocess.IO;
using GwReprocess.Workflow;

namespace GwReprocess.Benchmarks;

/// <summary>The cost of DAGMan's records in a local run of a large DAG: one node status file rewrite, one jobstate line.</summary>
public sealed class DagRecordsBenchmark : IBenchmark
{
    public string Name => "dagrecords";
    public string Description => "node status file rewrite and jobstate log lines for a 2000-job DAG (the 10-year dag benchmark's size)";

    public async Task RunAsync(BenchmarkReport report, CancellationToken cancellationToken)
    {
        const int jobs = 2000;
        var states = new[] { DagNodeStatus.Done, DagNodeStatus.Submitted, DagNodeStatus.NotReady, DagNodeStatus.Error };
        var ads = Enumerable.Range(0, jobs + 1).Select(i => i == jobs
            ? new NodeStatusAd("analyze", DagNodeStatus.NotReady, "", 0, 0, 0)
            : new NodeStatusAd($"clean_H1L1_{1_000_000_000 + 4096L * i}_4096", states[i % 4],
                states[i % 4] == DagNodeStatus.Error ? $"Job proc ({i}.0.0) failed with status 1 (after 2 node retries)" : "", i % 3, 0, 0)).ToList();
        var dir = Directory.CreateTempSubdirectory("gwrepro-recordsbench-");
        try
        {
            string text = "";
            var (format, formatBytes) = BenchmarkReport.Measure(() => text = NodeStatusFile.Format("reprocess.dag", DagNodeStatus.Submitted, "", ads, 1795368354, 1795368354, 1795368414));
            var (parse, _) = BenchmarkReport.Measure(() => NodeStatusFile.ParseAds(text));
            string path = Path.Combine(dir.FullName, "reprocess.status");
            var atomic = await BestAsync(() => AtomicFile.WriteAllTextAsync(path, text, cancellationToken));
            string plain = Path.Combine(dir.FullName, "plain.status");
            var reference = await BestAsync(() => File.WriteAllTextAsync(plain, text, cancellationToken));
            report.Figure("status file size", text.Length / 1e3, "kB");
            report.Figure("format (2001 NodeStatus ads)", format.TotalMilliseconds, "ms");
            report.Figure("  allocated", formatBytes / 1e6, "MB");
            report.Figure("atomic write (temp + fsync + rename)", atomic.TotalMilliseconds, "ms");
            report.Figure("  vs File.WriteAllText of the same text", atomic / reference, "x");
            report.Figure("parse back (ClassAd reader)", parse.TotalMilliseconds, "ms");
            report.Figure("rewrite cost at the DAG's 60 s interval", (format + atomic).TotalSeconds / 60 * 100, "% of one core");

            // Jobstate log: 4 lines per attempt, each flushed as DAGMan flushes.
            const int lines = 4 * jobs;
            string logPath = Path.Combine(dir.FullName, "reprocess.jobstate.log");
            var sw = Stopwatch.StartNew();
            using (var log = JobstateLog.Open(logPath))
                for (int i = 0; i < lines; i++)
                    log.Write(new JobstateEntry(1795368354, ads[i / 4].Node, "SUBMIT", $"{i / 4 + 2}.0", "-", i / 4 + 1));
            sw.Stop();
            var bytes = await File.ReadAllBytesAsync(logPath, cancellationToken);
            var sw2 = Stopwatch.StartNew();
            await File.WriteAllBytesAsync(Path.Combine(dir.FullName, "plain.log"), bytes, cancellationToken);
            sw2.Stop();
            report.Figure("jobstate line (flushed)", sw.Elapsed.TotalMilliseconds * 1000 / lines, "µs");
            report.Figure("  8000 lines vs one buffered write of the same bytes", sw.Elapsed / sw2.Elapsed, "x");
        }
        finally { dir.Delete(true); }
    }

    private static async Task<TimeSpan> BestAsync(Func<Task> action, int repetitions = 5)
    {
        await action();
        var best = TimeSpan.MaxValue;
        for (int i = 0; i < repetitions; i++)
        {
            var sw = Stopwatch.StartNew();
            await action();
            if (sw.Elapsed < best) best = sw.Elapsed;
        }
        return best;
    }
}
