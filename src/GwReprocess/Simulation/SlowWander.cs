namespace GwReprocess.Simulation;

/// <summary>A slow, smooth, zero-mean random function of GPS time: a sum of three sinusoids with periods of minutes to hours, evaluated exactly at any time.</summary>
/// <remarks>
/// Frequencies are integer multiples of 2⁻²⁰ Hz and the function is only evaluated at knots j/8 s, so the
/// phase (k·j mod 2²³)/2²³ is exact integer arithmetic even at GPS 2×10⁹: no drift, no dependence on where a run starts.
/// The root-mean-square value is <c>rms</c>.
/// </remarks>
public sealed class SlowWander
{
    private const int Terms = 3;
    private readonly long[] _k = new long[Terms];
    private readonly double[] _phase = new double[Terms];
    private readonly double _amplitude;

    /// <summary>Draws the sinusoids' frequencies (periods between <paramref name="minPeriod"/> and <paramref name="maxPeriod"/> s) and phases from <paramref name="key"/>.</summary>
    public SlowWander(StreamKey key, double rms, double minPeriod = 120, double maxPeriod = 3600)
    {
        var g = key.CreateGenerator();
        for (int i = 0; i < Terms; i++)
        {
            double period = minPeriod * Math.Pow(maxPeriod / minPeriod, g.NextDouble());
            _k[i] = Math.Max(1, (long)Math.Round((1 << 20) / period));
            _phase[i] = 2 * Math.PI * g.NextDouble();
        }
        // Each unit sinusoid has mean square 1/2.
        _amplitude = rms * Math.Sqrt(2.0 / Terms);
    }

    /// <summary>Value at the knot time j/8 s (GPS).</summary>
    public double AtKnot(long knot)
    {
        const long cycle = 1L << 23; // 8 knots/s × 2^20
        double sum = 0;
        for (int i = 0; i < Terms; i++)
        {
            long r = (long)(((Int128)_k[i] * knot) % cycle);
            if (r < 0) r += cycle;
            sum += Math.Sin(2 * Math.PI * r / cycle + _phase[i]);
        }
        return _amplitude * sum;
    }
}
