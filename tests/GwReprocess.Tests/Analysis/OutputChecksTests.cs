using System.Buffers.Binary;
using System.Text.Json;
using GwReprocess.Analysis;
using GwReprocess.Data;
using GwReprocess.Dsp;
using GwReprocess.Frames.Gwf;
using GwReprocess.Frames.Hdf5;
using GwReprocess.Jobs;
using GwReprocess.Simulation;
using GwReprocess.Time;
using GwReprocess.Workflow;

namespace GwReprocess.Tests.Analysis;

/// <summary>The report's data-quality figures from hand-made run directories: cleaned/raw ASD ratio and scores against injections.</summary>
public sealed class OutputChecksTests : IDisposable
{
    private static readonly GpsTime T0 = GpsTime.FromSeconds(1_000_000_000);
    private const int Seconds = 32;
    private const double LineAmplitude = 10;

    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("gwrepro-checks-");

    public void Dispose() => _dir.Delete(true);

    private string Run => Path.Combine(_dir.FullName, "run");

    /// <param name="localBucket">Name the raw frames directory as a local bucket (a path relative to the run) instead of a simulation.</param>
    private void WriteWorkflow(bool localBucket = false) =>
        File.WriteAllText(Path.Combine(Run, "workflow.toml"), $"""
            [run]
            name = "checks"
            [data]
            start = {T0.Seconds}
            end = {T0.Seconds + Seconds}
            {(localBucket ? "source = \"bucket\"\nbucket = \"frames\"" : "source = \"simulated\"\n[data.simulate]\ndirectory = \"frames\"")}
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
            channel_suffix = "_DEEPCLEAN"
            frame_type = "CLEAN"
            """);

    private static double[] Gaussian(int n, int seed)
    {
        var rng = new Random(seed);
        var x = new double[n];
        for (int i = 0; i < n; i++)
            x[i] = Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
        return x;
    }

    /// <summary>
    /// Raw H1 strain = white noise + a 60 Hz line at 16384 Hz (simulated frames directory); cleaned H1 = the same noise without
    /// the line, resampled to 4096 Hz (outputs/cleaned). L1 has raw frames but no cleaned ones.
    /// </summary>
    private async Task WriteFramesAsync()
    {
        Directory.CreateDirectory(Path.Combine(Run, "frames"));
        var span = Segment.FromStart(T0, GpsDuration.FromSeconds(Seconds));
        var noise = Gaussian(Seconds * 16384, 1);
        var raw = new double[noise.Length];
        for (int i = 0; i < raw.Length; i++) raw[i] = noise[i] + LineAmplitude * Math.Sin(2 * Math.PI * 60 * i / 16384.0);
        var rawSeries = new TimeSeries(new ChannelName("H1:GDS-CALIB_STRAIN"), T0, new SampleRate(16384), raw);
        var raw16k = new GwfWriteOptions { Compression = GwfCompression.Raw };
        await GwfWriter.WriteFileAsync(Path.Combine(Run, "frames", GwfWriter.FileName("H", "H1_SIM", span)), GwfFrameData.Split([rawSeries], [span]), raw16k);
        var l1 = new TimeSeries(new ChannelName("L1:GDS-CALIB_STRAIN"), T0, new SampleRate(16384), Gaussian(Seconds * 16384, 2));
        await GwfWriter.WriteFileAsync(Path.Combine(Run, "frames", GwfWriter.FileName("L", "L1_SIM", span)), GwfFrameData.Split([l1], [span]), raw16k);

        var cleaned = new TimeSeries(new ChannelName("H1:GDS-CALIB_STRAIN"), T0, new SampleRate(16384), noise)
            .Resample(new SampleRate(4096)).WithChannel(new ChannelName("H1:GDS-CALIB_STRAIN_DEEPCLEAN"));
        string dir = Path.Combine(Run, "out", "cleaned", "H1");
        Directory.CreateDirectory(dir);
        await GwfWriter.WriteFileAsync(Path.Combine(dir, GwfWriter.FileName("H", "H1_CLEAN", span)), GwfFrameData.Split([cleaned], [span]));
    }

    /// <summary>Injections of known SNR: loud and spiked, loud and missed, quiet and spiked.</summary>
    private static readonly (double Offset, double Snr)[] InjectionSpecs = [(8.3, 20), (16.6, 15), (24.1, 8)];

