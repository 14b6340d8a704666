using System.Numerics;

namespace GwReprocess.Dsp;

/// <summary>SciPy's <c>zpk2sos(z, p, k, pairing='nearest')</c> for digital filters: poles nearest the unit circle go last, each paired with its nearest zeros.</summary>
internal static class ZpkToSos
{
    public static SecondOrderSections Convert(Complex[] zIn, Complex[] pIn, double k)
    {
        if (zIn.Length == 0 && pIn.Length == 0) return new SecondOrderSections([k, 0, 0, 1, 0, 0]);
        var p = new List<Complex>(pIn);
        var z = new List<Complex>(zIn);
        while (p.Count < z.Count) p.Add(Complex.Zero);
        while (z.Count < p.Count) z.Add(Complex.Zero);
        int nSections = (Math.Max(p.Count, z.Count) + 1) / 2;
        if (p.Count % 2 == 1)
        {
            p.Add(Complex.Zero);
            z.Add(Complex.Zero);
        }
        z = ComplexThenReal(z);
        p = ComplexThenReal(p);

        var sos = new double[6 * nSections];
        for (int si = nSections - 1; si >= 0; si--)
        {
            int p1Index = Worst(p, null);
            var p1 = p[p1Index];
            p.RemoveAt(p1Index);
            int realPoles = CountReal(p);
            Span<double> row = sos.AsSpan(6 * si, 6);
            if (IsReal(p1) && realPoles == 0)
            {
                int z1Index = Nearest(z, p1, Which.Real);
                var z1 = z[z1Index];
                z.RemoveAt(z1Index);
                Section([z1, 0], [p1, 0], row);
            }
            else if (p.Count + 1 == z.Count && !IsReal(p1) && realPoles == 1 && CountReal(z) == 1)
            {
                int z1Index = Nearest(z, p1, Which.Complex);
                var z1 = z[z1Index];
                z.RemoveAt(z1Index);
                Section([z1, Complex.Conjugate(z1)], [p1, Complex.Conjugate(p1)], row);
            }
            else
            {
                Complex p2;
                if (IsReal(p1))
                {
                    int p2Index = Worst(p, onlyReal: true);
                    p2 = p[p2Index];
                    p.RemoveAt(p2Index);
                }
                else
                {
                    p2 = Complex.Conjugate(p1);
                }
                if (z.Count > 0)
                {
                    int z1Index = Nearest(z, p1, Which.Any);
                    var z1 = z[z1Index];
                    z.RemoveAt(z1Index);
                    if (!IsReal(z1))
                    {
                        Section([z1, Complex.Conjugate(z1)], [p1, p2], row);
                    }
                    else if (z.Count > 0)
                    {
                        int z2Index = Nearest(z, p1, Which.Real);
                        var z2 = z[z2Index];
                        z.RemoveAt(z2Index);
                        Section([z1, z2], [p1, p2], row);
                    }
                    else
                    {
                        Section([z1], [p1, p2], row);
                    }
                }
                else
                {
                    Section([], [p1, p2], row);
                }
            }
        }
        for (int i = 0; i < 3; i++) sos[i] *= k;
        return new SecondOrderSections(sos);
    }

    private enum Which { Real, Complex, Any }

    private static bool IsReal(Complex c) => c.Imaginary == 0;

    private static int CountReal(List<Complex> values)
    {
        int n = 0;
        foreach (var v in values) if (IsReal(v)) n++;
        return n;
    }

    /// <summary>Index of the value closest to the unit circle (first on ties, as <c>argmin</c>), among real values only when asked.</summary>
    private static int Worst(List<Complex> values, bool? onlyReal)
    {
        int best = -1;
        double bestDistance = double.PositiveInfinity;
        for (int i = 0; i < values.Count; i++)
        {
            if (onlyReal == true && !IsReal(values[i])) continue;
            double d = Math.Abs(1 - Complex.Abs(values[i]));
            if (d < bestDistance)
            {
                bestDistance = d;
                best = i;
            }
        }
        return best;
    }

