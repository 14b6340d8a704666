namespace GwReprocess.Dsp;

/// <summary>The anti-aliasing FIR of a rational resampler by <c>Up/Down</c>, laid out as a polyphase bank so only output samples are computed.</summary>
/// <remarks>
/// Output sample k is <c>y[k] = Σ_n x[n]·h[k·Down + HalfLength − n·Up]</c> with x zero outside the input,
/// which is exactly what <c>scipy.signal.resample_poly(x, up, down, window=..., padtype='constant')</c> returns
/// (its pre-padding and <c>n_pre_remove</c> centre the filter on <c>k·Down</c> in the upsampled stream).
/// </remarks>
public sealed class ResamplingFilter
{
    /// <summary>Largest reduced up or down factor accepted: the default filter has 20·max(up, down)+1 taps.</summary>
    public const int MaxFactor = 4096;

    private readonly double[] _taps;

    private readonly bool _isConvolution;

    private ResamplingFilter(int up, int down, double[] taps, int halfLength, bool isConvolution = false)
    {
        Up = up;
        Down = down;
        _taps = taps;
        HalfLength = halfLength;
        _isConvolution = isConvolution;
        if (IsIdentity) return;
        // Every phase gets the same padded length (a multiple of 4, for whole 256-bit vectors); missing taps are zeros.
        int longest = (taps.Length + up - 1) / up;
        TapsPerPhase = (longest + 3) & ~3;
        Bank = new double[(long)up * TapsPerPhase > int.MaxValue ? throw new BadInputException($"resampling filter {up}/{down} with {taps.Length} taps is too large") : up * TapsPerPhase];
        for (int phase = 0; phase < up; phase++)
        {
            for (int m = 0; m < TapsPerPhase; m++)
            {
                long j = phase + (long)(TapsPerPhase - 1 - m) * up;
                Bank[phase * TapsPerPhase + m] = j < taps.Length ? taps[j] : 0.0;
            }
        }
    }

    /// <summary>Upsampling factor after reduction by the gcd.</summary>
    public int Up { get; }

    /// <summary>Downsampling factor after reduction by the gcd.</summary>
    public int Down { get; }

    /// <summary>Taps from the filter's centre to its first tap (SciPy's <c>half_len</c>).</summary>
    public int HalfLength { get; }

    /// <summary>The FIR taps as applied, already multiplied by <see cref="Up"/> (SciPy's <c>h *= up</c>).</summary>
    public ReadOnlySpan<double> Taps => _taps;

    /// <summary>True when up = down = 1 after reduction: SciPy then returns a copy of the input, whatever the filter.</summary>
    public bool IsIdentity => Up == 1 && Down == 1 && !_isConvolution;

    /// <summary>Padded taps per polyphase branch.</summary>
    internal int TapsPerPhase { get; }

    /// <summary>Branch-major polyphase bank: branch p, entry m multiplies x[nmax − TapsPerPhase + 1 + m].</summary>
    internal double[] Bank { get; } = [];

    /// <summary>SciPy's default filter: <c>firwin(2·10·max(up,down)+1, 1/max(up,down), window=('kaiser', 5.0))·up</c> after reducing up/down by their gcd.</summary>
    public static ResamplingFilter Create(int up, int down) => Create(up, down, FirWindow.ResamplingDefault);

    /// <summary>SciPy's filter design with another window: <c>resample_poly(x, up, down, window=window)</c>.</summary>
    public static ResamplingFilter Create(int up, int down, FirWindow window)
    {
        (up, down) = Reduce(up, down);
        if (up == 1 && down == 1) return new ResamplingFilter(1, 1, [1.0], 0);
        int maxRate = Math.Max(up, down);
        int halfLength = 10 * maxRate;
        var h = FirDesign.Lowpass(2 * halfLength + 1, 1.0 / maxRate, window);
        for (int i = 0; i < h.Length; i++) h[i] *= up;
        return new ResamplingFilter(up, down, h, halfLength);
    }

    /// <summary>Custom taps, as SciPy's <c>resample_poly(x, up, down, window=taps)</c>: the taps are multiplied by up and centred at <c>(len−1)//2</c>.</summary>
    public static ResamplingFilter FromTaps(int up, int down, ReadOnlySpan<double> taps)
    {
        if (taps.IsEmpty) throw new ArgumentException("a resampling filter needs at least one tap", nameof(taps));
        (up, down) = Reduce(up, down);
        if (up == 1 && down == 1) return new ResamplingFilter(1, 1, [1.0], 0);
        var h = taps.ToArray();
        for (int i = 0; i < h.Length; i++) h[i] *= up;
        return new ResamplingFilter(up, down, h, (h.Length - 1) / 2);
    }

