using System.Diagnostics;
using GwReprocess.Workflow;

namespace GwReprocess.Benchmarks;

/// <summary>Planning and writing a DAG for 10 years of two-detector data.</summary>
public sealed class DagBenchmark : IBenchmark
{
    public string Name => "dag";
    public string Description => "plan + write the run directory for 10 years of H1L1 science segments (4096 s jobs)";

    public async Task RunAsync(BenchmarkReport report, CancellationToken cancellationToken)
    {
        const long start = 1_000_000_000, span = 10L * 365 * 86400;
        var science = new Dictionary<string, GwReprocess.Time.SegmentList>
        {
            ["H1"] = SegmentsBenchmark.Synthetic(1, start, span),
            ["L1"] = SegmentsBenchmark.Synthetic(2, start, span),
        };
        string workflowText = $"""
            [run]
            name = "ten-years"
            [data]
            source = "cache"
            cache = "unused.lcf"
            start = {start}
            end = {start + span}
            [detectors.H1]
            strain = "H1:GDS-CALIB_STRAIN"
            witnesses = [{string.Join(", ", Enumerable.Range(1, 21).Select(i => $"\"H1:PEM-WITNESS_{i}_DQ\""))}]
            [detectors.L1]
            strain = "L1:GDS-CALIB_STRAIN"
            witnesses = [{string.Join(", ", Enumerable.Range(1, 21).Select(i => $"\"L1:PEM-WITNESS_{i}_DQ\""))}]
            [inference]
            servers = 20
            clients_per_server = 25
            [outputs]
            uri = "gs://gwrepro-o3/cleaned"
            [site]
            profile = "hepcloud"
            """;
        var dir = Directory.CreateTempSubdirectory("gwrepro-dagbench-");
        try
        {
            string workflowPath = Path.Combine(dir.FullName, "workflow.toml");
            await File.WriteAllTextAsync(workflowPath, workflowText, cancellationToken);
            // Warm-up run so JIT time is not counted; then one measured run.
            await RunOnceAsync(workflowPath, science, Path.Combine(dir.FullName, "warm"), cancellationToken);
            GC.Collect();
            long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
            var sw = Stopwatch.StartNew();
            var (jobs, dataSeconds) = await RunOnceAsync(workflowPath, science, Path.Combine(dir.FullName, "run"), cancellationToken);
            sw.Stop();
            long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
            using var self = Process.GetCurrentProcess();
            report.Figure("jobs planned", jobs, "jobs");
            report.Figure("data covered", dataSeconds / 86400 / 365.25, "years");
            report.Figure("plan + write wall time", sw.Elapsed.TotalSeconds, "s (goal < 2)");
            report.Figure("  of which planning (segments ∩, chunking)", Phases.Plan.TotalSeconds, "s");
            report.Figure("  rendering alone (in memory)", Phases.Render.TotalSeconds, "s");
            report.Figure("  render + atomic writes", Phases.Write.TotalSeconds, "s");
            report.Figure("allocated during plan + write", allocated / 1e6, "MB");
            report.Figure("process peak working set", self.PeakWorkingSet64 / 1e6, "MB (goal < 300)");
            report.Figure("reprocess.dag size", new FileInfo(Path.Combine(dir.FullName, "run", RunDirectory.DagName)).Length / 1e6, "MB");
        }
        finally { dir.Delete(true); }
    }

    private static class Phases
    {
        public static TimeSpan Plan, Render, Write;
    }

    private static async Task<(int Jobs, double DataSeconds)> RunOnceAsync(string workflowPath,
        Dictionary<string, GwReprocess.Time.SegmentList> science, string outDir, CancellationToken ct)
    {
        var sw = Stopwatch.StartNew();
        var workflow = WorkflowConfig.Load(workflowPath);
        var plan = JobPlanner.Plan(workflow, science);
        Phases.Plan = sw.Elapsed;
        sw.Restart();
        DagWriter.Render(plan, "/opt/gwrepro/bin/gwrepro");
        Phases.Render = sw.Elapsed;
        sw.Restart();
        var run = await DagWriter.WriteAsync(plan, outDir, "/opt/gwrepro/bin/gwrepro", null, ct);
        Phases.Write = sw.Elapsed;
        return (run.Jobs, run.DataSeconds);
    }
}
