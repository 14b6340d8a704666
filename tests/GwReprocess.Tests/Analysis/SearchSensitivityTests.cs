using System.Buffers.Binary;
using System.Text.Json;
using GwReprocess.Analysis;
using GwReprocess.Data;
using GwReprocess.Dsp;
using GwReprocess.Frames.Hdf5;
using GwReprocess.Jobs;
using GwReprocess.Simulation;
using GwReprocess.Time;

namespace GwReprocess.Tests.Analysis;

/// <summary>
/// Efficiency per network-SNR bin, the cluster-based false-alarm rate of the threshold, the ROC and the comparison of two searches,
/// from score files written as the client writes them, with a background and injection scores chosen so every figure is known.
/// </summary>
public sealed class SearchSensitivityTests : IDisposable
{
    internal static readonly GpsTime T0 = GpsTime.FromSeconds(1_000_000_000);
    private const double Rate = 4, Window = 1;

    // Injection part: 82 injections 2.5 s apart, so every window of the first score file overlaps some injection's
    // [t_c − τ(20 Hz) − 1, t_c + 1] and none is background; windows ending T0 + 1 … T0 + 205.75.
    private const int Injections = 82;
    private static double Tc(int k) => T0.Seconds + 1.5 + 2.5 * k;
    private const int InjectionWindows = 820;

    // Background part: 10 001 windows ending T0 + 300 … T0 + 2800, far from every injection. With 10 001 values the 99.9th
    // percentile sits on rank 9990 of 10 000: the 10 highest windows (the glitches) are exactly those above it.
    private const int BackgroundWindows = 10_001;
    private const double BackgroundStart = 300;

    /// <summary>SNR bins' found counts of the two searches (10 injections per bin), the 2 injections below SNR 4 never found.</summary>
    internal static readonly int[] BbhnetFound = [0, 1, 3, 5, 8, 9, 10, 10], BankFound = [1, 4, 7, 9, 10, 10, 10, 10];

    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("gwrepro-sensitivity-");

    public void Dispose() => _dir.Delete(true);

    /// <summary>Network SNR of injection k: 10 per bin of <see cref="SearchSensitivity.SnrEdges"/> from 4.1 in steps of 0.15, then two at SNR 3.</summary>
    private static double Snr(int k) => k < 80 ? SearchSensitivity.SnrEdges[k / 10] + 0.1 + 0.15 * (k % 10) : 3;

    private static BbhInjection Injection(int k)
    {
        var t = GpsTime.FromSeconds(Tc(k));
        return new BbhInjection(t, 30, 30, 1000, [new DetectorInjection("H1", t, 1, 0, Snr(k) / Math.Sqrt(2)), new DetectorInjection("L1", t, 1, 0, Snr(k) / Math.Sqrt(2))]);
    }

    /// <summary>
    /// Scores of one search under <paramref name="outputs"/>/scores as the client writes them. Background: frac(i φ + offset) × 0.9
    /// (below 0.9) with glitch clusters written over it at the given window indices (values 5, 5.5, 6, … in order). Injection k's four
    /// windows (ends in (t_c, t_c + 1]) score 10 when found, 6.25 when found in the 8–10 bin (between glitch values, for the ROC), else 0.3.
    /// </summary>
    internal static async Task<double[]> WriteSearchAsync(string outputs, int[] found, (int Start, int Length)[] glitches, double offset, double shift = 0)
    {
        var injection = new double[InjectionWindows];
        for (int k = 0; k < Injections; k++)
        {
            int bin = k < 80 ? k / 10 : -1;
            double score = bin >= 0 && k % 10 < found[bin] ? (bin == 2 ? 6.25 : 10) : 0.3;
            // Window i ends at T0 + 1 + i/4; t_c = T0 + 1.5 + 2.5k: the windows ending t_c + 0.25 … t_c + 1 are i = 10k + 3 … 10k + 6.
            for (int i = 10 * k + 3; i <= 10 * k + 6; i++) injection[i] = score;
        }
        var background = new double[BackgroundWindows];
        for (int i = 0; i < background.Length; i++) background[i] = (i * 0.6180339887498949 + offset) % 1 * 0.9;
        double glitch = 5;
        foreach (var (start, length) in glitches)
            for (int i = start; i < start + length; i++, glitch += 0.5) background[i] = glitch;

        string dir = Path.Combine(outputs, "scores");
        Directory.CreateDirectory(dir);
        var attributes = new Dictionary<string, object> { ["window_seconds"] = Window };
        foreach (var (first, values) in new[] { (1.0, injection), (BackgroundStart, background) })
        {
            var start = T0 + GpsDuration.FromSeconds(first + shift);
            var series = new TimeSeries(new ChannelName("H1L1:BBH_SCORE"), start, new SampleRate(Rate), values);
            await Hdf5TimeSeriesWriter.WriteAsync(Path.Combine(dir, $"H1L1-CLEAN_SCORES-{(long)start.Seconds - 1}-{values.Length / 4}.h5"), [series], attributes);
        }
        return background;
    }

