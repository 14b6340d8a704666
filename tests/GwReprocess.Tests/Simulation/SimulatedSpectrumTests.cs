using GwReprocess.Dsp;
using GwReprocess.Simulation;
using GwReprocess.Time;

namespace GwReprocess.Tests.Simulation;

/// <summary>The simulated strain's spectrum against the design curve, and the lines and sidebands the configuration puts in it.</summary>
public sealed class SimulatedSpectrumTests
{
    private static readonly SimulationOptions Options = new() { Injections = new InjectionSettings { Rate = 0 } };

    // 64 s of H1 strain at an arbitrary GPS time, shared by the spectrum tests (rendering takes a second or so).
    private static readonly Lazy<(DetectorSimulator Sim, double[] Strain)> H1 = new(() =>
    {
        var sim = new DetectorSimulator(Options, "H1");
        var strain = new double[64 * Options.StrainRate];
        sim.RenderStrain(1_187_008_000, 64, strain);
        return (sim, strain);
    });

    // Strain band-passed (zero-phase) before it is sampled at a witness's rate: the seismic wall's 10⁻¹⁹-level motion
    // would leak into a least-squares fit through the finite span, and shot noise up to 8 kHz would alias onto the lines.
    private static double[] BandpassedH1(double highHz) =>
        new GwReprocess.Data.TimeSeries(new("H1:GDS-CALIB_STRAIN"), GpsTime.FromSeconds(1_187_008_000), new(Options.StrainRate), H1.Value.Strain)
            .Bandpass(30, highHz, 8).Samples.ToArray();

    private static FrequencySeries Asd() => Welch.Asd(H1.Value.Strain, Options.StrainRate, 4 * Options.StrainRate, 2 * Options.StrainRate);

    [Fact]
    public void WelchAsdOf64SecondsFollowsTheDesignCurveWithin15PercentFrom15HzTo1kHz()
    {
        var asd = Asd();
        var truth = H1.Value.Sim.Truth;
        var excluded = truth.Lines.Concat(truth.Sidebands).ToList();
        int checkedBands = 0;
        // Average PSD ratios over 4 Hz bands (16 bins): one Welch bin of 31 median-averaged segments scatters by ~10 %.
        for (double lo = 15; lo + 4 <= 1000; lo += 4)
        {
            if (excluded.Any(f => f > lo - 2 && f < lo + 6)) continue;
            double sum = 0;
            int n = 0;
            for (int k = (int)Math.Ceiling(lo / asd.Df); k * asd.Df < lo + 4; k++)
            {
                double r = asd.Values.Span[k] / DesignCurve.Asd(k * asd.Df);
                sum += r * r;
                n++;
            }
            double ratio = Math.Sqrt(sum / n);
            Assert.True(ratio is > 0.85 and < 1.15, $"ASD/design = {ratio:F3} in [{lo}, {lo + 4}) Hz");
            checkedBands++;
        }
        Assert.True(checkedBands > 200);
    }

    [Fact]
    public void DesignCurveHasASeismicWallAMidBandMinimumAndRisingShotNoise()
    {
        Assert.True(DesignCurve.Asd(5) > 100 * DesignCurve.Asd(20));
        Assert.True(DesignCurve.Asd(200) < DesignCurve.Asd(60));
        Assert.True(DesignCurve.Asd(2000) > 2 * DesignCurve.Asd(500));
        Assert.InRange(DesignCurve.Asd(215), 1e-24, 5e-24);
        Assert.Equal(DesignCurve.Asd(1), DesignCurve.Asd(DesignCurve.FloorHz));
    }

    [Fact]
    public void MainsHarmonicsAndBilinearSidebandsStandOutWhereConfigured()
    {
        var asd = Asd();
        var truth = H1.Value.Sim.Truth;
        double Ratio(double hz)
        {
            // Peak over ±0.25 Hz: the lines wander slightly and Hann leakage spreads them over a bin either side.
            double peak = 0;
            for (int k = (int)Math.Round((hz - 0.25) / asd.Df); k <= (int)Math.Round((hz + 0.25) / asd.Df); k++)
                peak = Math.Max(peak, asd.Values.Span[k] / DesignCurve.Asd(k * asd.Df));
            return peak;
        }
        Assert.Equal([60.0, 120, 180, 240, 300], truth.Lines);
        Assert.Equal([56.75, 58.5, 61.5, 63.25], truth.Sidebands);
        foreach (var f in truth.Lines) Assert.True(Ratio(f) > 10, $"line at {f} Hz: ASD/design {Ratio(f):F1}");
        foreach (var f in truth.Sidebands) Assert.True(Ratio(f) > 3, $"sideband at {f} Hz: ASD/design {Ratio(f):F1}");
        foreach (var f in new[] { 55.25, 65.5, 90, 150, 210 }) Assert.True(Ratio(f) < 1.4, $"no line expected at {f} Hz: ASD/design {Ratio(f):F1}");
    }

