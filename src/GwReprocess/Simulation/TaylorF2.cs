using System.Numerics;

namespace GwReprocess.Simulation;

/// <summary>Leading-order (0PN, "Newtonian") TaylorF2 inspiral in the frequency domain, cut at the Schwarzschild ISCO.</summary>
/// <remarks>
/// Stationary-phase approximation of a quasi-circular inspiral at 0PN in amplitude and phase
/// (Cutler and Flanagan 1994; Allen et al. 2012, FindChirp, eqs. 3.4, 3.6 truncated to the Newtonian term):
/// <code>
///   h̃(f) = F · (c/D) · √(5/24) · π^(−2/3) · 𝓜^(5/6) · f^(−7/6) · exp(−iΨ(f)) · w(f)
///   Ψ(f) = 2πf t_c − φ_c − π/4 + (3/128) (π𝓜f)^(−5/3)
/// </code>
/// with the chirp mass 𝓜 = (m₁m₂)^(3/5)/(m₁+m₂)^(1/5) in seconds (G𝓜/c³), distance D, an amplitude factor F ≤ 1
/// standing in for antenna pattern and inclination, and the transform convention h̃(f) = ∫h(t)e^(−2πift)dt (so the
/// inverse FFT gives a chirp rising in frequency up to t_c). w(f) is a cosine taper over [f_low, f_low + 4 Hz]
/// and over the top 15 % below f_ISCO = c³/(6^(3/2) π G M) to keep the time-domain ringing short.
/// No merger or ringdown: heavy systems (f_ISCO of 27 Hz at 160 M☉) are weak, as the inspiral-only model predicts.
/// </remarks>
public static class TaylorF2
{
    /// <summary>G M☉ / c³ in seconds (IAU nominal solar mass parameter).</summary>
    public const double SolarMassSeconds = 4.925490947641267e-6;

    /// <summary>One megaparsec in light-seconds.</summary>
    public const double MegaparsecSeconds = 3.0856775814913673e22 / 299792458.0;

    /// <summary>Chirp mass (M☉) of component masses (M☉).</summary>
    public static double ChirpMass(double m1, double m2) => Math.Pow(m1 * m2, 0.6) / Math.Pow(m1 + m2, 0.2);

    /// <summary>Schwarzschild innermost-stable-circular-orbit gravitational-wave frequency (Hz) for total mass <paramref name="totalMass"/> (M☉).</summary>
    public static double IscoFrequency(double totalMass) => 1.0 / (Math.Pow(6, 1.5) * Math.PI * totalMass * SolarMassSeconds);

    /// <summary>Newtonian time from frequency <paramref name="hz"/> to coalescence (s).</summary>
    public static double TimeToCoalescence(double chirpMass, double hz) =>
        5.0 / 256 * Math.Pow(chirpMass * SolarMassSeconds, -5.0 / 3) * Math.Pow(Math.PI * hz, -8.0 / 3);

    /// <summary>The taper w(f) (0 outside [f_low, f_ISCO]).</summary>
    public static double Taper(double hz, double lowHz, double iscoHz)
    {
        if (hz < lowHz || hz >= iscoHz) return 0;
        double rise = 4.0, fallStart = 0.85 * iscoHz;
        double w = 1;
        if (hz < lowHz + rise) w *= 0.5 - 0.5 * Math.Cos(Math.PI * (hz - lowHz) / rise);
        if (hz > fallStart) w *= 0.5 + 0.5 * Math.Cos(Math.PI * (hz - fallStart) / (iscoHz - fallStart));
        return w;
    }

    /// <summary>|h̃(f)| for an amplitude factor of 1 (strain/Hz), before the taper.</summary>
    public static double Amplitude(double chirpMass, double distanceMpc, double hz)
    {
        double mc = chirpMass * SolarMassSeconds;
        return Math.Sqrt(5.0 / 24) * Math.Pow(Math.PI, -2.0 / 3) * Math.Pow(mc, 5.0 / 6) / (distanceMpc * MegaparsecSeconds) * Math.Pow(hz, -7.0 / 6);
    }

    /// <summary>h̃(f) with the taper, for coalescence at <paramref name="tc"/> seconds after the transform's time origin.</summary>
    public static Complex Strain(double hz, double m1, double m2, double distanceMpc, double amplitudeFactor, double tc, double phaseC, double lowHz)
    {
        double mc = ChirpMass(m1, m2);
        double w = Taper(hz, lowHz, IscoFrequency(m1 + m2));
        if (w == 0) return Complex.Zero;
        double psi = 2 * Math.PI * hz * tc - phaseC - Math.PI / 4 + 3.0 / 128 * Math.Pow(Math.PI * mc * SolarMassSeconds * hz, -5.0 / 3);
        var (s, c) = Math.SinCos(psi);
        double a = amplitudeFactor * w * Amplitude(mc, distanceMpc, hz);
        return new Complex(a * c, -a * s);
    }

    /// <summary>Optimal SNR √(4∫|h̃|²/S df) against a one-sided PSD, integrated on a 1/64 Hz grid from f_low to f_ISCO.</summary>
    public static double OptimalSnr(double m1, double m2, double distanceMpc, double amplitudeFactor, double lowHz, Func<double, double> psd)
    {
        double mc = ChirpMass(m1, m2), isco = IscoFrequency(m1 + m2);
        const double df = 1.0 / 64;
        double sum = 0;
        for (double f = lowHz + df / 2; f < isco; f += df)
        {
            double a = amplitudeFactor * Taper(f, lowHz, isco) * Amplitude(mc, distanceMpc, f);
            sum += a * a / psd(f) * df;
        }
        return Math.Sqrt(4 * sum);
    }
}