    internal static readonly (int, int)[] BbhnetGlitches = [(1000, 1), (3000, 2), (5000, 3), (8000, 4)];
    internal static readonly (int, int)[] BankGlitches = [(2000, 3), (6000, 7)];

    private string InjectionCsv() => WriteInjectionTable(_dir.FullName);

    /// <summary>The injection table as the simulator writes it, in <paramref name="directory"/>.</summary>
    internal static string WriteInjectionTable(string directory)
    {
        string path = Path.Combine(directory, InjectionTable.FileName);
        File.WriteAllText(path, InjectionTable.Format(["H1", "L1"], Enumerable.Range(0, Injections).Select(Injection)));
        return path;
    }

    private static async Task<InjectionRecovery> ReadAsync(string outputs, string table)
    {
        using var o = RunOutputs.Open(outputs, outputs);
        var (search, note) = await InjectionRecovery.ComputeAsync(o, null, outputs, table, 12, CancellationToken.None);
        Assert.True(search is not null, note);
        return search;
    }

    /// <summary>Livetime of the background file: 10 001 windows × the 0.25 s stride, in hours.</summary>
    internal const double LivetimeHours = BackgroundWindows / Rate / 3600;

    [Fact]
    public async Task Threshold_far_per_hour_bins_and_roc_match_the_hand_computed_values()
    {
        string outputs = Path.Combine(_dir.FullName, "bbhnet");
        var background = await WriteSearchAsync(outputs, BbhnetFound, BbhnetGlitches, 0);
        var search = await ReadAsync(outputs, InjectionCsv());
        var x = SearchSensitivity.Compute(search);

        // Threshold: NumPy's percentile of the background, which is the largest non-glitch value.
        Assert.Equal(BackgroundWindows, search.BackgroundScores);
        Assert.Equal(Percentiles.Of(background, 99.9), x.Threshold, 12);
        Assert.Equal(background.Where(v => v < 1).Max(), x.Threshold, 9);

        // 10 glitch windows in clusters of 1, 2, 3 and 4: 4 events in 10 001 × 0.25 s.
        Assert.Equal(BackgroundWindows, x.BackgroundWindows);
        Assert.Equal(10, x.WindowsAboveThreshold);
        Assert.Equal(4, x.BackgroundEvents);
        Assert.Equal(2500.25 / 3600, x.LivetimeHours, 12);
        Assert.Equal(4 * 3600 / 2500.25, x.FarPerHour, 9);       // 5.759 per hour
        Assert.Equal(10.0 / 10_001, x.NaiveFap, 15);
        Assert.Equal(14_400, x.WindowsPerHour, 9);
        Assert.Equal(10.0 / 10_001 * 14_400, x.NaiveFarPerHour, 9); // 14.40 per hour

        Assert.Equal([4.0, 6, 8, 10, 12, 14, 16, 20], x.Efficiency.Select(b => b.SnrLow));
        Assert.Null(x.Efficiency[^1].SnrHigh);
        Assert.Equal(Enumerable.Repeat(10, 8), x.Efficiency.Select(b => b.Total));
        Assert.Equal(BbhnetFound, x.Efficiency.Select(b => b.Found));
        Assert.Equal(82, x.InjectionsScored);
        Assert.Equal(2, x.InjectionsBelowBins);
        Assert.Equal(8.1 + 0.15 * 4.5, x.Efficiency[2].MeanSnr, 9);
        // 3 of 10: binomial σ = √(0.3 × 0.7 / 10); 10 of 10: σ 0, Wilson (z = 1) lower end n / (n + 1).
        Assert.Equal(Math.Sqrt(0.021), x.Efficiency[2].Sigma, 12);
        Assert.Equal(0, x.Efficiency[7].Sigma);
        Assert.Equal(10.0 / 11, x.Efficiency[7].WilsonLow, 12);
        Assert.Equal(1, x.Efficiency[7].WilsonHigh, 12);
        Assert.Equal(0.5 - Math.Sqrt(0.0275) / 1.1, x.Efficiency[3].WilsonLow, 12);

        // ROC of the 60 injections with SNR ≥ 8: at the threshold 45 found; at 6.5 (the 7th highest background score) the 8–10
        // bin's finds (6.25) drop out, 6 windows stay above in 2 clusters (7, 7.5 | 8 … 9.5).
        Assert.Equal(8, x.RocMinSnr);
        Assert.Equal(60, x.RocInjections);
        var at = Assert.Single(x.Roc, p => p.Threshold == x.Threshold);
        Assert.Equal(0.75, at.Efficiency, 12);
        Assert.Equal(x.FarPerHour, at.FarPerHour, 12);
        var high = Assert.Single(x.Roc, p => p.Threshold == 6.5);
        Assert.Equal(42.0 / 60, high.Efficiency, 12);
        Assert.Equal(2 * 3600 / 2500.25, high.FarPerHour, 9);
        Assert.Equal(0, x.Roc[0].FarPerHour); // the highest background score: nothing above it
        Assert.True(x.Roc.Zip(x.Roc.Skip(1)).All(p => p.First.Threshold > p.Second.Threshold));
        // Down to the background's 90th percentile: the 1001st highest score.
        Assert.Equal(background.OrderDescending().ElementAt(1000), x.Roc[^1].Threshold);
    }

