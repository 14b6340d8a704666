using System.Globalization;

namespace GwReprocess.Dsp;

/// <summary>Values on a regular frequency grid <c>F0 + i·Df</c> (gwpy's <c>FrequencySeries</c>), such as a PSD or an ASD.</summary>
public sealed class FrequencySeries
{
    public FrequencySeries(string name, double f0, double df, ReadOnlyMemory<double> values, string unit = "")
    {
        if (!(df > 0) || !double.IsFinite(df)) throw new ArgumentOutOfRangeException(nameof(df), df, "frequency spacing must be positive");
        Name = name;
        F0 = f0;
        Df = df;
        Values = values;
        Unit = unit;
    }

    /// <summary>Channel or quantity name ("H1:GDS-CALIB_STRAIN").</summary>
    public string Name { get; }

    /// <summary>Frequency of the first value, Hz.</summary>
    public double F0 { get; }

    /// <summary>Spacing between values, Hz.</summary>
    public double Df { get; }

    public ReadOnlyMemory<double> Values { get; }

    /// <summary>Unit of the values ("1/Hz", "strain/rtHz"), empty when unknown.</summary>
    public string Unit { get; }

    public int Length => Values.Length;

    /// <summary>Frequency of value <paramref name="index"/>, Hz.</summary>
    public double FrequencyAt(int index) => F0 + index * Df;

    /// <summary>All frequencies, Hz.</summary>
    public double[] Frequencies()
    {
        var f = new double[Length];
        for (int i = 0; i < f.Length; i++) f[i] = FrequencyAt(i);
        return f;
    }

    /// <summary>Linear interpolation at <paramref name="hz"/>, holding the end values outside the grid.</summary>
    public double Interpolate(double hz)
    {
        var v = Values.Span;
        if (v.Length == 0) throw new InvalidOperationException("empty frequency series");
        double pos = (hz - F0) / Df;
        if (pos <= 0) return v[0];
        if (pos >= v.Length - 1) return v[^1];
        int i = (int)pos;
        double frac = pos - i;
        return v[i] + frac * (v[i + 1] - v[i]);
    }

    /// <summary>Element-wise square root (PSD → ASD).</summary>
    public FrequencySeries Sqrt(string unit = "")
    {
        var v = Values.Span;
        var r = new double[v.Length];
        for (int i = 0; i < r.Length; i++) r[i] = Math.Sqrt(v[i]);
        return new FrequencySeries(Name, F0, Df, r, unit);
    }

    /// <summary>Writes <c>frequency,value</c> lines with a header, invariant culture, round-trip precision (what <c>gwrepro asd --out</c> writes).</summary>
    public void WriteCsv(TextWriter writer, string valueHeader = "asd")
    {
        writer.Write("frequency,");
        writer.WriteLine(valueHeader);
        var v = Values.Span;
        for (int i = 0; i < v.Length; i++)
        {
            writer.Write(FrequencyAt(i).ToString("R", CultureInfo.InvariantCulture));
            writer.Write(',');
            writer.WriteLine(v[i].ToString("R", CultureInfo.InvariantCulture));
        }
    }

    public override string ToString() => $"FrequencySeries({Name}, f0={F0} Hz, df={Df} Hz, {Length} values)";
}
