using GwReprocess.Data;
using GwReprocess.Dsp;
using GwReprocess.Frames;
using GwReprocess.Models;
using GwReprocess.Simulation;
using GwReprocess.Time;

namespace GwReprocess.Tests.Models;

/// <summary>Issue 7's acceptance test: the Wiener cleaner fitted on simulated frames, applied over 256 s.</summary>
public sealed class WienerOnSimulationTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("gwrepro-wsim-");

    public void Dispose() => _dir.Delete(true);

    [Fact]
    public async Task Fitted_on_simulated_frames_it_removes_the_mains_lines_and_leaves_the_floor()
    {
        var start = GpsTime.FromSeconds(1_000_000_000);
        var options = new SimulationOptions
        {
            Start = start, Duration = 640, Ifos = ["H1"], FrameLength = 128, Seed = 7,
            Injections = new InjectionSettings { Rate = 0 },
        };
        var sim = await SimulationRun.RunAsync(options, new DirectoryOutput(_dir.FullName));
        var source = new FrameSource(FrameCache.Read(Path.Combine(_dir.FullName, "H1.lcf")));
        var witnesses = options.WitnessNames.Take(21).Select(n => new ChannelName("H1:" + n)).ToList();
        var strainName = new ChannelName("H1:GDS-CALIB_STRAIN");

        // Fit on 256 s: the bilinear sidebands (which no linear witness explains) stay in the residual, and a short fit
        // would spread their power as noise through 672 coefficients (the excess scales as parameters / samples).
        var fitSpan = Segment.FromStart(start + GpsDuration.FromSeconds(8), GpsDuration.FromSeconds(256));
        var cleaner = await WienerCleanerFit.FitAsync(source, "H1", strainName, witnesses, fitSpan, SampleRate.Processing, 32, 0, (15, 500));

        // Apply over 256 s (plus 4 s each side for filter edges) that the fit never saw, as the client will.
        var applySpan = Segment.FromStart(start + GpsDuration.FromSeconds(300), GpsDuration.FromSeconds(264));
        var data = await source.ReadAsync([strainName.Value, .. witnesses.Select(w => w.Value)], applySpan);
        var at4096 = TimeSeriesSignal.ResampleAll(data.Channels, SampleRate.Processing);
        var standardised = new List<ReadOnlyMemory<double>>();
        for (int c = 0; c < witnesses.Count; c++)
        {
            var s = cleaner.Scaling[c];
            standardised.Add(at4096[c + 1].Samples.ToArray().Select(x => (x - s.Mean) / s.Scale).ToArray());
        }
        var noise = at4096[0].WithSamples(WienerFit.Predict(cleaner.Fir, standardised)).Bandpass(15, 500).Samples.Span;
        var raw = at4096[0].Samples.Span;
        var cleaned = new double[raw.Length];
        for (int i = 0; i < raw.Length; i++) cleaned[i] = raw[i] - noise[i];

        int edge = 4 * 4096;
        // 256 s in 1 s segments with 50 % overlap (1 Hz bins, 511 segments), median averaged.
        var before = Welch.Asd(raw[edge..^edge], 4096, 4096, 2048);
        var after = Welch.Asd(cleaned.AsSpan()[edge..^edge], 4096, 4096, 2048);
        double Ratio(double f) => after.Values.Span[(int)Math.Round(f)] / before.Values.Span[(int)Math.Round(f)];

        Assert.True(Ratio(60) <= 0.05, $"60 Hz: ASD(cleaned)/ASD(raw) = {Ratio(60):F4}");
        foreach (double h in new[] { 120.0, 180, 240, 300 })
            Assert.True(Ratio(h) < 0.2, $"{h} Hz harmonic: ratio {Ratio(h):F3}");
        // Away from the lines the cleaner is meant to remove (mains harmonics, and the bilinear sidebands a linear filter cannot),
        // the floor is left alone.
        bool NearLine(double f) => Enumerable.Range(1, 5).Any(k => Math.Abs(f - 60 * k) <= 1.5) || Math.Abs(f - 60) <= 4;
        var worst = (Frequency: 0.0, Ratio: 1.0);
        for (double f = 20; f <= 500; f += 1)
        {
            if ((f > 50 && f < 80) || NearLine(f)) continue;
            double r = Ratio(f);
            if (Math.Abs(r - 1) > Math.Abs(worst.Ratio - 1)) worst = (f, r);
        }
        Assert.True(Math.Abs(worst.Ratio - 1) <= 0.10, $"worst bin in 20–50 and 80–500 Hz: {worst.Frequency} Hz, ratio {worst.Ratio:F3}");
    }
}