    /// <summary>A same-rate FIR applied centred (<c>numpy.convolve(x, taps, 'same')</c> for odd lengths): output k is <c>Σ_n x[n]·taps[k + (len−1)/2 − n]</c>, zeros outside the input.</summary>
    /// <remarks>Runs through the same one-shot and streaming machinery as resampling (<see cref="PolyphaseResampler"/>, <see cref="StreamingResampler"/>).</remarks>
    public static ResamplingFilter Convolution(ReadOnlySpan<double> taps)
    {
        if (taps.IsEmpty) throw new ArgumentException("a FIR needs at least one tap", nameof(taps));
        return new ResamplingFilter(1, 1, taps.ToArray(), (taps.Length - 1) / 2, isConvolution: true);
    }

    /// <summary>The reduced up/down factors taking <paramref name="from"/> to <paramref name="to"/>; rates that are not whole hertz are matched by the closest ratio within <see cref="MaxFactor"/>, to 1e-12.</summary>
    /// <exception cref="BadInputException">No ratio with up and down ≤ <see cref="MaxFactor"/> gives the target rate.</exception>
    public static (int Up, int Down) RatioFor(Data.SampleRate from, Data.SampleRate to, string what = "")
    {
        string label = string.IsNullOrEmpty(what) ? "" : what + ": ";
        double ratio = to.Hertz / from.Hertz;
        if (from.IsInteger && to.IsInteger && from.Hertz < long.MaxValue / 2 && to.Hertz < long.MaxValue / 2)
        {
            long a = (long)to.Hertz, b = (long)from.Hertz;
            long g = (long)System.Numerics.BigInteger.GreatestCommonDivisor(a, b);
            a /= g;
            b /= g;
            if (a > MaxFactor || b > MaxFactor)
                throw new BadInputException($"{label}resampling {from} to {to} needs up/down = {a}/{b}, above the bound of {MaxFactor}; choose rates with a larger common divisor or resample in stages");
            return ((int)a, (int)b);
        }
        // Continued-fraction convergents of the ratio, the best rational approximations for their size.
        long h0 = 0, h1 = 1, k0 = 1, k1 = 0;
        double rest = ratio;
        for (int iteration = 0; iteration < 64; iteration++)
        {
            double whole = Math.Floor(rest);
            if (whole > MaxFactor) break;
            long a = (long)whole;
            long h2 = a * h1 + h0, k2 = a * k1 + k0;
            if (h2 > MaxFactor || k2 > MaxFactor) break;
            (h0, h1, k0, k1) = (h1, h2, k1, k2);
            if (Math.Abs((double)h1 / k1 - ratio) <= 1e-12 * ratio) return Reduce((int)h1, (int)k1);
            double frac = rest - whole;
            if (frac <= 0) break;
            rest = 1 / frac;
        }
        throw new BadInputException($"{label}resampling {from} to {to} does not reduce to a ratio up/down with both at most {MaxFactor}");
    }

    /// <summary>SciPy's default filter between two rates (see <see cref="RatioFor"/>).</summary>
    public static ResamplingFilter ForRates(Data.SampleRate from, Data.SampleRate to, string what = "")
    {
        var (up, down) = RatioFor(from, to, what);
        return Create(up, down);
    }

    /// <summary>Output samples for <paramref name="inputLength"/> input samples: <c>ceil(n·up/down)</c>, as SciPy.</summary>
    public long OutputLength(long inputLength)
    {
        if (inputLength < 0) throw new ArgumentOutOfRangeException(nameof(inputLength));
        long n = inputLength * Up;
        return n / Down + (n % Down != 0 ? 1 : 0);
    }

    /// <summary>How many leading output samples depend only on the first <paramref name="inputCount"/> inputs (what a stream can emit before its end).</summary>
    public long OutputsReadyAfter(long inputCount)
    {
        if (IsIdentity) return inputCount;
        long num = inputCount * Up - 1 - HalfLength;
        return num < 0 ? 0 : Math.Min(num / Down + 1, OutputLength(inputCount));
    }

    /// <summary>Index of the last input sample output <paramref name="k"/> depends on.</summary>
    internal long LastInputOf(long k) => (k * Down + HalfLength) / Up;

    /// <summary>Reduces up/down by their gcd, checking both are positive and within <see cref="MaxFactor"/>.</summary>
    public static (int Up, int Down) Reduce(int up, int down)
    {
        if (up < 1 || down < 1) throw new BadInputException($"resampling factors must be positive integers, got up={up}, down={down}");
        int g = (int)System.Numerics.BigInteger.GreatestCommonDivisor(up, down);
        up /= g;
        down /= g;
        if (up > MaxFactor || down > MaxFactor)
            throw new BadInputException($"resampling by {up}/{down} needs a factor above {MaxFactor}; resample in stages or choose rates with a larger common divisor");
        return (up, down);
    }

    public override string ToString() => $"ResamplingFilter(up={Up}, down={Down}, {_taps.Length} taps)";
}