    private static BbhInjection Injection(double offset, double snr) =>
        new(T0 + GpsDuration.FromSeconds(offset), 30, 30, 1000,
            [new DetectorInjection("H1", T0 + GpsDuration.FromSeconds(offset), 1, 0, snr / Math.Sqrt(2)),
             new DetectorInjection("L1", T0 + GpsDuration.FromSeconds(offset), 1, 0, snr / Math.Sqrt(2))]);

    /// <summary>
    /// Scores at r = 4 Hz over windows of 1 s, as two files: uniform background in [0, 1); the window containing the first and third
    /// injections' coalescence with the latest start gets 5 (the others containing it stay background).
    /// </summary>
    private async Task<(double[] Times, double[] Values)> WriteScoresAsync()
    {
        const double rate = 4, window = 1;
        int n = (int)((Seconds - window) * rate) + 1;
        var rng = new Random(3);
        var times = new double[n];
        var values = new double[n];
        for (int i = 0; i < n; i++)
        {
            times[i] = T0.Seconds + window + i / rate;
            values[i] = rng.NextDouble();
        }
        foreach (var (offset, snr) in InjectionSpecs)
        {
            if (snr == 15) continue;
            double tc = T0.Seconds + offset;
            int last = -1;
            for (int i = 0; i < n; i++) if (times[i] > tc && times[i] - window <= tc) last = i;
            values[last] = 5;
        }
        Directory.CreateDirectory(Path.Combine(Run, "out", "scores"));
        int half = n / 2;
        var attributes = new Dictionary<string, object> { ["window_seconds"] = window };
        for (int part = 0; part < 2; part++)
        {
            int a = part == 0 ? 0 : half, b = part == 0 ? half : n;
            var series = new TimeSeries(new ChannelName("H1L1:BBH_SCORE"), GpsTime.FromSeconds(times[a]), new SampleRate(rate), values[a..b]);
            await Hdf5TimeSeriesWriter.WriteAsync(Path.Combine(Run, "out", "scores", $"H1L1-CLEAN_SCORES-{T0.Seconds + part * 16}-16.h5"), [series], attributes);
        }
        File.WriteAllText(Path.Combine(Run, "frames", InjectionTable.FileName),
            InjectionTable.Format(["H1", "L1"], InjectionSpecs.Select(s => Injection(s.Offset, s.Snr))));
        return (times, values);
    }

