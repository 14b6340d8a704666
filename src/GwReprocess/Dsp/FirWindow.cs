namespace GwReprocess.Dsp;

/// <summary>The shapes <see cref="FirWindow"/> knows, named as <c>scipy.signal.get_window</c> names them.</summary>
public enum FirWindowKind
{
    Kaiser,
    Hann,
    Hamming,
    Blackman,
    Boxcar,
}

/// <summary>A window function as <c>scipy.signal.get_window</c> computes it: symmetric for filter design, periodic for spectra.</summary>
public readonly record struct FirWindow(FirWindowKind Kind, double Beta = 0)
{
    /// <summary>SciPy's <c>resample_poly</c> default, <c>('kaiser', 5.0)</c>.</summary>
    public static FirWindow ResamplingDefault => Kaiser(5.0);

    public static FirWindow Kaiser(double beta) => new(FirWindowKind.Kaiser, beta);

    public static FirWindow Hann => new(FirWindowKind.Hann);

    public static FirWindow Hamming => new(FirWindowKind.Hamming);

    public static FirWindow Blackman => new(FirWindowKind.Blackman);

    public static FirWindow Boxcar => new(FirWindowKind.Boxcar);

    /// <summary>The <paramref name="length"/>-point window; <paramref name="periodic"/> is SciPy's <c>fftbins=True</c> (spectral analysis), otherwise symmetric (filter design).</summary>
    public double[] Compute(int length, bool periodic)
    {
        if (length < 0) throw new ArgumentOutOfRangeException(nameof(length), length, "a window length cannot be negative");
        if (length == 0) return [];
        if (length == 1) return [1.0];
        // SciPy builds a periodic window as the symmetric window one point longer, truncated.
        int m = periodic ? length + 1 : length;
        var w = new double[m];
        switch (Kind)
        {
            case FirWindowKind.Kaiser:
                {
                    double alpha = (m - 1) / 2.0;
                    double i0Beta = MathNet.Numerics.SpecialFunctions.BesselI0(Beta);
                    for (int n = 0; n < m; n++)
                    {
                        double r = (n - alpha) / alpha;
                        w[n] = MathNet.Numerics.SpecialFunctions.BesselI0(Beta * Math.Sqrt(1 - r * r)) / i0Beta;
                    }
                    break;
                }
            case FirWindowKind.Hann:
                GeneralCosine(w, [0.5, 0.5]);
                break;
            case FirWindowKind.Hamming:
                GeneralCosine(w, [0.54, 0.46]);
                break;
            case FirWindowKind.Blackman:
                GeneralCosine(w, [0.42, 0.50, 0.08]);
                break;
            case FirWindowKind.Boxcar:
                Array.Fill(w, 1.0);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(Kind), Kind, "unknown window");
        }
        return periodic ? w[..length] : w;
    }

    /// <summary>SciPy's <c>general_cosine</c>: sum of a_k cos(k x) over x = linspace(-pi, pi, M).</summary>
    private static void GeneralCosine(double[] w, double[] a)
    {
        int m = w.Length;
        double step = 2 * Math.PI / (m - 1);
        for (int n = 0; n < m; n++)
        {
            // linspace computes start + n*step, with the last point pinned to the stop value.
            double fac = n == m - 1 ? Math.PI : -Math.PI + n * step;
            double sum = 0;
            for (int k = 0; k < a.Length; k++) sum += a[k] * Math.Cos(k * fac);
            w[n] = sum;
        }
    }

    public override string ToString() => Kind == FirWindowKind.Kaiser ? $"('kaiser', {Beta})" : Kind.ToString().ToLowerInvariant();
}
