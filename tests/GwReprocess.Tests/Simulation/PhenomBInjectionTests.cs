using System.Numerics;
using System.Text.Json;
using GwReprocess.Simulation;
using GwReprocess.Tests.Frames;
using GwReprocess.Time;
using GwReprocess.Workflow;
using MathNet.Numerics.IntegralTransforms;
using Xunit.Abstractions;

namespace GwReprocess.Tests.Simulation;

/// <summary>PhenomB injections: the time-domain waveform (peak at the detector time, ringdown after it, its spectrum the model's), the SNR table against a matched filter in simulated noise, and the option that selects the family.</summary>
public sealed class PhenomBInjectionTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "phenomb-" + Guid.NewGuid().ToString("N")[..8]);

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    private static (BbhInjection Injection, DetectorInjection Detector) Source(double m1, double m2, double distance = 1000, double factor = 0.8, double phase = 1.1)
    {
        // A coalescence time off the sample grid, far from GPS 0, as the schedule draws them.
        var t = GpsTime.FromNanoseconds(1_126_259_462_422_000_123L);
        var d = new DetectorInjection("H1", t, factor, phase, 0);
        return (new BbhInjection(t, m1, m2, distance, [d]), d);
    }

    [Theory]
    [InlineData(10, 10)]
    [InlineData(20, 15)]
    [InlineData(36, 29)]
    [InlineData(70, 10)]
    [InlineData(80, 80)]
    public void TheWaveformPeaksAtTheDetectorTimeAndRingsDownAfterIt(double m1, double m2)
    {
        const int fs = 16384;
        var (inj, d) = Source(m1, m2);
        var h = InjectionWaveform.Create(inj, d, fs, 20, WaveformFamily.PhenomB);
        // The quadrature waveform (φ₀ + π/2) completes the analytic signal: |h + iĥ| is the envelope.
        var q = InjectionWaveform.Create(inj, d with { Phase = d.Phase + Math.PI / 2 }, fs, 20, WaveformFamily.PhenomB);
        Assert.Equal(h.FirstSample, q.FirstSample);
        double Envelope(int i) => Math.Sqrt(h.Samples[i] * h.Samples[i] + q.Samples[i] * q.Samples[i]);
        int peak = 0;
        for (int i = 1; i < h.Samples.Length; i++) if (Envelope(i) > Envelope(peak)) peak = i;
        double tc = d.Time.Seconds + d.Time.Nanoseconds / 1e9;
        double peakTime = (h.FirstSample + peak) / (double)fs;
        Assert.True(Math.Abs(peakTime - tc) < 0.002, $"{m1}+{m2} M☉: envelope peaks {1e3 * (peakTime - tc):F2} ms from the injection time");
        // Ringdown: the envelope has decayed 50 ms after the peak (damping times of at most ~10 ms for M ≤ 160 M☉), and is
        // gone 0.5 s after it. What stays at 50 ms for the heaviest is the 20 Hz band edge: their signal enters the band only
        // ~0.1 s before merger, and the taper's 4 Hz width spreads that edge over about ±0.1 s.
        Assert.True(Envelope(peak + fs / 20) < 0.1 * Envelope(peak), $"{m1}+{m2} M☉: envelope 50 ms after the peak is {Envelope(peak + fs / 20) / Envelope(peak):F3} of it");
        Assert.True(Envelope(peak + fs / 2) < 1e-3 * Envelope(peak), $"{m1}+{m2} M☉: envelope 0.5 s after the peak is {Envelope(peak + fs / 2) / Envelope(peak):E2} of it");
        // ... and was still large just before it: the merger, not an ISCO cut, sets the peak.
        Assert.True(Envelope(peak - fs / 500) > 0.5 * Envelope(peak));

        // The samples are the model's spectrum: DFT bins equal F·w(f)·A(f) (relative to the bins' own size).
        int n = h.Samples.Length;
        var x = new double[n + 2];
        h.Samples.CopyTo(x, 0);
        Fourier.ForwardReal(x, n, FourierOptions.Matlab);
        var model = new PhenomB(m1, m2);
        double df = (double)fs / n;
        foreach (double f in new[] { 30.0, 0.5 * model.F1, 0.5 * (model.F1 + model.F2), 0.5 * (model.F2 + model.F3) })
        {
            int k = (int)Math.Round(f / df);
            if (k * df < 24) continue; // inside the low-frequency taper the check is the same, but keep to w = 1
            double measured = Math.Sqrt(x[2 * k] * x[2 * k] + x[2 * k + 1] * x[2 * k + 1]) / fs;
            double expected = d.AmplitudeFactor * model.Taper(k * df, 20) * model.Amplitude(k * df, inj.DistanceMpc);
            Assert.True(Math.Abs(measured / expected - 1) < 1e-6, $"{m1}+{m2} M☉ at {k * df:F2} Hz: |h̃| {measured:E6}, model {expected:E6}");
        }
    }

    [Fact]
    public void TheChirpRisesInFrequencyTowardsThePeak()
    {
        const int fs = 16384;
        var (inj, d) = Source(10, 10);
        var h = InjectionWaveform.Create(inj, d, fs, 20, WaveformFamily.PhenomB);
        long tc = (long)Math.Round((d.Time.Seconds + d.Time.Nanoseconds / 1e9) * fs) - h.FirstSample;
        int Crossings(double from, double to)
        {
            int c = 0;
            for (long i = tc + (long)(from * fs); i < tc + (long)(to * fs); i++)
                if (Math.Sign(h.Samples[i]) != Math.Sign(h.Samples[i + 1])) c++;
            return c;
        }
        // Group delay of the phase: the signal sweeps through 30 Hz TimeToMerger(30) before the merger.
        var model = new PhenomB(10, 10);
        double at30 = model.TimeToMerger(30);
        Assert.InRange(Crossings(-at30 - 0.1, -at30 + 0.1), 10, 14); // 2 · 30 Hz · 0.2 s
        Assert.True(Crossings(-0.05, 0) > 2 * Crossings(-at30 - 0.025, -at30 + 0.025), "the frequency rises towards the merger");
    }

    private static readonly SimulationOptions NoiseAndInjections = new()
    {
        Ifos = ["H1"],
        Witnesses = 0,
        MainsHarmonics = [],
        Modulations = [],
        StrainRate = 4096,
        Injections = new InjectionSettings { Rate = 0.01, Waveform = WaveformFamily.PhenomB, MinDistanceMpc = 400, MaxDistanceMpc = 3000 },
    };

    [Fact]
    public void AMatchedFilterInSimulatedNoiseRecoversTheTablesOptimalSnr()
    {
        // Noise coloured to the design curve (no lines), PhenomB injections, 4096 Hz (the model ends below 1.8 kHz for ≥ 20 M☉).
        var o = NoiseAndInjections;
        int fs = o.StrainRate;
        var sim = new DetectorSimulator(o, "H1");
        var all = sim.Injections.Within(new Segment(1_000_000_000, 1_000_000_000 + 16_384));
        // Isolated injections only, so each window holds one signal.
        var chosen = all.Where(i => all.All(j => j == i || Math.Abs((j.GeocentTime - i.GeocentTime).TotalSeconds) > 40)).Take(12).ToList();
        Assert.Equal(12, chosen.Count);
        const int seconds = 32;
        int n = seconds * fs;
        double df = (double)fs / n;
        var window = Tukey(n, 2 * fs);
        var differences = new List<double>();
        var report = new List<string>();
        foreach (var inj in chosen)
        {
            long start = inj.For("H1").Time.Seconds - 24;
            var with = new double[n];
            var without = new double[n];
            sim.RenderStrain(start, seconds, with, injections: true);
            sim.RenderStrain(start, seconds, without, injections: false);
            // The template is the injected signal itself (strain with minus without), as a matched filter with the exact template.
            var d = new double[n + 2];
            var h = new double[n + 2];
            for (int i = 0; i < n; i++)
            {
                d[i] = with[i] * window[i];
                h[i] = (with[i] - without[i]) * window[i];
            }
            Fourier.ForwardReal(d, n, FourierOptions.Matlab);
            Fourier.ForwardReal(h, n, FourierOptions.Matlab);
            // Whitened by the design PSD: ⟨h, h⟩ = 4 Σ |h̃|²/S df, and the complex filter output at every lag by one inverse FFT.
            double hh = 0;
            var z = new Complex[n];
            for (int k = 1; k < n / 2; k++)
            {
                double f = k * df;
                if (f < 15) continue;
                double s = DesignCurve.Psd(f);
                var dk = new Complex(d[2 * k], d[2 * k + 1]) / fs;
                var hk = new Complex(h[2 * k], h[2 * k + 1]) / fs;
                hh += 4 * (hk.Real * hk.Real + hk.Imaginary * hk.Imaginary) / s * df;
                z[k] = dk * Complex.Conjugate(hk) / s;
            }
            Fourier.Inverse(z, FourierOptions.Matlab);
            double optimal = Math.Sqrt(hh), table = inj.For("H1").Snr;
            // Noise-free: the injected samples carry the table's SNR (time-domain synthesis vs the table's frequency integral).
            Assert.True(Math.Abs(optimal / table - 1) < 0.02, $"injection at {inj.GeocentTime} ({inj.Mass1:F1}+{inj.Mass2:F1} M☉): injected strain has SNR {optimal:F3}, table {table:F3}");
            // In noise: the largest |output| within ±2 ms of the injection time, maximised over phase by the complex output.
            double recovered = 0;
            for (int lag = -8; lag <= 8; lag++)
                recovered = Math.Max(recovered, 4 * df * n * z[(lag + n) % n].Magnitude / optimal);
            differences.Add(recovered - table);
            report.Add($"{inj.Mass1:F0}+{inj.Mass2:F0}: table {table:F2} recovered {recovered:F2}");
        }
        string summary = string.Join("; ", report);
        output.WriteLine(summary);
        // Recovered = |ρ + n| with n complex unit-variance Gaussian: each within 4σ, the mean within 3σ/√12 plus the small
        // upward bias of maximising over phase and 17 lags, the spread about 1.
        Assert.All(differences, x => Assert.True(Math.Abs(x) < 4, summary));
        double mean = differences.Average(), rms = Math.Sqrt(differences.Average(x => x * x));
        Assert.True(mean is > -0.9 and < 1.3, $"mean recovered − table {mean:F2}: {summary}");
        Assert.True(rms is > 0.3 and < 2, $"rms recovered − table {rms:F2}: {summary}");
        output.WriteLine($"mean recovered − table {mean:F3}, rms {rms:F3}");
    }

    private static double[] Tukey(int n, int taper)
    {
        var w = new double[n];
        for (int i = 0; i < n; i++)
        {
            int edge = Math.Min(i, n - 1 - i);
            w[i] = edge >= taper ? 1 : 0.5 - 0.5 * Math.Cos(Math.PI * edge / taper);
        }
        return w;
    }

    [Fact]
    public void TheScheduleListsPhenomBSnrsAndLeavesTheDrawsAlone()
    {
        var zeroPn = new InjectionSchedule(StreamKey.FromSeed(5), ["H1", "L1"], new InjectionSettings { Rate = 0.02 });
        var phenom = new InjectionSchedule(StreamKey.FromSeed(5), ["H1", "L1"], new InjectionSettings { Rate = 0.02, Waveform = WaveformFamily.PhenomB });
        var span = new Segment(1_000_000_000, 1_000_002_048);
        var a = zeroPn.Within(span);
        var b = phenom.Within(span);
        Assert.Equal(a.Count, b.Count);
        Assert.True(a.Count > 20);
        for (int i = 0; i < a.Count; i++)
        {
            // The same sources, times, factors and phases: only the SNR column depends on the family.
            Assert.Equal(a[i].GeocentTime, b[i].GeocentTime);
            Assert.Equal(a[i].Mass1, b[i].Mass1);
            Assert.Equal(a[i].DistanceMpc, b[i].DistanceMpc);
            foreach (var ifo in new[] { "H1", "L1" })
            {
                var x = a[i].For(ifo);
                var y = b[i].For(ifo);
                Assert.Equal((x.Time, x.AmplitudeFactor, x.Phase), (y.Time, y.AmplitudeFactor, y.Phase));
                Assert.Equal(TaylorF2.OptimalSnr(a[i].Mass1, a[i].Mass2, a[i].DistanceMpc, x.AmplitudeFactor, 20, DesignCurve.Psd), x.Snr);
                double expected = new PhenomB(b[i].Mass1, b[i].Mass2).OptimalSnr(b[i].DistanceMpc, y.AmplitudeFactor, 20, DesignCurve.Psd);
                Assert.Equal(expected, y.Snr, expected * 1e-12);
            }
            // Merger and ringdown add SNR to every binary of this population (10-80 M☉ from 20 Hz), most to the heaviest.
            Assert.True(b[i].NetworkSnr > a[i].NetworkSnr, $"{a[i].Mass1:F1}+{a[i].Mass2:F1}: PhenomB {b[i].NetworkSnr:F2}, 0PN {a[i].NetworkSnr:F2}");
        }
    }

    [Fact]
    public void SimulateWaveformPhenomBIsRecordedAndABadNameIsOneLineWithExitCode2()
    {
        var ok = FramesCliTests.Gwrepro("simulate", "--start", "1000000000", "--duration", "128", "--ifos", "H1,L1", "--frame-length", "128",
            "--witnesses", "0", "--injection-rate", "0.1", "--waveform", "phenomb", "--seed", "3", "--out", _dir, "--json");
        Assert.True(ok.Exit == 0, ok.Err);
        using (var truth = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, SimulationRun.TruthFileName))))
        {
            Assert.Equal("phenomb", truth.RootElement.GetProperty("waveform").GetString());
            Assert.StartsWith("IMRPhenomB", truth.RootElement.GetProperty("approximant").GetString());
        }
        var table = InjectionTable.Read(Path.Combine(_dir, InjectionTable.FileName));
        Assert.NotEmpty(table);
        foreach (var inj in table)
            foreach (var d in inj.Detectors)
            {
                double expected = new PhenomB(inj.Mass1, inj.Mass2).OptimalSnr(inj.DistanceMpc, d.AmplitudeFactor, 20, DesignCurve.Psd);
                Assert.Equal(expected, d.Snr, expected * 1e-12);
            }

        var bad = FramesCliTests.Gwrepro("simulate", "--out", Path.Combine(_dir, "bad"), "--waveform", "phenomz");
        Assert.Equal(2, bad.Exit);
        var line = Assert.Single(bad.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("gwrepro simulate: ", line);
        Assert.Contains("--waveform 'phenomz'", line);
        Assert.Contains("taylorf2-0pn, phenomb", line);
    }

    private const string Workflow = """
        [run]
        name = "phenomb"

        [data]
        start = 1000000000
        end = 1000004096

        [data.simulate]
        {0}

        [detectors.H1]
        strain = "H1:GDS-CALIB_STRAIN"

        [outputs]
        uri = "out"
        """;

    [Fact]
    public void DataSimulateWaveformSelectsTheFamilyAndDefaultsToZeroPn()
    {
        var phenom = WorkflowSimulation.Options(WorkflowConfig.Parse(string.Format(Workflow, "waveform = \"phenomb\""), "w.toml"));
        Assert.Equal(WaveformFamily.PhenomB, phenom.Injections.Waveform);
        var plain = WorkflowSimulation.Options(WorkflowConfig.Parse(string.Format(Workflow, "seed = 7"), "w.toml"));
        Assert.Equal(WaveformFamily.TaylorF2ZeroPn, plain.Injections.Waveform);
        Assert.Equal(new InjectionSettings().Waveform, plain.Injections.Waveform);
        var e = Assert.Throws<BadInputException>(() => WorkflowConfig.Parse(string.Format(Workflow, "waveform = \"eob\""), "w.toml"));
        Assert.Contains("data.simulate.waveform", e.Message);
        Assert.Contains("'eob'", e.Message);
    }
}