    [Fact]
    public async Task Comparison_counts_the_same_injections_at_each_search_s_own_threshold_and_plots_both()
    {
        string table = InjectionCsv();
        string bbhnet = Path.Combine(_dir.FullName, "bbhnet"), bank = Path.Combine(_dir.FullName, "bank", "out");
        await WriteSearchAsync(bbhnet, BbhnetFound, BbhnetGlitches, 0);
        var bankBackground = await WriteSearchAsync(bank, BankFound, BankGlitches, 0.3);
        var primary = await ReadAsync(bbhnet, table);

        // An outputs location named directly: the label defaults to its last path segment, or is given after '='.
        var cmp = await SearchComparison.ComputeAsync("bbhnet", bbhnet, primary, [bank, bank + "=bank"], CancellationToken.None);
        Assert.Equal(82, cmp.CommonInjections);
        Assert.Equal(["bbhnet", "out", "bank"], cmp.Searches.Select(s => s.Label));
        var b = cmp.Searches[2].Sensitivity;
        Assert.Equal(bankBackground.Where(v => v < 1).Max(), b.Threshold, 9);
        Assert.NotEqual(cmp.Searches[0].Sensitivity.Threshold, b.Threshold);
        Assert.Equal(2, b.BackgroundEvents); // clusters of 3 and 7
        Assert.Equal(2 / LivetimeHours, b.FarPerHour, 9);
        Assert.Equal(BankFound, b.Efficiency.Select(e => e.Found));
        Assert.Equal(BbhnetFound, cmp.Searches[0].Sensitivity.Efficiency.Select(e => e.Found));
        Assert.Equal(56.0 / 60, Assert.Single(b.Roc, p => p.Threshold == b.Threshold).Efficiency, 12);

        var (header, rows) = SensitivitySection.EfficiencyTable([("bbhnet", cmp.Searches[0].Sensitivity), ("bank", b)]);
        Assert.Equal(["network SNR", "bbhnet: found / total", "bbhnet: efficiency ± σ [68 %]", "bank: found / total", "bank: efficiency ± σ [68 %]"], header);
        Assert.Equal(["8–10", "3 / 10", "0.300 ± 0.145 [0.179, 0.458]", "7 / 10", "0.700 ± 0.145 [0.542, 0.821]"], rows[2]);
        Assert.Equal(["≥ 20", "10 / 10", "1.000 ± 0.000 [0.909, 1.000]", "10 / 10", "1.000 ± 0.000 [0.909, 1.000]"], rows[7]);

        var both = cmp.Searches.Select(s => (s.Label, s.Sensitivity)).ToList();
        string efficiency = Path.Combine(_dir.FullName, "efficiency.png"), roc = Path.Combine(_dir.FullName, "roc.png");
        ReportPlots.EfficiencyPlot(both, efficiency);
        ReportPlots.RocPlot(both, roc);
        Assert.Equal((ReportPlots.Width, ReportPlots.Height), PngSize(efficiency));
        Assert.Equal((ReportPlots.Width, ReportPlots.Height), PngSize(roc));
    }

