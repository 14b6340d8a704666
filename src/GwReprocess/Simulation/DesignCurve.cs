namespace GwReprocess.Simulation;

/// <summary>The analytic aLIGO-like design sensitivity the simulated strain noise is coloured to (one-sided PSD, strain²/Hz).</summary>
/// <remarks>
/// <para>
/// S(f) = S_seis(f) + S_susp(f) + S_shot(f) with x = f / 215 Hz and S₀ = 10⁻⁴⁹ Hz⁻¹:
/// </para>
/// <list type="bullet">
/// <item>suspension thermal and radiation pressure: S₀ (x^−4.14 − 5 x^−2);</item>
/// <item>shot noise (with the mid-band coating thermal floor): S₀ · 111 (1 − x² + x⁴/2) / (1 + x²/2), rising ∝ f² in PSD above ~300 Hz;</item>
/// <item>seismic wall: S_susp(10 Hz) · (10 Hz / f)^16, so the curve rises steeply below 10 Hz.</item>
/// </list>
/// <para>
/// The suspension and shot terms are Ajith's analytic fit to the aLIGO zero-detuned high-power design
/// (P. Ajith, Phys. Rev. D 84, 084037 (2011), eq. 4.7); the seismic term is added here. The curve is held
/// flat below <see cref="FloorHz"/> (4 Hz) so its dynamic range stays finite. ASD values: 2.6×10⁻²² /√Hz at 10 Hz,
/// 4.3×10⁻²³ at 20 Hz, 4.8×10⁻²⁴ at 60 Hz, 1.8×10⁻²⁴ at 215 Hz (minimum), 1.4×10⁻²³ at 1 kHz, 2.8×10⁻¹⁹ at and below 4 Hz.
/// </para>
/// </remarks>
public static class DesignCurve
{
    /// <summary>Reference PSD S₀ (strain²/Hz).</summary>
    public const double S0 = 1e-49;

    /// <summary>Knee frequency f₀ of the fit (Hz).</summary>
    public const double F0 = 215;

    /// <summary>The curve is constant below this frequency (Hz).</summary>
    public const double FloorHz = 4;

    /// <summary>Where the seismic wall equals the suspension term (Hz).</summary>
    public const double SeismicHz = 10;

    private static readonly double SeismicScale = Suspension(SeismicHz);

    /// <summary>One-sided power spectral density (strain²/Hz) at <paramref name="hz"/>.</summary>
    public static double Psd(double hz)
    {
        double f = Math.Max(Math.Abs(hz), FloorHz);
        return S0 * (Seismic(f) + Suspension(f) + Shot(f));
    }

    /// <summary>Amplitude spectral density (strain/√Hz) at <paramref name="hz"/>.</summary>
    public static double Asd(double hz) => Math.Sqrt(Psd(hz));

    /// <summary>Seismic wall in units of S₀.</summary>
    public static double Seismic(double hz) => SeismicScale * Math.Pow(SeismicHz / hz, 16);

    /// <summary>Suspension thermal and radiation-pressure terms in units of S₀.</summary>
    public static double Suspension(double hz)
    {
        double x = hz / F0;
        return Math.Pow(x, -4.14) - 5 / (x * x);
    }

    /// <summary>Shot-noise term in units of S₀.</summary>
    public static double Shot(double hz)
    {
        double x2 = hz / F0 * (hz / F0);
        return 111 * (1 - x2 + x2 * x2 / 2) / (1 + x2 / 2);
    }
}
