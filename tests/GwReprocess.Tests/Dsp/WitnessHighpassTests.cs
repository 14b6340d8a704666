using System.Numerics;
using GwReprocess.Data;
using GwReprocess.Dsp;
using GwReprocess.Simulation;
using GwReprocess.Time;
using Xunit.Abstractions;

namespace GwReprocess.Tests.Dsp;

/// <summary>The witnesses' high-pass: SciPy's causal filter started in the first sample's steady state, the closed-form Butterworth response, and a stream equal to one piece.</summary>
public class WitnessHighpassTests(ITestOutputHelper output)
{
    private const double Fs = 4096;

    [Fact]
    public void EqualsScipySosfiltStartedInTheFirstSamplesSteadyState()
    {
        // sosfilt(sos, x, zi=sosfilt_zi(sos)·x0) = sosfilt(sos, x − x0) for a high-pass (a constant passes as zero), which by
        // linearity is SciPy's sosfilt(sos, x) from dsp-4096.h5 minus x0 times the filter's step response.
        var reference = ReferenceFile.Dsp4096;
        const string name = "highpass_15_order8_sosfilt";
        Assert.StartsWith("sos = scipy.signal.butter(8, 15, btype='highpass', fs=4096, output='sos'); scipy.signal.sosfilt(sos, input)", reference.Operation(name));
        var x = reference.Input;
        var scipy = reference.Read(name);
        var step = SosFilter.Filter(Butterworth.Highpass(8, 15, Fs), Enumerable.Repeat(1.0, x.Length).ToArray());
        var actual = new WitnessHighpass(15, 8).Apply(x, Fs);
        double worst = 0;
        for (int i = 0; i < x.Length; i++) worst = Math.Max(worst, Math.Abs(actual[i] - (scipy[i] - x[0] * step[i])));
        Assert.True(worst <= 1e-8 * ReferenceFile.MaxAbs(scipy), $"max|err| {worst:E3} vs max|ref| {ReferenceFile.MaxAbs(scipy):E3}");
    }

    [Theory]
    [InlineData(0.25)]
    [InlineData(0.5)]
    [InlineData(1.0)]
    [InlineData(1.5)]
    [InlineData(3.25)]
    [InlineData(60.0)]
    public void SteadyStateResponseIsTheBilinearButterworths(double hz)
    {
        // |H|² = 1 / (1 + (tan(π fc/fs) / tan(π f/fs))^2N), phase that of the analog prototype s^N / Π(s − Ωc p_k) at the warped frequency.
        var hp = new WitnessHighpass(1.0, 4);
        double wc = Math.Tan(Math.PI * hp.CutoffHz / Fs), w = Math.Tan(Math.PI * hz / Fs);
        double magnitude = 1 / Math.Sqrt(1 + Math.Pow(wc / w, 2 * hp.Order));
        Complex h = Complex.One, s = new(0, w);
        for (int k = 0; k < hp.Order; k++)
        {
            double theta = Math.PI * (2 * k + 1 + hp.Order) / (2 * hp.Order);
            h *= s / (s - wc * new Complex(Math.Cos(theta), Math.Sin(theta)));
        }
        Assert.True(Math.Abs(h.Magnitude - magnitude) < 1e-12, "the prototype and the closed form disagree");

        // A sinusoid long past the filter's settling; amplitude and phase by least squares over whole periods at the end.
        int settle = (int)(hp.SettlingSeconds * Fs), periods = (int)Math.Ceiling(8 * hz), tail = (int)Math.Round(periods / hz * Fs);
        var x = new double[settle + tail];
        for (int i = 0; i < x.Length; i++) x[i] = Math.Cos(2 * Math.PI * hz * i / Fs) + 3.0;
        var y = hp.Apply(x, Fs);
        double cc = 0, cs = 0, ss = 0, yc = 0, ys = 0;
        for (int i = settle; i < x.Length; i++)
        {
            double c = Math.Cos(2 * Math.PI * hz * i / Fs), sn = Math.Sin(2 * Math.PI * hz * i / Fs);
            cc += c * c; cs += c * sn; ss += sn * sn; yc += y[i] * c; ys += y[i] * sn;
        }
        double det = cc * ss - cs * cs, a = (yc * ss - ys * cs) / det, b = (ys * cc - yc * cs) / det;
        var measured = new Complex(a, -b);
        Assert.True((measured - h).Magnitude < 1e-6, $"{hz} Hz: measured {measured}, expected {h} (|H| {magnitude})");
    }