    [Fact]
    public async Task A_search_with_part_of_the_span_compares_on_the_injections_both_scored()
    {
        string table = InjectionCsv();
        string bbhnet = Path.Combine(_dir.FullName, "bbhnet"), late = Path.Combine(_dir.FullName, "late");
        await WriteSearchAsync(bbhnet, BbhnetFound, BbhnetGlitches, 0);
        // 100 s later: its windows end T0 + 101 … T0 + 305.75 (and its background T0 + 400 …), so injections with t_c < T0 + 101 go unscored.
        await WriteSearchAsync(late, BankFound, BankGlitches, 0.3, shift: 100);
        var cmp = await SearchComparison.ComputeAsync("bbhnet", bbhnet, await ReadAsync(bbhnet, table), [late], CancellationToken.None);
        int expected = Enumerable.Range(0, Injections).Count(k => Tc(k) >= T0.Seconds + 100);
        Assert.Equal(expected, cmp.CommonInjections);
        Assert.All(cmp.Searches, s => Assert.Equal(expected, s.Sensitivity.InjectionsScored));
    }

    [Fact]
    public async Task A_compared_search_whose_span_does_not_overlap_is_refused_naming_both_spans()
    {
        string table = InjectionCsv();
        string bbhnet = Path.Combine(_dir.FullName, "bbhnet"), elsewhere = Path.Combine(_dir.FullName, "elsewhere");
        await WriteSearchAsync(bbhnet, BbhnetFound, BbhnetGlitches, 0);
        await WriteSearchAsync(elsewhere, BankFound, BankGlitches, 0.3, shift: 10_000);
        var primary = await ReadAsync(bbhnet, table);
        var e = await Assert.ThrowsAsync<BadInputException>(() => SearchComparison.ComputeAsync("bbhnet", bbhnet, primary, [elsewhere], CancellationToken.None));
        Assert.Equal($"--compare {elsewhere}: its scored span [1000010000.00, 1000012800.00) does not overlap bbhnet's [1000000000.00, 1000002800.00)", e.Message);
    }

    [Fact]
    public void Without_injections_the_rate_stands_alone_and_a_gap_splits_a_cluster()
    {
        var background = new double[BackgroundWindows];
        for (int i = 0; i < background.Length; i++) background[i] = i * 0.6180339887498949 % 1 * 0.9;
        double glitch = 5;
        foreach (var (start, length) in BbhnetGlitches)
            for (int i = start; i < start + length; i++, glitch += 0.5) background[i] = glitch;
        // Two files split inside the 2-window cluster at 3000–3001: back to back it stays one event; 10 s apart it is two.
        TimeSeries Part(int from, int to, double gap) => new(new ChannelName("H1L1:BBH_SCORE"),
            T0 + GpsDuration.FromSeconds(1 + from / Rate + gap), new SampleRate(Rate), background[from..to]);
        var joined = SearchSensitivity.Compute(InjectionRecovery.Evaluate([Part(0, 3001, 0), Part(3001, BackgroundWindows, 0)], Window, [], 12));
        var split = SearchSensitivity.Compute(InjectionRecovery.Evaluate([Part(0, 3001, 0), Part(3001, BackgroundWindows, 10)], Window, [], 12));
        Assert.Equal(4, joined.BackgroundEvents);
        Assert.Equal(5, split.BackgroundEvents);
        Assert.Equal(5 / LivetimeHours, split.FarPerHour, 9);
        Assert.Equal(10, split.WindowsAboveThreshold);

        Assert.Equal(0, joined.InjectionsScored);
        Assert.All(joined.Efficiency, b => Assert.Equal(0, b.Total));
        Assert.All(joined.Roc, p => Assert.True(double.IsNaN(p.Efficiency)));
        var summary = new RunSummary("background-only", 1, 0, 1, 1, 1, 1, new Quartiles(1, 1, 1), 1, null, [], null, null) { Sensitivity = joined };
        string md = SensitivitySection.Markdown([summary]);
        Assert.Contains("| 10001 | 0.6945 | 10 | 4 | 5.759 | 0.001 | 14400 | 14.4 |", md);
        Assert.DoesNotContain("found / total", md);
    }

    internal static (int Width, int Height) PngSize(string path)
    {
        var bytes = File.ReadAllBytes(path);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }, bytes[..8]);
        Assert.Equal("IHDR", System.Text.Encoding.ASCII.GetString(bytes, 12, 4));
        return (BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16)), BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20)));
    }
}
