namespace GwReprocess.Dsp;

/// <summary>An IIR filter as cascaded biquads, SciPy's <c>sos</c> array: each row <c>b0 b1 b2 a0 a1 a2</c> with <c>a0 = 1</c>.</summary>
public sealed class SecondOrderSections
{
    private readonly double[] _coefficients;

    /// <summary>Sections from a row-major <c>n×6</c> coefficient array (copied).</summary>
    public SecondOrderSections(ReadOnlySpan<double> coefficients)
    {
        if (coefficients.Length == 0 || coefficients.Length % 6 != 0)
            throw new ArgumentException($"an sos array needs n×6 coefficients, got {coefficients.Length}", nameof(coefficients));
        _coefficients = coefficients.ToArray();
        for (int s = 0; s < Count; s++)
        {
            if (_coefficients[6 * s + 3] != 1.0)
                throw new ArgumentException($"section {s} has a0 = {_coefficients[6 * s + 3]}, sosfilt requires a0 = 1", nameof(coefficients));
        }
    }

    /// <summary>Number of biquad sections.</summary>
    public int Count => _coefficients.Length / 6;

    /// <summary>Row-major <c>Count×6</c> coefficients.</summary>
    public ReadOnlySpan<double> Coefficients => _coefficients;

    /// <summary>Coefficient <paramref name="column"/> (0..5) of section <paramref name="section"/>.</summary>
    public double this[int section, int column] => _coefficients[6 * section + column];

    /// <summary>SciPy's <c>sosfilt_zi</c>: per-section DF-II-transposed state (row-major <c>Count×2</c>) for a unit step's steady state.</summary>
    public double[] StepInitialState()
    {
        var zi = new double[2 * Count];
        double scale = 1.0;
        for (int s = 0; s < Count; s++)
        {
            double b0 = this[s, 0], b1 = this[s, 1], b2 = this[s, 2], a1 = this[s, 4], a2 = this[s, 5];
            // lfilter_zi: solve (I − companion(a)^T) zi = b[1:] − a[1:]·b0 for the 2×2 case.
            double r0 = b1 - a1 * b0, r1 = b2 - a2 * b0;
            // I − A^T = [[1 + a1, -1], [a2, 1]]
            double det = (1 + a1) + a2;
            double z0 = (r0 + r1) / det;
            double z1 = r1 - a2 * z0;
            zi[2 * s] = scale * z0;
            zi[2 * s + 1] = scale * z1;
            scale *= (b0 + b1 + b2) / (1 + a1 + a2);
        }
        return zi;
    }

    /// <summary>Rows with <c>b2 = 0</c> and with <c>a2 = 0</c>, as SciPy counts them to size the <c>sosfiltfilt</c> padding.</summary>
    public int DefaultPadLength()
    {
        int zerosB2 = 0, zerosA2 = 0;
        for (int s = 0; s < Count; s++)
        {
            if (this[s, 2] == 0) zerosB2++;
            if (this[s, 5] == 0) zerosA2++;
        }
        int ntaps = 2 * Count + 1 - Math.Min(zerosB2, zerosA2);
        return 3 * ntaps;
    }

    public override string ToString() => $"SecondOrderSections({Count} sections)";
}
