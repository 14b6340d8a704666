using System.Globalization;

namespace GwReprocess.Analysis;

/// <summary>
/// Injections of one network-SNR bin [<paramref name="SnrLow"/>, <paramref name="SnrHigh"/>) that were scored, and how many scored
/// above the search's threshold.
/// </summary>
/// <param name="SnrLow">Lower edge (inclusive).</param>
/// <param name="SnrHigh">Upper edge (exclusive); null for the last, open bin.</param>
/// <param name="Total">Scored injections in the bin.</param>
/// <param name="Found">Of those, how many score strictly above the threshold.</param>
/// <param name="MeanSnr">Mean network SNR of the bin's injections (NaN when empty): where the plot puts the bin.</param>
public sealed record EfficiencyBin(double SnrLow, double? SnrHigh, int Total, int Found, double MeanSnr)
{
    /// <summary>Found / total (NaN for an empty bin).</summary>
    public double Efficiency => Total > 0 ? (double)Found / Total : double.NaN;

    /// <summary>Binomial standard error √(ε(1 − ε)/n); 0 at ε = 0 or 1, where <see cref="WilsonLow"/>/<see cref="WilsonHigh"/> still say something.</summary>
    public double Sigma => Total > 0 ? Math.Sqrt(Efficiency * (1 - Efficiency) / Total) : double.NaN;

    /// <summary>Lower end of the 68.3 % (z = 1) Wilson score interval of the efficiency.</summary>
    public double WilsonLow => Wilson(-1);

    /// <summary>Upper end of the 68.3 % (z = 1) Wilson score interval of the efficiency.</summary>
    public double WilsonHigh => Wilson(+1);

    /// <summary>The bin as text: "8–10" or "≥ 20".</summary>
    public string Label => SnrHigh is double h
        ? string.Create(CultureInfo.InvariantCulture, $"{SnrLow:G4}–{h:G4}")
        : string.Create(CultureInfo.InvariantCulture, $"≥ {SnrLow:G4}");

    private double Wilson(int sign)
    {
        if (Total == 0) return double.NaN;
        // z = 1: centre (p + 1/2n)/(1 + 1/n), half-width √(p(1−p)/n + 1/4n²)/(1 + 1/n).
        double n = Total, p = Efficiency, d = 1 + 1 / n;
        double v = ((p + 1 / (2 * n)) + sign * Math.Sqrt(p * (1 - p) / n + 1 / (4 * n * n))) / d;
        return Math.Clamp(v, 0, 1);
    }
}