    private static (int Width, int Height) PngSize(string path)
    {
        var bytes = File.ReadAllBytes(path);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }, bytes[..8]);
        Assert.Equal("IHDR", System.Text.Encoding.ASCII.GetString(bytes, 12, 4));
        return (BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16)), BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20)));
    }

    [Fact]
    public async Task Asd_ratio_removes_the_60_Hz_line_and_is_one_elsewhere_and_plots()
    {
        Directory.CreateDirectory(Run);
        WriteWorkflow();
        await WriteFramesAsync();
        var workflow = WorkflowConfig.Load(Path.Combine(Run, "workflow.toml"));
        using var outputs = RunOutputs.Open("out", Run);
        var (result, note) = await CleaningComparison.ComputeAsync(outputs, workflow, Run, null, CancellationToken.None);
        Assert.True(result is not null, note);
        Assert.Equal(T0.Seconds, result.FrameGps);
        Assert.Equal(Seconds, result.FrameSeconds);
        Assert.Equal(4, result.FftSeconds);
        Assert.Equal(4096, result.SampleRate);
        var h1 = Assert.Single(result.Detectors);
        Assert.Equal("H1", h1.Ifo);
        Assert.Equal("H1:GDS-CALIB_STRAIN_DEEPCLEAN", h1.CleanedChannel);
        Assert.Contains(result.Notes, n => n.StartsWith("L1: no cleaned frame overlaps", StringComparison.Ordinal));
        Assert.Equal(10, h1.Frequencies[0]);
        Assert.Equal(1000, h1.Frequencies[^1]);

        // White noise of unit variance at 16384 Hz: one-sided PSD 2/16384 per Hz. The line of amplitude A sits on the 60 Hz bin
        // (0.25 Hz bins) with power A²/2 spread over the Hann window's 1.5-bin noise bandwidth: ratio ≈ √(S_n / (A²/2 / 0.375)).
        double expected = Math.Sqrt(2.0 / 16384 / (LineAmplitude * LineAmplitude / 2 / 0.375));
        Assert.InRange(h1.RatioAt60Hz, expected / 3, expected * 3);
        Assert.True(h1.RatioAt60Hz < 0.01);
        // The same noise on both sides: the ratio is 1 away from the line's three bins (Hann leaks into the neighbours only).
        Assert.Equal(1, h1.MedianRatio20To500Hz, 6);
        Assert.Equal(0, h1.FractionAbove110Percent20To500Hz);
        Assert.Equal(1, h1.MaxRatio20To500Hz, 3);
        for (int i = 0; i < h1.Frequencies.Length; i++)
            if (Math.Abs(h1.Frequencies[i] - 60) > 0.3) Assert.Equal(1, h1.Ratio[i], 3);

        string png = Path.Combine(_dir.FullName, "asd.png");
        ReportPlots.AsdRatioPlot(result, png);
        Assert.Equal((ReportPlots.Width, ReportPlots.Height), PngSize(png));

        // A GPS time no cleaned frame holds is a note, not a crash.
        var (none, why) = await CleaningComparison.ComputeAsync(outputs, workflow, Run, T0 + GpsDuration.FromSeconds(100), CancellationToken.None);
        Assert.Null(none);
        Assert.Contains("contains GPS 1000000100", why);
    }

    [Fact]
    public async Task Asd_ratio_reads_a_local_bucket_named_relative_to_the_run_directory()
    {
        // The client resolves a relative [data] bucket against the workflow's directory (the run directory); the raw side of the
        // comparison must find the same frames whatever the analysis process's working directory is.
        Directory.CreateDirectory(Run);
        WriteWorkflow(localBucket: true);
        await WriteFramesAsync();
        var workflow = WorkflowConfig.Load(Path.Combine(Run, "workflow.toml"));
        Assert.Equal(DataSourceKind.Bucket, workflow.Data.Kind);
        Assert.False(Directory.Exists(Path.Combine(Environment.CurrentDirectory, "frames")));
        using var outputs = RunOutputs.Open("out", Run);
        var (result, note) = await CleaningComparison.ComputeAsync(outputs, workflow, Run, null, CancellationToken.None);
        Assert.True(result is not null, note);
        Assert.True(Assert.Single(result.Detectors).RatioAt60Hz < 0.01);
    }

    [Fact]
    public async Task Scores_threshold_and_loud_injections_above_it_are_counted_and_plotted()
    {
        Directory.CreateDirectory(Path.Combine(Run, "frames"));
        WriteWorkflow();
        var (times, values) = await WriteScoresAsync();
        var workflow = WorkflowConfig.Load(Path.Combine(Run, "workflow.toml"));
        using var outputs = RunOutputs.Open("out", Run);
        var (search, note) = await InjectionRecovery.ComputeAsync(outputs, workflow, Run, null, 12, CancellationToken.None);
        Assert.True(search is not null, note);
        Assert.Equal("H1L1:BBH_SCORE", search.Channel);
        Assert.Equal(2, search.Files);
        Assert.Equal(1, search.WindowSeconds);
        Assert.Equal(times.Length, search.Scores);
        Assert.Equal(times, search.Times);
        Assert.Equal(3, search.Injections.Count);
        Assert.EndsWith(InjectionTable.FileName, search.InjectionTable);

        // Background by the documented rule: windows [e − 1, e) clear of every [t_c − τ(20 Hz) − 1, t_c + 1].
        double tau = TaylorF2.TimeToCoalescence(TaylorF2.ChirpMass(30, 30), 20);
        var background = new List<double>();
        for (int i = 0; i < times.Length; i++)
            if (InjectionSpecs.All(s => times[i] <= T0.Seconds + s.Offset - tau - 1 || times[i] - 1 >= T0.Seconds + s.Offset + 1))
                background.Add(values[i]);
        Assert.Equal(background.Count, search.BackgroundScores);
        Assert.Equal(Percentiles.Of(background, 99.9), search.Threshold, 12);
        Assert.True(search.Threshold < 1); // no spike leaked into the background

        // SNR 20 spiked (5 > threshold), SNR 15 not spiked (background-like), SNR 8 spiked but not loud.
        Assert.Equal([5.0, null, 5.0], search.Injections.Select(i => i.MaxScore is double m && m == 5 ? (double?)5 : null).ToArray());
        Assert.Equal(20, search.Injections[0].NetworkSnr, 9);
        Assert.Equal(2, search.Loud);
        Assert.Equal(1, search.LoudAboveThreshold);

        string png = Path.Combine(_dir.FullName, "scores.png");
        ReportPlots.ScoresPlot(search, png);
        Assert.Equal((ReportPlots.Width, ReportPlots.Height), PngSize(png));
    }

    [Fact]
    public async Task Analyze_puts_both_plots_and_their_numbers_in_the_report_and_json()
    {
        Directory.CreateDirectory(Run);
        WriteWorkflow();
        await WriteFramesAsync();
        await WriteScoresAsync();
        Directory.CreateDirectory(Path.Combine(Run, "out", "metrics"));
        File.WriteAllLines(Path.Combine(Run, "out", "metrics", "clean_H1L1_1000000000_32.csv"),
        [
            JobMetricsCsv.Header,
            "clean_H1L1_1000000000_32,server0,0,1700000000.000000,1700000016.000000,1000000000,1000000016,16,64,8,3.5,7,9,1000,2000,0,0",
            "clean_H1L1_1000000000_32,server0,0,1700000016.000000,1700000032.000000,1000000016,1000000032,16,64,8,3.5,7,9,1000,2000,0,0",
        ]);
        var r = await Cli.GwreproProcess.RunAsync("analyze", Run, "--json");
        Assert.True(r.ExitCode == 0, r.StdErr);
        using var doc = JsonDocument.Parse(r.StdOut);
        var s = doc.RootElement.GetProperty("runs")[0];
        var h1 = s.GetProperty("cleaning").GetProperty("detectors")[0];
        Assert.True(h1.GetProperty("ratio_at60_hz").GetDouble() < 0.01);
        Assert.Equal(1, h1.GetProperty("median_ratio20_to500_hz").GetDouble(), 6);
        Assert.False(h1.TryGetProperty("ratio", out _)); // arrays stay out of the summary
        Assert.Equal(1, s.GetProperty("search").GetProperty("loud_above_threshold").GetInt32());
        Assert.Equal(2, s.GetProperty("search").GetProperty("loud").GetInt32());

        string report = Path.Combine(Run, "report");
        string md = File.ReadAllText(Path.Combine(report, "report.md"));
        Assert.Contains("](asd-ratio.png)", md);
        Assert.Contains("](scores.png)", md);
        Assert.Contains("| checks | H1 | 1000000000 + 32 | 4 |", md);
        Assert.Contains("| checks | H1L1:BBH_SCORE | 125 | 1 | 3 |", md);
        Assert.Contains("no server metrics were scraped", md);
        Assert.Equal((ReportPlots.Width, ReportPlots.Height), PngSize(Path.Combine(report, "asd-ratio.png")));
        Assert.Equal((ReportPlots.Width, ReportPlots.Height), PngSize(Path.Combine(report, "scores.png")));
        string html = File.ReadAllText(Path.Combine(report, "report.html"));
        Assert.Equal(7, html.Split("data:image/png;base64,").Length - 1); // throughput, time and cost vs servers, ASD ratio, scores, efficiency, ROC
        Assert.Contains("ratio at 60 Hz", html);
    }

    [Fact]
    public async Task Scores_without_an_injection_table_are_still_plotted_with_a_note()
    {
        Directory.CreateDirectory(Path.Combine(Run, "frames"));
        WriteWorkflow();
        var (_, values) = await WriteScoresAsync();
        File.Delete(Path.Combine(Run, "frames", InjectionTable.FileName));
        var workflow = WorkflowConfig.Load(Path.Combine(Run, "workflow.toml"));
        using var outputs = RunOutputs.Open("out", Run);
        var (search, _) = await InjectionRecovery.ComputeAsync(outputs, workflow, Run, null, 12, CancellationToken.None);
        Assert.NotNull(search);
        Assert.Null(search.InjectionTable);
        Assert.Empty(search.Injections);
        Assert.Equal(values.Length, search.BackgroundScores); // every window is background
        Assert.Equal(Percentiles.Of(values, 99.9), search.Threshold, 12);
        Assert.Equal(0, search.Loud);
        string png = Path.Combine(_dir.FullName, "scores.png");
        ReportPlots.ScoresPlot(search, png);
        Assert.Equal((ReportPlots.Width, ReportPlots.Height), PngSize(png));

        // A named table that does not exist is bad input, not a silent empty plot.
        await Assert.ThrowsAsync<BadInputException>(() => InjectionRecovery.ComputeAsync(outputs, workflow, Run, Path.Combine(Run, "nope.csv"), 12, CancellationToken.None));
    }
}
