using GwReprocess.Data;
using GwReprocess.Dsp;
using GwReprocess.Frames;
using GwReprocess.Frames.Gwf;
using GwReprocess.Models;
using GwReprocess.Time;

namespace GwReprocess.Tests.Models;

/// <summary>Fitting the Wiener cleaner on frames, as <c>gwrepro models build --cleaner wiener --fit</c> does.</summary>
public sealed class WienerCleanerFitTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("gwrepro-wfit-");
    private static readonly GpsTime T0 = GpsTime.FromSeconds(1238166018);
    private const int Seconds = 32;

    public void Dispose() => _dir.Delete(true);

    private static double Mains(double t) => (1 + 0.1 * Math.Sin(2 * Math.PI * 0.05 * t)) * Math.Sin(2 * Math.PI * 60 * t + 0.3);

    /// <summary>One GWF file with H1 and L1: strain = white noise + coupling × mains(t − delay); witnesses = mains (512 Hz) and an unrelated one (256 Hz).</summary>
    private async Task<string> FramesAsync()
    {
        var rng = new Random(3);
        var channels = new List<TimeSeries>();
        foreach (var (ifo, coupling, delay) in new[] { ("H1", 3e-21, 0.0012), ("L1", 2e-21, 0.0007) })
        {
            var strain = new double[16384 * Seconds];
            for (int i = 0; i < strain.Length; i++) strain[i] = 1e-22 * Gaussian(rng) + coupling * Mains(i / 16384.0 - delay);
            var mains = new double[512 * Seconds];
            // A mains monitor has ~100 dB SNR; a noisier witness would (correctly) add its noise to the cleaned strain.
            for (int i = 0; i < mains.Length; i++) mains[i] = Mains(i / 512.0) + 1e-5 * Gaussian(rng);
            var other = new double[256 * Seconds];
            for (int i = 0; i < other.Length; i++) other[i] = 5 + Gaussian(rng);
            channels.Add(new TimeSeries(new ChannelName($"{ifo}:GDS-CALIB_STRAIN"), T0, new SampleRate(16384), strain, "strain"));
            channels.Add(new TimeSeries(new ChannelName($"{ifo}:PEM-CS_MAINSMON_EBAY_1_DQ"), T0, new SampleRate(512), mains));
            channels.Add(new TimeSeries(new ChannelName($"{ifo}:ASC-CHARD_P_INMON"), T0, new SampleRate(256), other));
        }
        string path = Path.Combine(_dir.FullName, $"HL-SIM-{T0}-{Seconds}.gwf");
        await GwfWriter.WriteFileAsync(path, GwfFrameData.Split(channels, [Segment.FromStart(T0, GpsDuration.FromSeconds(Seconds))]));
        File.WriteAllText(Path.Combine(_dir.FullName, "w.toml"), $"""
            [run]
            name = "fit"
            [data]
            start = {T0}
            end = {T0 + GpsDuration.FromSeconds(Seconds)}
            [detectors.H1]
            strain = "H1:GDS-CALIB_STRAIN"
            witnesses = ["H1:PEM-CS_MAINSMON_EBAY_1_DQ", "H1:ASC-CHARD_P_INMON"]
            [detectors.L1]
            strain = "L1:GDS-CALIB_STRAIN"
            witnesses = ["L1:PEM-CS_MAINSMON_EBAY_1_DQ", "L1:ASC-CHARD_P_INMON"]
            [outputs]
            uri = "out"
            """);
        return path;
    }

    private static double Gaussian(Random rng) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    [Fact]
    public async Task Fitted_cleaner_removes_the_coupled_line_and_keeps_the_rest()
    {
        string frames = await FramesAsync();
        var source = await FrameSource.FromFilesAsync([frames]);
        var span = Segment.FromStart(T0, GpsDuration.FromSeconds(Seconds));
        var witnesses = new[] { new ChannelName("H1:PEM-CS_MAINSMON_EBAY_1_DQ"), new ChannelName("H1:ASC-CHARD_P_INMON") };
        var cleaner = await WienerCleanerFit.FitAsync(source, "H1", new ChannelName("H1:GDS-CALIB_STRAIN"), witnesses, span, SampleRate.Processing, 32, 0, (15, 500));
        Assert.Equal(5, cleaner.Scaling[1].Mean, 1); // the unrelated witness's offset was learned and will be removed by the client

        // Apply it as the client will: standardise the witnesses, predict, band-pass, subtract from the strain.
        var data = await source.ReadAsync(["H1:GDS-CALIB_STRAIN", .. witnesses.Select(w => w.Value)], span);
        var at4096 = TimeSeriesSignal.ResampleAll(data.Channels, SampleRate.Processing);
        var standardised = at4096.Skip(1).Select((s, c) => (ReadOnlyMemory<double>)s.Samples.ToArray().Select(x => (x - cleaner.Scaling[c].Mean) / cleaner.Scaling[c].Scale).ToArray()).ToList();
        var noise = at4096[0].WithSamples(WienerFit.Predict(cleaner.Fir, standardised)).Bandpass(15, 500);
        var strain = at4096[0].Samples.Span;
        var cleaned = new double[strain.Length];
        for (int i = 0; i < cleaned.Length; i++) cleaned[i] = strain[i] - noise.Samples.Span[i];

        // Away from the 2 s at each end (filter edges), compare ASDs.
        int edge = 2 * 4096;
        var before = Welch.Asd(strain[edge..^edge], 4096, 4096, 2048);
        var after = Welch.Asd(cleaned.AsSpan()[edge..^edge], 4096, 4096, 2048);
        Assert.True(after.Values.Span[60] / before.Values.Span[60] < 0.05, $"60 Hz ratio {after.Values.Span[60] / before.Values.Span[60]}");
        foreach (int f in new[] { 20, 35, 50, 80, 150, 300, 500 })
        {
            double ratio = after.Values.Span[f] / before.Values.Span[f];
            Assert.True(Math.Abs(ratio - 1) < 0.1, $"{f} Hz ratio {ratio}");
        }
    }

    [Fact]
    public async Task Models_build_fits_both_detectors_and_annotates_channels_and_scaling()
    {
        string frames = await FramesAsync();
        string repo = Path.Combine(_dir.FullName, "repo");
        var r = await Cli.GwreproProcess.RunAsync("models", "build", "--out", repo, "--cleaner", "wiener", "--fit", frames,
            "--workflow", Path.Combine(_dir.FullName, "w.toml"), "--kernel", "1", "--stride", "512", "--batch", "1", "--taps", "32");
        Assert.True(r.ExitCode == 0, r.StdErr);
        Assert.Contains("fitting the L1 Wiener cleaner: 2 witnesses × 32 taps", r.StdErr);
        foreach (var ifo in new[] { "h1", "l1" })
        {
            var config = GwReprocess.Inference.ModelConfigFile.Read(Path.Combine(repo, ModelRepositoryBuilder.CleanerName(CleanerKind.Wiener, ifo.ToUpperInvariant()), "config.pbtxt"));
            var (channels, scaling) = WienerCleaner.FromConfig(config)!.Value;
            Assert.Equal([$"{ifo.ToUpperInvariant()}:PEM-CS_MAINSMON_EBAY_1_DQ", $"{ifo.ToUpperInvariant()}:ASC-CHARD_P_INMON"], channels.Select(c => c.Value).ToArray());
            Assert.InRange(scaling[1].Mean, 4.9, 5.1);
        }
        r = await Cli.GwreproProcess.RunAsync("models", "check", repo);
        Assert.Equal(0, r.ExitCode);
        // Post-processing whitens with a FIR designed from the fit span's strain ASD.
        var postproc = GwReprocess.Inference.ModelConfigFile.Read(Path.Combine(repo, "postproc", "config.pbtxt"));
        Assert.Contains("1025-tap whitening FIR", postproc.ToString());

        r = await Cli.GwreproProcess.RunAsync("models", "build", "--out", repo, "--cleaner", "wiener", "--fit", frames);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--workflow", r.StdErr);
    }
}