    /// <summary>SciPy's <c>_nearest_real_complex_idx</c>: the closest element of the requested kind (stable on ties).</summary>
    private static int Nearest(List<Complex> from, Complex to, Which which)
    {
        int best = -1;
        double bestDistance = double.PositiveInfinity;
        for (int i = 0; i < from.Count; i++)
        {
            bool real = IsReal(from[i]);
            if (which == Which.Real && !real || which == Which.Complex && real) continue;
            double d = Complex.Abs(from[i] - to);
            if (d < bestDistance)
            {
                bestDistance = d;
                best = i;
            }
        }
        if (best < 0) throw new InvalidOperationException($"no {which} zero left to pair");
        return best;
    }

    /// <summary>SciPy's <c>_cplxreal</c> then concatenation: one member (positive imaginary part) of each conjugate pair, sorted by real part, then the real values sorted.</summary>
    private static List<Complex> ComplexThenReal(List<Complex> values)
    {
        const double tol = 100 * 2.220446049250313e-16;
        var sorted = values.OrderBy(v => v.Real).ThenBy(v => Math.Abs(v.Imaginary)).ToList();
        var reals = new List<Complex>();
        var positive = new List<Complex>();
        var negative = new List<Complex>();
        foreach (var v in sorted)
        {
            if (Math.Abs(v.Imaginary) <= tol * Complex.Abs(v)) reals.Add(new Complex(v.Real, 0));
            else if (v.Imaginary > 0) positive.Add(v);
            else negative.Add(v);
        }
        if (positive.Count != negative.Count) throw new ArgumentException("complex value without its conjugate");
        SortRunsByImaginary(positive, tol);
        SortRunsByImaginary(negative, tol, reference: positive);
        var result = new List<Complex>(positive.Count + reals.Count);
        for (int i = 0; i < positive.Count; i++)
        {
            var conj = Complex.Conjugate(negative[i]);
            if (Complex.Abs(positive[i] - conj) > tol * Complex.Abs(negative[i])) throw new ArgumentException("complex value without its conjugate");
            result.Add((positive[i] + conj) / 2);
        }
        result.AddRange(reals);
        return result;
    }

    /// <summary>Within runs of (nearly) equal real part of <paramref name="reference"/> (itself by default), sort by |imaginary part|.</summary>
    private static void SortRunsByImaginary(List<Complex> values, double tol, List<Complex>? reference = null)
    {
        reference ??= values;
        int start = 0;
        while (start < values.Count)
        {
            int stop = start;
            while (stop + 1 < reference.Count && reference[stop + 1].Real - reference[stop].Real <= tol * Complex.Abs(reference[stop])) stop++;
            if (stop > start)
            {
                var run = values.GetRange(start, stop - start + 1).OrderBy(v => Math.Abs(v.Imaginary)).ToList();
                for (int i = 0; i < run.Count; i++) values[start + i] = run[i];
            }
            start = stop + 1;
        }
    }

    /// <summary><c>_single_zpksos</c>: polynomials of up to two zeros and poles, right-aligned in the row.</summary>
    private static void Section(Complex[] zeros, Complex[] poles, Span<double> row)
    {
        row.Clear();
        var b = Poly(zeros);
        var a = Poly(poles);
        for (int i = 0; i < b.Length; i++) row[3 - b.Length + i] = b[i];
        for (int i = 0; i < a.Length; i++) row[6 - a.Length + i] = a[i];
    }

    /// <summary>numpy's <c>poly</c> of up to two roots (real part: the roots come in conjugate pairs or are real).</summary>
    private static double[] Poly(Complex[] roots)
    {
        var c = new Complex[] { Complex.One };
        foreach (var r in roots)
        {
            var next = new Complex[c.Length + 1];
            for (int i = 0; i < c.Length; i++)
            {
                next[i] += c[i];
                next[i + 1] += -r * c[i];
            }
            c = next;
        }
        var real = new double[c.Length];
        for (int i = 0; i < c.Length; i++) real[i] = c[i].Real;
        return real;
    }
}
