using System.Numerics;
using GwReprocess.Simulation;

namespace GwReprocess.Tests.Simulation;

/// <summary>
/// IMRPhenomB against the published formulas of Ajith et al. 2011 (PRL 106, 241101, arXiv:0909.2867): Eq. (1) for the
/// amplitude and phase, Eq. (2) with Table I for the parameters, evaluated here from the paper's expressions written out
/// afresh (Math.Pow throughout, the table laid out as the paper lays it out) rather than through the model's code.
/// </summary>
public sealed class PhenomBTests
{
    private const double Msun = 4.925490947641267e-6; // G M☉ / c³ (s)
    private const double Mpc = 3.0856775814913673e22 / 299792458.0; // light-seconds

    /// <summary>Table I: μ⁽⁰⁾(χ) and y⁽¹⁰⁾, y⁽¹¹⁾, y⁽¹²⁾, y⁽²⁰⁾, y⁽²¹⁾, y⁽³⁰⁾ of one parameter; μ = μ⁽⁰⁾ + Σ y⁽ⁱʲ⁾ ηⁱ χʲ (Eq. 2).</summary>
    private sealed record TableRow(Func<double, double> Leading, double Y10, double Y11, double Y12, double Y20, double Y21, double Y30)
    {
        public double At(double eta, double chi) =>
            Leading(chi) + Y10 * eta + Y11 * eta * chi + Y12 * eta * Math.Pow(chi, 2) + Y20 * Math.Pow(eta, 2) + Y21 * Math.Pow(eta, 2) * chi + Y30 * Math.Pow(eta, 3);
    }

    private static readonly TableRow Psi2 = new(_ => 3715.0 / 756, -920.91, 492.13, 135.03, 6741.9, -1053.4, -13397);
    private static readonly TableRow Psi3 = new(c => -16 * Math.PI + 113 * c / 3, 17022, -9565.9, -2182.1, -121370, 20752, 238590);
    private static readonly TableRow Psi4 = new(c => 15293365.0 / 508032 - 405 * c * c / 8, -125440, 75066, 13382, 873540, -165730, -1693600);
    private static readonly TableRow Psi6 = new(_ => 0, -889770, 631020, 50676, 5980800, -1414800, -11280000);
    private static readonly TableRow Psi7 = new(_ => 0, 869600, -670980, -30082, -5837900, 1514500, 10891000);
    private static readonly TableRow Psi8 = new(_ => 0, -366000, 306700, 631.76, 2426500, -721800, -4552400);
    private static readonly TableRow PiMF1 = new(c => 1 - 4.4547 * Math.Pow(1 - c, 0.217) + 3.521 * Math.Pow(1 - c, 0.26), 0.64365, 0.82696, -0.27063, -0.058218, -3.9346, -7.0916);
    private static readonly TableRow PiMF2 = new(c => (1 - 0.63 * Math.Pow(1 - c, 0.3)) / 2, 0.14690, -0.12281, -0.026091, -0.024900, 0.17013, 2.3252);
    private static readonly TableRow PiMSigma = new(c => (1 - 0.63 * Math.Pow(1 - c, 0.3)) * Math.Pow(1 - c, 0.45) / 4, -0.40979, -0.035226, 0.10082, 1.8286, -0.020169, -2.8698);
    private static readonly TableRow PiMF3 = new(c => 0.32361 + 0.048935 * c + 0.013463 * c * c, -0.13313, -0.081719, 0.14512, -0.27140, 0.12788, 4.9220);

    /// <summary>Eq. (1) of the paper for one binary, written from the paper.</summary>
    private sealed class Reference
    {
        public Reference(double m1, double m2, double chi, double distanceMpc)
        {
            M = (m1 + m2) * Msun;
            Eta = m1 * m2 / Math.Pow(m1 + m2, 2);
            Chi = chi;
            F1 = PiMF1.At(Eta, chi) / (Math.PI * M);
            F2 = PiMF2.At(Eta, chi) / (Math.PI * M);
            Sigma = PiMSigma.At(Eta, chi) / (Math.PI * M);
            F3 = PiMF3.At(Eta, chi) / (Math.PI * M);
            C = Math.Pow(M, 5.0 / 6) / (distanceMpc * Mpc * Math.Pow(Math.PI, 2.0 / 3)) * Math.Sqrt(5 * Eta / 24);
        }

        public double M, Eta, Chi, F1, F2, Sigma, F3, C;

        public double Alpha2 => -323.0 / 224 + 451 * Eta / 168;
        public double Alpha3 => (27.0 / 8 - 11 * Eta / 6) * Chi;
        public double Eps1 => 1.4547 * Chi - 1.8897;
        public double Eps2 => -1.8153 * Chi + 1.6557;

        public double V(double f) => Math.Pow(Math.PI * M * f, 1.0 / 3);

        public double Lorentzian(double f) => Sigma / (2 * Math.PI * (Math.Pow(f - F2, 2) + Sigma * Sigma / 4));

