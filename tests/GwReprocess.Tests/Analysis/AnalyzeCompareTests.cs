using System.Text.Json;
using GwReprocess.Jobs;
using static GwReprocess.Tests.Analysis.SearchSensitivityTests;

namespace GwReprocess.Tests.Analysis;

/// <summary><c>gwrepro analyze RUN --compare OTHER=label</c> end to end: the report's JSON, tables and plots, and the refusal of a span that does not overlap.</summary>
public sealed class AnalyzeCompareTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("gwrepro-compare-");

    public void Dispose() => _dir.Delete(true);

    /// <summary>A run directory named <paramref name="name"/> with client metrics (the primary run) or without (a compared one).</summary>
    private string MakeRun(string name, bool metrics)
    {
        string run = Path.Combine(_dir.FullName, name);
        Directory.CreateDirectory(Path.Combine(run, "frames"));
        File.WriteAllText(Path.Combine(run, "workflow.toml"), $"""
            [run]
            name = "{name}"
            [data]
            start = {T0.Seconds}
            end = {T0.Seconds + 2800}
            source = "simulated"
            [data.simulate]
            directory = "frames"
            [detectors.H1]
            strain = "H1:GDS-CALIB_STRAIN"
            [detectors.L1]
            strain = "L1:GDS-CALIB_STRAIN"
            [inference]
            servers = 1
            clients_per_server = 1
            rate = 4
            batch = 8
            [outputs]
            uri = "out"
            """);
        if (metrics)
        {
            Directory.CreateDirectory(Path.Combine(run, "out", "metrics"));
            File.WriteAllLines(Path.Combine(run, "out", "metrics", "clean_H1L1_1000000000_2800.csv"),
            [
                JobMetricsCsv.Header,
                "clean_H1L1_1000000000_2800,server0,0,1700000000.000000,1700000100.000000,1000000000,1000002800,2800,11200,1400,3.5,7,9,1000,2000,0,0",
            ]);
            WriteInjectionTable(Path.Combine(run, "frames"));
        }
        return run;
    }

    [Fact]
    public async Task Compare_writes_both_searches_into_json_tables_and_plots()
    {
        string run = MakeRun("bbhnet", metrics: true), bank = MakeRun("template-bank", metrics: false);
        await WriteSearchAsync(Path.Combine(run, "out"), BbhnetFound, BbhnetGlitches, 0);
        await WriteSearchAsync(Path.Combine(bank, "out"), BankFound, BankGlitches, 0.3);

        var r = await Cli.GwreproProcess.RunAsync("analyze", run, "--json", "--compare", bank + "=bank");
        Assert.True(r.ExitCode == 0, r.StdErr);
        using var doc = JsonDocument.Parse(r.StdOut);
        var s = doc.RootElement.GetProperty("runs")[0];
        var own = s.GetProperty("sensitivity");
        Assert.Equal(4, own.GetProperty("background_events").GetInt32());
        Assert.Equal(4 / LivetimeHours, own.GetProperty("far_per_hour").GetDouble(), 9);
        Assert.Equal(10.0 / 10_001 * 14_400, own.GetProperty("naive_far_per_hour").GetDouble(), 9);
        Assert.Equal(BbhnetFound, own.GetProperty("efficiency").EnumerateArray().Select(b => b.GetProperty("found").GetInt32()));
        Assert.True(own.GetProperty("roc").GetArrayLength() > 10);
        var cmp = s.GetProperty("comparison");
        Assert.Equal(82, cmp.GetProperty("common_injections").GetInt32());
        var searches = cmp.GetProperty("searches").EnumerateArray().ToList();
        Assert.Equal(["bbhnet", "bank"], searches.Select(x => x.GetProperty("label").GetString()));
        var b = searches[1].GetProperty("sensitivity");
        Assert.Equal(2, b.GetProperty("background_events").GetInt32());
        Assert.Equal(BankFound, b.GetProperty("efficiency").EnumerateArray().Select(e => e.GetProperty("found").GetInt32()));

        string report = Path.Combine(run, "report");
        string md = File.ReadAllText(Path.Combine(report, "report.md"));
        Assert.Contains("| search | threshold | background windows | livetime (h) | windows above | events (clusters) | FAR (per hour) |", md);
        Assert.Contains($"| bbhnet | {own.GetProperty("threshold").GetDouble().ToString("G6", System.Globalization.CultureInfo.InvariantCulture)} | 10001 |", md);
        Assert.Contains("| 10001 | 0.6945 | 10 | 4 | 5.759 | 0.001 | 14400 | 14.4 |", md);
        Assert.Contains("| 10001 | 0.6945 | 10 | 2 | 2.88 | 0.001 | 14400 | 14.4 |", md);
        Assert.Contains("| 8–10 | 3 / 10 | 0.300 ± 0.145 [0.179, 0.458] | 7 / 10 | 0.700 ± 0.145 [0.542, 0.821] |", md);
        Assert.Contains("**bbhnet compared on the same injections (82 scored by every search)**", md);
        foreach (var png in new[] { "efficiency.png", "roc.png" })
        {
            Assert.Contains($"]({png})", md);
            Assert.Equal((GwReprocess.Analysis.ReportPlots.Width, GwReprocess.Analysis.ReportPlots.Height), PngSize(Path.Combine(report, png)));
        }
        string html = System.Net.WebUtility.HtmlDecode(File.ReadAllText(Path.Combine(report, "report.html")));
        Assert.Contains("<th>bank: efficiency ± σ [68 %]</th>", html);
        Assert.Contains("<td>0.700 ± 0.145 [0.542, 0.821]</td>", html);

        // The same figures on the terminal, one line per search for the rate and one for the bins.
        var text = await Cli.GwreproProcess.RunAsync("analyze", run, "--compare", bank + "=bank", "--out", Path.Combine(_dir.FullName, "again"));
        Assert.True(text.ExitCode == 0, text.StdErr);
        Assert.Contains(" 4 background events (clusters of consecutive above-threshold windows) in 0.6945 h = 5.759 per hour (naive: FAP 0.001 × 14400 windows/h = 14.4 per hour)", text.StdOut);
        Assert.Contains("bank: efficiency by network SNR (82 injections every search scored): 4–6 1/10, 6–8 4/10, 8–10 7/10, 10–12 9/10, 12–14 10/10, 14–16 10/10, 16–20 10/10, ≥ 20 10/10", text.StdOut);
    }

    [Fact]
    public async Task Compare_with_a_span_that_does_not_overlap_exits_2_with_one_line()
    {
        string run = MakeRun("bbhnet", metrics: true), other = MakeRun("later", metrics: false);
        await WriteSearchAsync(Path.Combine(run, "out"), BbhnetFound, BbhnetGlitches, 0);
        await WriteSearchAsync(Path.Combine(other, "out"), BankFound, BankGlitches, 0.3, shift: 10_000);

        var r = await Cli.GwreproProcess.RunAsync("analyze", run, "--compare", other);
        Assert.Equal(2, r.ExitCode);
        Assert.Equal($"gwrepro analyze: --compare {other}: its scored span [1000010000.00, 1000012800.00) does not overlap bbhnet's [1000000000.00, 1000002800.00)",
            r.StdErr.Trim());
        Assert.False(File.Exists(Path.Combine(run, "report", "report.md")));
    }
}
