namespace GwReprocess.Dsp;

/// <summary>Order statistics as NumPy's default <c>percentile</c> computes them (linear interpolation between closest ranks).</summary>
public static class Percentiles
{
    /// <summary>The <paramref name="percent"/>-th percentile (0–100) of <paramref name="values"/>.</summary>
    public static double Of(IReadOnlyList<double> values, double percent)
    {
        if (values.Count == 0) throw new ArgumentException("no values", nameof(values));
        if (percent is < 0 or > 100) throw new ArgumentOutOfRangeException(nameof(percent));
        var sorted = values.ToArray();
        Array.Sort(sorted);
        double rank = percent / 100 * (sorted.Length - 1);
        int lo = (int)Math.Floor(rank), hi = (int)Math.Ceiling(rank);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
    }

    /// <summary>Median and the 25th/75th percentiles, the bars of the published scaling plots.</summary>
    public static Quartiles QuartilesOf(IReadOnlyList<double> values) => new(Of(values, 25), Of(values, 50), Of(values, 75));
}