    [Fact]
    public void AConstantWitnessStartsNoTransient()
    {
        var y = new WitnessHighpass(1.0).Apply(Enumerable.Repeat(-1234.5, 4096).ToArray(), Fs);
        Assert.True(ReferenceFile.MaxAbs(y) < 1e-9 * 1234.5, $"max |y| {ReferenceFile.MaxAbs(y):E3}");
        // From zero state (plain sosfilt) the same witness rings at its offset's size.
        Assert.True(ReferenceFile.MaxAbs(SosFilter.Filter(new WitnessHighpass(1.0).Sections(Fs), Enumerable.Repeat(-1234.5, 4096).ToArray())) > 100);
    }

    [Fact]
    public void StreamingEqualsOneShotOverArbitraryChunks()
    {
        var x = RedWitness(40 * (int)Fs, seed: 3);
        var hp = new WitnessHighpass(0.75, 4);
        var oneShot = hp.Apply(x, Fs);
        var random = new Random(11);
        foreach (int maxChunk in new[] { 1, 7, 1024, 70_000 })
        {
            var filter = hp.CreateFilter(Fs);
            var y = (double[])x.Clone();
            int i = 0;
            while (i < x.Length)
            {
                int n = Math.Min(random.Next(0, maxChunk + 1), x.Length - i);
                filter.Process(y.AsSpan(i, n), y.AsSpan(i, n));
                i += n;
            }
            Assert.Equal(oneShot, y);
        }
    }

    [Theory]
    [InlineData(1.0, 6.7)]
    [InlineData(0.5, 13.4)]
    public void WhereTheStreamStartsStopsMatteringWithinTheSettlingTime(double cutoff, double settling)
    {
        // The demo's modulated angular witness (10 counts at 1.5 Hz over its red noise), resampled to 4096 Hz as the client does, in
        // two streams, the second starting 3 s later: past the settling time (6.7 s at 1 Hz, 13.4 s at 0.5 Hz, order 4) they agree
        // to float rounding, so a frame does not depend on where its job's stream started when the job padding covers it.
        var hp = new WitnessHighpass(cutoff, 4);
        Assert.Equal(settling, hp.SettlingSeconds, 0.05);
        var options = new SimulationOptions { Ifos = ["H1"], Witnesses = 21, WitnessNames = SimulationOptions.DefaultWitnessNames };
        var rendered = new DetectorSimulator(options, "H1").Render(Segment.FromStart(GpsTime.FromSeconds(1_000_000_100), GpsDuration.FromSeconds(24)), injections: false);
        var x = rendered.Single(r => r.Channel.Value == "H1:ASC-INP1_P_INMON").Resample(SampleRate.Processing).Samples.ToArray();
        int late = 3 * (int)Fs;
        var early = hp.Apply(x, Fs);
        var later = hp.Apply(x.AsSpan(late), Fs);
        int settled = (int)Math.Ceiling(hp.SettlingSeconds * Fs);
        double rms = Math.Sqrt(early.Skip(late + settled).Average(v => v * v));
        double Worst(int from, int to)
        {
            double worst = 0;
            for (int i = from; i < to; i++) worst = Math.Max(worst, Math.Abs(later[i] - early[late + i]));
            return worst / rms;
        }
        output.WriteLine($"{hp}: start dependence relative to the rms: {Worst(0, (int)Fs):E2} in the first second, {Worst(8 * (int)Fs, 9 * (int)Fs):E2} 8-9 s in, {Worst(settled, later.Length):E2} after {hp.SettlingSeconds:F1} s");
        Assert.True(Worst(settled, later.Length) < 1e-6, $"after {hp.SettlingSeconds:F1} s the streams differ by {Worst(settled, later.Length):E2} of the rms");
        Assert.True(Worst(0, (int)Fs) > 1e-3, "the first second should show the start transient (else the test shows nothing)");
    }

    [Fact]
    public void TheConfigFormRoundTripsAndGarbageIsRefused()
    {
        var hp = new WitnessHighpass(0.75, 6);
        Assert.Equal("0.75 Hz order 6", hp.ToString());
        Assert.Equal(hp, WitnessHighpass.Parse(hp.ToString()));
        Assert.Null(WitnessHighpass.Parse("0.75:6"));
        Assert.Null(WitnessHighpass.Parse("-1 Hz order 4"));
        Assert.Null(WitnessHighpass.Parse("1 Hz order 99"));
        Assert.Throws<BadInputException>(() => new WitnessHighpass(3000).Sections(Fs));
    }

    /// <summary>An angular witness's shape: a random walk (sub-Hz power) plus white sensor noise and a 1.5 Hz modulation.</summary>
    private static double[] RedWitness(int n, int seed)
    {
        var r = new Random(seed);
        var x = new double[n];
        double walk = 50;
        for (int i = 0; i < n; i++)
        {
            walk += 0.05 * (r.NextDouble() - 0.5);
            x[i] = walk + 0.1 * (r.NextDouble() - 0.5) + Math.Sin(2 * Math.PI * 1.5 * i / Fs);
        }
        return x;
    }
}
