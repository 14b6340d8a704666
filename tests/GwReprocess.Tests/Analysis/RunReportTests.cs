using System.Text.Json;
using GwReprocess.Analysis;
using GwReprocess.Jobs;

namespace GwReprocess.Tests.Analysis;

public sealed class RunReportTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("gwrepro-report-");

    public void Dispose() => _dir.Delete(true);

    /// <summary>A run directory with hand-built metrics whose answers are known.</summary>
    /// <remarks>Its H1 has one witness, so the run cleans; <paramref name="strainOnly"/> leaves it out (a strain-only run, whose jobs are search_…).</remarks>
    private string MakeRun(bool withServerMetrics = true, int gpusPerServer = 0, bool strainOnly = false)
    {
        string job = strainOnly ? "search" : "clean";
        string run = Path.Combine(_dir.FullName, "run");
        Directory.CreateDirectory(Path.Combine(run, "out", "metrics"));
        Directory.CreateDirectory(Path.Combine(run, "out", "rendezvous"));
        File.WriteAllText(Path.Combine(run, "workflow.toml"), $$"""
            [run]
            name = "hand-built"
            [data]
            start = 1000
            end = 1400
            [detectors.H1]
            strain = "H1:GDS-CALIB_STRAIN"
            {{(strainOnly ? "" : "witnesses = [\"H1:PEM-CS_ACC_PSL_PERISCOPE_X_DQ\"]")}}
            [inference]
            servers = 2
            clients_per_server = 1
            rate = 4
            batch = 8
            gpus_per_server = {{gpusPerServer}}
            [outputs]
            uri = "out"
            [condor]
            client_cpus = 2
            server_cpus = 4
            """);
        // 300 s of data between t0 and t0 + 200 s: 1.5 s'/s (see ThroughputTests for the binned values).
        File.WriteAllLines(Path.Combine(run, "out", "metrics", $"{job}_H1_1000_100.csv"),
        [
            JobMetricsCsv.Header,
            $"{job}_H1_1000_100,server_0,0,1700000000.000000,1700000100.000000,1000,1050,50,25,25,3.5,7,9,1000,2000,0,0.5",
            $"{job}_H1_1000_100,server_0,0,1700000100.000000,1700000200.000000,1050,1100,50,25,25,3.6,7.5,10,1000,2000,1,0",
        ]);
        File.WriteAllLines(Path.Combine(run, "out", "metrics", $"{job}_H1_1100_200.csv"),
        [
            JobMetricsCsv.Header,
            $"{job}_H1_1100_200,server_1,0,1700000050.000000,1700000150.000000,1100,1300,200,100,100,2,4,5,4000,8000,0,0",
        ]);
        File.WriteAllText(Path.Combine(run, "out", "rendezvous", "start"), $"1700000000000\t2\t2\t0\tall 2 clients ready\t{job}_H1_1000_100");
        if (withServerMetrics)
            // 150 ensemble requests in all; each carries B / r = 8 / 4 = 2 s of data: 300 s over the 200 s run = 1.5 s'/s.
            File.WriteAllLines(Path.Combine(run, "out", "server-metrics.csv"),
            [
                ServerMetricsInterval.CsvHeader,
                "1700000100.000,127.0.0.1:8002,gwe2e,1,100,75,0,75,75,75000,7500,750,60000,750",
                "1700000200.000,127.0.0.1:8002,gwe2e,1,100,75,0,75,75,90000,22500,750,60000,750",
                "1700000200.000,127.0.0.1:8002,snapshotter,1,100,150,0,150,150,15000,1500,150,3000,150",
            ]);
        return run;
    }

    [Fact]
    public async Task Report_prices_gpu_servers_with_the_chosen_table_and_resources()
    {
        string run = MakeRun(gpusPerServer: 1);
        // gcp-ondemand-2026-05: 2 servers × (1 L4 at 0.56004 + 4 G2 vCPUs at 0.036698) + 2 clients × 2 N1 vCPUs at 0.04749975.
        var r = await Cli.GwreproProcess.RunAsync("analyze", run, "--json", "--cost-model", "gcp-ondemand-2026-05", "--gpu", "gpu-l4", "--node-vcpu", "vcpu-g2");
        Assert.True(r.ExitCode == 0, r.StdErr);
        using var doc = JsonDocument.Parse(r.StdOut);
        var cost = doc.RootElement.GetProperty("runs")[0].GetProperty("cost");
        double perHour = 2 * (0.56004 + 4 * 0.036698) + 4 * 0.04749975;
        Assert.Equal(perHour, cost.GetProperty("per_hour").GetDouble(), 12);
        Assert.Equal(perHour / 3600 / 1.5, cost.GetProperty("per_data_second").GetDouble(), 15);

        // The table has no T4: asking for the default GPU resource is one line naming the table and the resource.
        var missing = await Cli.GwreproProcess.RunAsync("analyze", run, "--cost-model", "gcp-ondemand-2026-05");
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("gcp-ondemand-2026-05.csv: no price for resource 'gpu-t4'", missing.StdErr);
        Assert.Single(missing.StdErr.Trim().Split('\n'));
    }

    [Fact]
    public async Task Report_figures_are_exact_and_client_and_server_agree()
    {
        string run = MakeRun();
        var r = await Cli.GwreproProcess.RunAsync("analyze", run, "--json", "--bin", "50");
        Assert.True(r.ExitCode == 0, r.StdErr);
        using var doc = JsonDocument.Parse(r.StdOut);
        var s = doc.RootElement.GetProperty("runs")[0];
        Assert.Equal(300, s.GetProperty("data_seconds").GetDouble());
        Assert.Equal(200, s.GetProperty("wall_seconds").GetDouble(), 6);
        Assert.Equal(1.5, s.GetProperty("data_seconds_per_second").GetDouble(), 9);
        Assert.Equal(1.5, s.GetProperty("server_data_seconds_per_second").GetDouble(), 9);
        // 25 + 25 + 100 responses of B = 8 windows: what the servers' 150 requests scored.
        Assert.Equal((150, 1200), (s.GetProperty("client_responses").GetDouble(), s.GetProperty("client_inferences").GetDouble()));
        Assert.Equal(1.5, s.GetProperty("binned_throughput").GetProperty("median").GetDouble(), 9);
        // 2 servers × 4 vCPUs + 2 × 1 client × 2 vCPUs = 12 vCPUs × 0.04749975 $/h.
        Assert.Equal(12 * 0.04749975, s.GetProperty("cost").GetProperty("per_hour").GetDouble(), 12);
        Assert.Equal(12 * 0.04749975 / 3600 / 1.5, s.GetProperty("cost").GetProperty("per_data_second").GetDouble(), 15);
        // gwe2e: 150 requests, 30 000 µs queue → 0.2 ms; compute (1500 + 120000 + 1500) µs / 150 = 0.82 ms.
        var e2e = s.GetProperty("latency").EnumerateArray().First(m => m.GetProperty("model").GetString() == "gwe2e");
        Assert.Equal(200, e2e.GetProperty("mean_queue_us").GetDouble(), 9);
        Assert.Equal(820, e2e.GetProperty("mean_compute_us").GetDouble(), 9);

        string report = Path.Combine(run, "report");
        string md = File.ReadAllText(Path.Combine(report, "report.md"));
        Assert.Contains("the window counts agree within 5 % (difference 0.0 %)", md);
        Assert.Contains("the servers scored 1200 windows, the clients had 1200 answered (150 responses × B = 8;", md);
        Assert.Contains("data seconds / wall time from the synchronized start = 300 s / 200.0 s = 1.5 s'/s; inferences / Δt / r = 1200 / 200.0 s / 4 Hz = 1.5 s'/s", md);
        foreach (var png in new[] { "throughput.png", "time-vs-servers.png", "cost-vs-servers.png", "latency.png" })
        {
            var bytes = File.ReadAllBytes(Path.Combine(report, png));
            Assert.True(bytes.Length > 5000, $"{png} is {bytes.Length} bytes");
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, bytes[..4]);
            Assert.Contains($"]({png})", md);
        }
        string html = File.ReadAllText(Path.Combine(report, "report.html"));
        Assert.Equal(4, html.Split("data:image/png;base64,").Length - 1);
        Assert.DoesNotContain("src=\"throughput.png\"", html); // self-contained: no external files
    }

    [Fact]
    public async Task Without_server_metrics_the_report_says_so_and_stop_servers_writes_the_marker()
    {
        string run = MakeRun(withServerMetrics: false);
        string rendezvous = Path.Combine(_dir.FullName, "rv");
        var r = await Cli.GwreproProcess.RunAsync("analyze", run, "--stop-servers", rendezvous);
        Assert.True(r.ExitCode == 0, r.StdErr);
        Assert.Contains("hand-built: 300 s of data in 200.0 s = 1.5 s'/s", r.StdOut);
        string md = File.ReadAllText(Path.Combine(run, "report", "report.md"));
        Assert.Contains("no server metrics were scraped", md);
        // No cleaned frames and no scores: each plot is skipped with a note saying where it looked.
        Assert.Contains($"hand-built: no ASD-ratio plot: no cleaned frames under file://{Path.Combine(run, "out", "cleaned")}/", md);
        Assert.Contains($"hand-built: no scores plot: no score files under file://{Path.Combine(run, "out", "scores")}/", md);
        Assert.DoesNotContain("asd-ratio.png", md);
        Assert.True(File.Exists(Path.Combine(rendezvous, "stop")));
    }

    [Fact]
    public async Task A_strain_only_run_reports_what_it_searched_and_says_why_there_is_no_cleaning()
    {
        string run = MakeRun(strainOnly: true);
        var r = await Cli.GwreproProcess.RunAsync("analyze", run);
        Assert.True(r.ExitCode == 0, r.StdErr);
        // [1000, 1400) less 8 s of padding each side is the one job search_H1_1008_384; it committed no score file.
        Assert.Contains("hand-built H1: 0 s searched of 400 s analyzable, strain-only (nothing cleaned) (16 s at segment edges, 384 s in failed or missing jobs); scores scores/index.lcf\n", r.StdOut);
        Assert.DoesNotContain(" s cleaned of ", r.StdOut);
        string md = File.ReadAllText(Path.Combine(run, "report", "report.md"));
        Assert.Contains("\n## Coverage: what was searched\n\n" +
                        "| run | detector | analyzable (s) | searched (s) | not searched: segment edges (s) | not searched: failed or missing jobs (s) | score files | cache |\n" +
                        "|---|---|---:|---:|---:|---:|---:|---|\n" +
                        "| hand-built | H1 | 400 | 0 | 16 | 384 | 0 | scores/index.lcf |\n\n" +
                        "Strain-only (no witnesses): the jobs clean nothing and write scores only; searched is the time the committed score files cover.", md);
        Assert.Contains("- hand-built H1: jobs not fully committed: search_H1_1008_384.\n", md);
        Assert.Contains("- hand-built: no ASD-ratio plot: strain-only workflow (no witnesses): the jobs cleaned nothing and wrote scores only, so there is no cleaned/raw ASD ratio.\n", md);
        Assert.DoesNotContain("what was cleaned", md);
        Assert.DoesNotContain("cleaned (s)", md);
        Assert.DoesNotContain("no cleaned frames under", md);
        string html = File.ReadAllText(Path.Combine(run, "report", "report.html"));
        Assert.Contains("<h2>Coverage: what was searched</h2>\n<table><tr><th>run</th><th>detector</th><th>analyzable (s)</th><th>searched (s)</th>", html);
        Assert.Contains("<tr><td>hand-built</td><td>H1</td><td>400</td><td>0</td><td>16</td><td>384</td><td>0</td><td>scores/index.lcf</td></tr>", html);
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "report", "summary.json")));
        var h1 = doc.RootElement.GetProperty("runs")[0].GetProperty("coverage")[0];
        Assert.True(h1.GetProperty("strain_only").GetBoolean());
        Assert.Equal((0.0, 0), (h1.GetProperty("searched_seconds").GetDouble(), h1.GetProperty("score_files").GetInt32()));
    }

    [Fact]
    public async Task A_run_without_metrics_exits_2_naming_where_it_looked_and_still_stops_servers()
    {
        string run = Path.Combine(_dir.FullName, "empty");
        Directory.CreateDirectory(run);
        File.WriteAllText(Path.Combine(run, "workflow.toml"), "[run]\nname = \"x\"\n[data]\nstart = 0\nend = 10\n[detectors.H1]\nstrain = \"H1:X\"\n[outputs]\nuri = \"out\"\n");
        string rendezvous = Path.Combine(_dir.FullName, "rv2");
        var r = await Cli.GwreproProcess.RunAsync("analyze", run, "--stop-servers", rendezvous);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("out/metrics/: no client metrics", r.StdErr);
        Assert.True(File.Exists(Path.Combine(rendezvous, "stop")));
    }
}