        private double Inspiral(double f) => Math.Pow(f / F1, -7.0 / 6) * (1 + Alpha2 * Math.Pow(V(f), 2) + Alpha3 * Math.Pow(V(f), 3));

        private double MergerShape(double f) => Math.Pow(f / F1, -2.0 / 3) * (1 + Eps1 * V(f) + Eps2 * Math.Pow(V(f), 2));

        // w_m and w_r make A continuous at f₁ and f₂.
        private double Wm => Inspiral(F1) / MergerShape(F1);
        private double Wr => Wm * MergerShape(F2) / Lorentzian(F2);

        public double Amplitude(double f) => C * Math.Pow(F1, -7.0 / 6) *
            (f < F1 ? Inspiral(f) : f < F2 ? Wm * MergerShape(f) : Wr * Lorentzian(f));

        public double Phase(double f)
        {
            double v = V(f);
            double[] psi = [1, 0, Psi2.At(Eta, Chi), Psi3.At(Eta, Chi), Psi4.At(Eta, Chi), 0, Psi6.At(Eta, Chi), Psi7.At(Eta, Chi), Psi8.At(Eta, Chi)];
            double sum = 0;
            for (int k = 0; k <= 8; k++) sum += psi[k] * Math.Pow(v, k);
            return 3.0 / (128 * Eta * Math.Pow(v, 5)) * sum;
        }
    }

    [Fact]
    public void TransitionFrequenciesOfAnEqualMassNonSpinningBinaryAreTableI()
    {
        // Table I at η = 1/4, χ = 0, summed by hand: πMf₁ = 1 − 4.4547 + 3.521 + 0.64365/4 − 0.058218/16 − 7.0916/64, etc.
        var model = new PhenomB(20, 20);
        double piM = Math.PI * 40 * Msun;
        Assert.Equal(0.112767625, model.F1 * piM, 12);
        Assert.Equal(0.2565, model.F2 * piM, 12);
        Assert.Equal(0.059499375, model.Sigma * piM, 12);
        Assert.Equal(0.35027125, model.F3 * piM, 12);
        // In hertz for 20 + 20 M☉: f₁ 182.2, f₂ 414.4, σ 96.1, f₃ 565.9.
        Assert.Equal(182.18, model.F1, 1);
        Assert.Equal(414.39, model.F2, 1);
        Assert.Equal(96.13, model.Sigma, 1);
        Assert.Equal(565.89, model.F3, 1);
    }

    [Fact]
    public void RingdownFrequencyLiesNearTheRemnantsQuasiNormalMode()
    {
        // Independent physics: the remnant of an equal-mass non-spinning merger has M_f = 0.9516 M, a_f = 0.6865 (Scheel et al.
        // 2009, PRD 79, 024003); its l = m = 2 fundamental mode has M_f ω = 1.5251 − 1.1568 (1 − a_f)^0.1292 (Berti, Cardoso and
        // Will 2006, PRD 73, 064030, Table VIII). PhenomB's f₂ is a fitted Lorentzian centre, not the QNM itself: within 10 %.
        var model = new PhenomB(30, 30);
        double m = 60 * Msun, mf = 0.9516 * m;
        double fQnm = (1.5251 - 1.1568 * Math.Pow(1 - 0.6865, 0.1292)) / mf / (2 * Math.PI);
        Assert.InRange(model.F2 / fQnm, 0.9, 1.1);
        // And it sits far above the ISCO frequency where the 0PN model stops (0.082 vs 0.022 / M, nearly four times).
        Assert.InRange(model.F2 / TaylorF2.IscoFrequency(60), 3, 4.5);
    }

    [Theory]
    [InlineData(20, 20, 0, 1000)]
    [InlineData(30, 10, 0.5, 400)]
    [InlineData(50, 25, -0.3, 2500)]
    [InlineData(36, 29, 0, 410)]
    public void AmplitudeAndPhaseFollowEquationOneInEachRegime(double m1, double m2, double chi, double distance)
    {
        var model = new PhenomB(m1, m2, chi);
        var r = new Reference(m1, m2, chi, distance);
        Assert.Equal(r.F1, model.F1, r.F1 * 1e-12);
        Assert.Equal(r.F2, model.F2, r.F2 * 1e-12);
        Assert.Equal(r.Sigma, model.Sigma, r.Sigma * 1e-12);
        Assert.Equal(r.F3, model.F3, r.F3 * 1e-12);
        // Below f₁ (two points), between f₁ and f₂, between f₂ and f₃.
        foreach (double f in new[] { 0.3 * r.F1, 0.8 * r.F1, 0.5 * (r.F1 + r.F2), 0.5 * (r.F2 + r.F3) })
        {
            double a = r.Amplitude(f);
            Assert.True(Math.Abs(model.Amplitude(f, distance) / a - 1) < 1e-10, $"A({f:F1} Hz) = {model.Amplitude(f, distance):E6}, paper {a:E6}");
            double psi = r.Phase(f);
            Assert.True(Math.Abs(model.Phase(f) - psi) < 1e-9 * Math.Max(1, Math.Abs(psi)), $"ψ({f:F1} Hz) = {model.Phase(f)}, paper {psi}");
            // h̃ = F A e^(−i(2πf t₀ − φ₀ + ψ)) where the taper is 1.
            const double factor = 0.7, t0 = 1.25, phi0 = 0.4;
            var h = model.Strain(f, distance, factor, t0, phi0, 0.25 * r.F1);
            var expected = factor * a * Complex.Exp(-Complex.ImaginaryOne * (2 * Math.PI * f * t0 - phi0 + psi));
            Assert.True((h - expected).Magnitude < 1e-8 * expected.Magnitude, $"h̃({f:F1} Hz) = {h}, expected {expected}");
        }
        // The group delay the model reports is the derivative of that phase.
        double g = 0.6 * r.F1, step = 1e-4 * g;
        double numeric = (r.Phase(g + step) - r.Phase(g - step)) / (2 * step);
        Assert.Equal(numeric, model.PhaseDerivative(g), Math.Abs(numeric) * 1e-6);
    }