    [Fact]
    public void LeastSquaresFitOnTheMainsWitnessRecoversTheLinearCoupling()
    {
        var sim = H1.Value.Sim;
        var strain = BandpassedH1(700); // harmonics up to 300 Hz pass; sampled at 2048 Hz below
        var coupling = Assert.Single(sim.Truth.Linear);
        int mains = sim.IndexOf(coupling.Witness);
        Assert.Equal("H1:PEM-CS_MAINSMON_EBAY_1_DQ", coupling.Witness);
        int rate = sim.Witnesses[mains].SampleRate;
        Assert.Equal(2048, rate);
        var witness = new double[64 * rate];
        sim.RenderWitness(mains, 1_187_008_000, 64, witness);
        // Strain samples at the witness sample times (every 8th) regressed on [witness, 1].
        int step = Options.StrainRate / rate;
        double sw = 0, sww = 0, sy = 0, swy = 0;
        // The 4 s at each end see the high-pass's edge transient; the 56 s between carry the fit.
        int n = 0;
        for (int i = 4 * rate; i < 60 * rate; i++, n++)
        {
            double w = witness[i], y = strain[i * step];
            sw += w; sww += w * w; sy += y; swy += w * y;
        }
        double slope = (n * swy - sw * sy) / (n * sww - sw * sw);
        Assert.InRange(slope / coupling.Coefficient, 0.95, 1.05);
    }

    [Fact]
    public void RegressionOnTheWitnessProductRecoversTheBilinearCoupling()
    {
        var sim = H1.Value.Sim;
        var strain = BandpassedH1(150); // the sidebands sit near 60 Hz; sampled at 512 Hz below
        var b = sim.Truth.Bilinear.First(x => x.Modulator == "H1:ASC-INP1_P_INMON");
        int mi = sim.IndexOf(b.Modulator), wi = sim.IndexOf(b.Mains);
        const long t0 = 1_187_008_000;
        var modulator = new double[64 * 512];
        var mains = new double[64 * 2048];
        sim.RenderWitness(mi, t0, 64, modulator);
        sim.RenderWitness(wi, t0, 64, mains);
        // The witnesses' own noise and the other harmonics are not in the product that reaches strain: isolate
        // the modulation (0.5–3 Hz) and the 60 Hz line (55–65 Hz) with zero-phase band-passes, as a fit would.
        var m = new GwReprocess.Data.TimeSeries(new("H1:M"), GpsTime.FromSeconds(t0), new(512), modulator).Bandpass(0.5, 3, 4).Samples.Span;
        var line = new GwReprocess.Data.TimeSeries(new("H1:L"), GpsTime.FromSeconds(t0), new(2048), mains).Bandpass(55, 65, 4).Samples.Span;
        // Least squares of strain on [mains witness, m·line60, 1] on the 512 Hz grid, 4 s trimmed at each end for filter edges.
        var rows = new List<double[]>();
        var y = new List<double>();
        for (int i = 4 * 512; i < 60 * 512; i++)
        {
            rows.Add([mains[4 * i], m[i] * line[4 * i], 1]);
            y.Add(strain[32 * i]);
        }
        var a = MathNet.Numerics.LinearAlgebra.Matrix<double>.Build.DenseOfRowArrays(rows);
        var beta = a.QR().Solve(MathNet.Numerics.LinearAlgebra.Vector<double>.Build.DenseOfEnumerable(y));
        // The residual bias (≈3 % low) is the witness's own in-band noise in the regressor (errors in variables).
        // (beta[0] absorbs the mains lines the 150 Hz band edge keeps; the linear coupling has its own test.)
        Assert.InRange(beta[1] / b.Coefficient, 0.95, 1.05);
    }

    [Fact]
    public void AngularWitnessesCarryTheirModulationAndRedNoise()
    {
        var sim = H1.Value.Sim;
        var b = sim.Truth.Bilinear.First(x => x.Modulator == "H1:ASC-INP1_P_INMON");
        int i = sim.IndexOf(b.Modulator);
        var w = new double[64 * 512];
        sim.RenderWitness(i, 1_187_008_000, 64, w);
        var asd = Welch.Asd(w, 512, 8 * 512, 4 * 512);
        double At(double hz) => asd.Values.Span[(int)Math.Round(hz / asd.Df)];
        Assert.True(At(b.ModulationFrequency) > 10 * DetectorSimulator.AngularAsd(b.ModulationFrequency));
        Assert.InRange(At(20) / DetectorSimulator.AngularAsd(20), 0.7, 1.4);
    }
}
