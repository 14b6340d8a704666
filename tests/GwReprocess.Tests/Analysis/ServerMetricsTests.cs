using GwReprocess.Analysis;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace GwReprocess.Tests.Analysis;

public class ServerMetricsTests
{
    private static string Exposition(int n) => $$"""
        # HELP nv_inference_request_success Number of successful inference requests, all batch sizes
        # TYPE nv_inference_request_success counter
        nv_inference_request_success{model="gwe2e",version="1"} {{10 * n}}
        nv_inference_request_success{model="snapshotter",version="1"} {{10 * n}}
        # TYPE nv_inference_request_failure counter
        nv_inference_request_failure{model="gwe2e",reason="BACKEND",version="1"} {{n}}
        nv_inference_request_failure{model="gwe2e",reason="REJECTED",version="1"} 0
        nv_inference_count{model="gwe2e",version="1"} {{80 * n}}
        nv_inference_count{model="snapshotter",version="1"} {{80 * n}}
        nv_inference_exec_count{model="gwe2e",version="1"} {{10 * n}}
        nv_inference_request_duration_us{model="gwe2e",version="1"} {{1000 * n}}
        nv_inference_queue_duration_us{model="gwe2e",version="1"} {{100 * n}}
        nv_inference_compute_input_duration_us{model="gwe2e",version="1"} {{50 * n}}
        nv_inference_compute_infer_duration_us{model="gwe2e",version="1"} {{800 * n}}
        nv_inference_compute_output_duration_us{model="gwe2e",version="1"} {{50 * n}}
        nv_cpu_utilization 0.25
        """;

    [Fact]
    public void Parses_tritons_exposition()
    {
        var samples = PrometheusText.Parse(Exposition(3));
        Assert.Equal(13, samples.Count);
        Assert.Equal("REJECTED", samples[3].Label("reason"));
        var counters = ModelCounters.FromSamples(samples);
        var e2e = counters.Single(c => c.Model == "gwe2e");
        Assert.Equal((30, 3, 240, 30, 2400), (e2e.RequestSuccess, e2e.RequestFailure, e2e.Count, e2e.ExecCount, e2e.ComputeInferUs));
        Assert.Equal(["gwe2e", "snapshotter"], counters.Select(c => c.Model).ToArray());
        Assert.Throws<BadInputException>(() => PrometheusText.Parse("nv_x{model=\"a} 1"));
    }

    [Fact]
    public void Differencing_gives_per_interval_counts_and_survives_a_restart()
    {
        var d = new CounterDifferencer("127.0.0.1:8002");
        Assert.Empty(d.Add(100, ModelCounters.FromSamples(PrometheusText.Parse(Exposition(1)))));
        var second = d.Add(102, ModelCounters.FromSamples(PrometheusText.Parse(Exposition(4))));
        var e2e = second.Single(r => r.Model == "gwe2e");
        Assert.Equal(2, e2e.IntervalSeconds);
        Assert.Equal(240, e2e.Count);          // (4 − 1) × 80
        Assert.Equal(120, e2e.InferencesPerSecond);
        Assert.Equal((100.0 / 10, 900.0 / 10), e2e.MeanLatencyUs);
        // The server restarted: counters fell back; the new values are what happened since.
        var afterRestart = d.Add(103, ModelCounters.FromSamples(PrometheusText.Parse(Exposition(2)))).Single(r => r.Model == "gwe2e");
        Assert.Equal(160, afterRestart.Count);
    }

    [Fact]
    public void Pending_gauge_and_four_failure_reasons_are_read_as_gwrepro_serve_exports_them()
    {
        // gwrepro serve (as Triton) exports all four reasons and the pending-request gauge; the gauge goes up and down between scrapes.
        static string WithGauge(int n, int pending) => Exposition(n) + $$"""

            nv_inference_request_failure{model="gwe2e",reason="CANCELED",version="1"} {{2 * n}}
            nv_inference_request_failure{model="gwe2e",reason="OTHER",version="1"} 1
            # HELP nv_inference_pending_request_count Instantaneous number of pending requests awaiting execution per-model.
            # TYPE nv_inference_pending_request_count gauge
            nv_inference_pending_request_count{model="gwe2e",version="1"} {{pending}}
            """;
        var d = new CounterDifferencer("127.0.0.1:8002");
        Assert.Empty(d.Add(100, ModelCounters.FromSamples(PrometheusText.Parse(WithGauge(1, 7)))));
        var e2e = d.Add(102, ModelCounters.FromSamples(PrometheusText.Parse(WithGauge(4, 0)))).Single(r => r.Model == "gwe2e");
        // Failures: BACKEND 4−1 plus CANCELED 8−2; OTHER unchanged. A gauge falling from 7 to 0 is neither differenced nor taken for a restart.
        Assert.Equal(9, e2e.RequestFailure);
        Assert.Equal(240, e2e.Count);
        Assert.Equal(30, e2e.RequestSuccess);
    }

    [Fact]
    public async Task Scrapes_a_real_endpoint_on_loopback_into_a_csv()
    {
        int n = 0;
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        await using var app = builder.Build();
        app.MapGet("/metrics", () => Results.Text(Exposition(Interlocked.Increment(ref n)), "text/plain; charset=utf-8"));
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

        var dir = Directory.CreateTempSubdirectory("gwrepro-scrape-");
        try
        {
            string csv = Path.Combine(dir.FullName, "server-metrics.csv");
            var r = await Cli.GwreproProcess.RunAsync("analyze", "scrape", "--endpoint", address + "/metrics", "--interval", "0.2", "--duration", "1.5", "--out", csv);
            Assert.Equal(0, r.ExitCode);
            var rows = ServerMetricsInterval.ReadCsv(csv);
            Assert.True(rows.Count >= 4, $"only {rows.Count} rows");
            // Every interval saw exactly one more exposition step: 80 gwe2e inferences.
            Assert.All(rows.Where(x => x.Model == "gwe2e"), x => Assert.Equal(80, x.Count));
            // A slow round makes PeriodicTimer tick again at once, so intervals vary; the timestamps are the real ones.
            Assert.All(rows, x => Assert.InRange(x.IntervalSeconds, 1e-4, 2));
        }
        finally
        {
            dir.Delete(true);
            await app.StopAsync();
        }
    }
}
