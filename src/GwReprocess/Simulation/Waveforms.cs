namespace GwReprocess.Simulation;

/// <summary>What each <see cref="WaveformFamily"/> is called in configuration and output, how long it lasts, and its optimal SNR.</summary>
public static class Waveforms
{
    /// <summary>The names configuration accepts, in <see cref="WaveformFamily"/> order.</summary>
    public static IReadOnlyList<string> Names { get; } = ["taylorf2-0pn", "phenomb"];

    /// <summary>The configuration name of <paramref name="family"/>.</summary>
    public static string Name(WaveformFamily family) => Names[(int)family];

    /// <summary>The family named <paramref name="name"/> (as <see cref="Names"/> spells it, case-insensitive).</summary>
    public static bool TryParse(string name, out WaveformFamily family)
    {
        for (int i = 0; i < Names.Count; i++)
            if (string.Equals(Names[i], name.Trim(), StringComparison.OrdinalIgnoreCase))
            {
                family = (WaveformFamily)i;
                return true;
            }
        family = default;
        return false;
    }

    /// <summary>A line describing the family, for truth.json.</summary>
    public static string Describe(WaveformFamily family) => family switch
    {
        WaveformFamily.PhenomB => "IMRPhenomB (Ajith et al. 2011, arXiv:0909.2867) inspiral-merger-ringdown, non-spinning, amplitude peak at the injection time",
        _ => "TaylorF2 0PN inspiral to Schwarzschild ISCO",
    };

    /// <summary>Time (s) the waveform of an <paramref name="m1"/> + <paramref name="m2"/> M☉ system spends from <paramref name="lowHz"/> to its coalescence (0PN) or merger (PhenomB).</summary>
    public static double Lead(WaveformFamily family, double m1, double m2, double lowHz) => family switch
    {
        WaveformFamily.PhenomB => Math.Max(0, new PhenomB(m1, m2).TimeToMerger(lowHz)),
        _ => TaylorF2.TimeToCoalescence(TaylorF2.ChirpMass(m1, m2), lowHz),
    };

    /// <summary>
    /// The optimal SNR against <paramref name="psd"/> of an <paramref name="m1"/> + <paramref name="m2"/> M☉ source at <paramref name="distanceMpc"/>,
    /// as a function of a detector's amplitude factor. PhenomB's SNR is linear in the factor: its integral is done once here, not per detector.
    /// </summary>
    public static Func<double, double> OptimalSnr(WaveformFamily family, double m1, double m2, double distanceMpc, double lowHz, Func<double, double> psd)
    {
        if (family != WaveformFamily.PhenomB) return factor => TaylorF2.OptimalSnr(m1, m2, distanceMpc, factor, lowHz, psd);
        double unit = new PhenomB(m1, m2).OptimalSnr(distanceMpc, 1, lowHz, psd);
        return factor => factor * unit;
    }
}