    [Theory]
    [InlineData(20, 20, 0)]
    [InlineData(30, 10, 0.5)]
    [InlineData(70, 12, -0.4)]
    public void AmplitudeIsContinuousAtF1AndF2ButChangesLaw(double m1, double m2, double chi)
    {
        var model = new PhenomB(m1, m2, chi);
        foreach (double f in new[] { model.F1, model.F2 })
        {
            double below = model.Amplitude(f * (1 - 1e-9), 1000), above = model.Amplitude(f * (1 + 1e-9), 1000);
            Assert.True(Math.Abs(above / below - 1) < 1e-6, $"A jumps at {f:F2} Hz: {below:E6} → {above:E6}");
            // The logarithmic slope does change there (the pieces are distinct laws, not one curve).
            double slopeBelow = Math.Log(model.Amplitude(f * 0.99, 1000) / model.Amplitude(f * 0.98, 1000)) / Math.Log(0.99 / 0.98);
            double slopeAbove = Math.Log(model.Amplitude(f * 1.02, 1000) / model.Amplitude(f * 1.01, 1000)) / Math.Log(1.02 / 1.01);
            Assert.True(Math.Abs(slopeAbove - slopeBelow) > 0.05, $"slopes {slopeBelow:F3} and {slopeAbove:F3} at {f:F1} Hz");
        }
    }

    [Theory]
    [InlineData(20, 20, 0)]
    [InlineData(40, 10, 0.6)]
    public void InspiralAmplitudeTendsToTheZeroPnAmplitudeAtLowFrequency(double m1, double m2, double chi)
    {
        var model = new PhenomB(m1, m2, chi);
        var r = new Reference(m1, m2, chi, 1000);
        double previous = double.MaxValue;
        foreach (double f in new[] { 20.0, 5, 1, 0.2, 0.05, 0.01 })
        {
            double ratio = model.Amplitude(f, 1000) / TaylorF2.Amplitude(TaylorF2.ChirpMass(m1, m2), 1000, f);
            double v = r.V(f);
            // Exactly the PN amplitude corrections 1 + α₂v² + α₃v³ on top of 0PN ...
            Assert.Equal(1 + r.Alpha2 * v * v + r.Alpha3 * v * v * v, ratio, 1e-10);
            // ... which vanish as f → 0.
            Assert.True(Math.Abs(ratio - 1) < previous, $"at {f} Hz the ratio {ratio} is no closer to 1");
            previous = Math.Abs(ratio - 1);
        }
        Assert.True(previous < 1e-3, $"at 0.01 Hz PhenomB / 0PN − 1 = {previous:E2}");
    }

    [Fact]
    public void SnrIntegralIsTheSumOverTheTaperedAmplitude()
    {
        // √(4 ∫ |w A|²/S df) by a trapezoid on a 1/256 Hz grid here, against the model's 1/16 Hz midpoint sum.
        var model = new PhenomB(25, 15);
        double top = model.TaperEnd, df = 1.0 / 256, sum = 0;
        for (double f = 20; f <= top; f += df)
        {
            double a = model.Taper(f, 20) * model.Amplitude(f, 800) * 0.6;
            double term = a * a / DesignCurve.Psd(f);
            sum += (f == 20 || f + df > top ? 0.5 : 1) * term * df;
        }
        double snr = model.OptimalSnr(800, 0.6, 20, DesignCurve.Psd);
        Assert.Equal(Math.Sqrt(4 * sum), snr, snr * 1e-4);
        // Linear in the amplitude factor and in 1/distance.
        Assert.Equal(snr / 0.6 * 2 / 3, model.OptimalSnr(1200, 1, 20, DesignCurve.Psd), snr * 1e-12);
    }
}
