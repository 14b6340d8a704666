namespace GwReprocess.Simulation;

/// <summary>A narrow-band physical signal Re[E(t)·e^{2πift}]: a carrier at an exact rational frequency times a slowly wandering complex envelope.</summary>
/// <remarks>
/// The envelope E(t) = A(1 + a(t))·e^{i(φ₀ + φ(t))} is evaluated at knots every 1/8 s and interpolated linearly,
/// so strain (16384 Hz) and a witness (2048 Hz) sample one and the same continuous function. The carrier phase
/// at each knot is exact integer arithmetic (frequency p/64 Hz); within a knot interval it advances by complex
/// rotation started at the knot, so a sample's value depends only on its index, never on where a run began.
/// </remarks>
public sealed class LineSignal
{
    /// <summary>Envelope knots per second.</summary>
    public const int KnotsPerSecond = 8;

    /// <summary>Carrier frequencies are multiples of 1/<see cref="FrequencyDenominator"/> Hz.</summary>
    public const int FrequencyDenominator = 64;

    private readonly long _p;
    private readonly double _amplitude, _phase0;
    private readonly SlowWander _amplitudeWander, _phaseWander;
    private readonly double _phaseWanderScale;

    /// <param name="frequency">Carrier frequency (Hz), rounded to a multiple of 1/64 Hz.</param>
    /// <param name="amplitude">Mean amplitude A.</param>
    /// <param name="phase0">Constant phase φ₀ (rad).</param>
    /// <param name="amplitudeWander">a(t), relative amplitude wander.</param>
    /// <param name="phaseWander">φ(t) (rad).</param>
    /// <param name="phaseWanderScale">Multiplies φ(t): harmonic h of the mains uses h so the harmonics wander coherently.</param>
    public LineSignal(double frequency, double amplitude, double phase0, SlowWander amplitudeWander, SlowWander phaseWander, double phaseWanderScale = 1)
    {
        _p = (long)Math.Round(frequency * FrequencyDenominator);
        _amplitude = amplitude;
        _phase0 = phase0;
        _amplitudeWander = amplitudeWander;
        _phaseWander = phaseWander;
        _phaseWanderScale = phaseWanderScale;
    }

    /// <summary>Carrier frequency (Hz).</summary>
    public double Frequency => (double)_p / FrequencyDenominator;

    /// <summary>Mean amplitude.</summary>
    public double Amplitude => _amplitude;

    /// <summary>Adds <paramref name="gain"/> × the signal at samples [firstSample, …) of rate <paramref name="sampleRate"/> (a multiple of 8 Hz) to <paramref name="destination"/>.</summary>
    public void Add(long firstSample, int sampleRate, Span<double> destination, double gain = 1.0) =>
        Render(firstSample, sampleRate, destination, gain, null);

    /// <summary>Adds gain × signal × <paramref name="modulator"/>[i] (sample by sample) to <paramref name="destination"/>: a bilinear product.</summary>
    public void AddModulated(long firstSample, int sampleRate, ReadOnlySpan<double> modulator, Span<double> destination, double gain) =>
        Render(firstSample, sampleRate, destination, gain, modulator);

    private void Render(long firstSample, int sampleRate, Span<double> destination, double gain, ReadOnlySpan<double> modulator)
    {
        if (sampleRate % KnotsPerSecond != 0) throw new ArgumentException($"sample rate {sampleRate} Hz is not a multiple of {KnotsPerSecond} Hz");
        bool modulated = !modulator.IsEmpty;
        int perKnot = sampleRate / KnotsPerSecond;
        long cycle = (long)FrequencyDenominator * sampleRate; // carrier phase repeats every `cycle` samples
        var (stepSin, stepCos) = Math.SinCos(2 * Math.PI * (_p % cycle) / cycle);
        long end = firstSample + destination.Length;
        long knot = Math.DivRem(firstSample, perKnot, out long rem);
        if (rem < 0) { knot--; }
        var (e0r, e0i) = Envelope(knot);
        while (knot * perKnot < end)
        {
            var (e1r, e1i) = Envelope(knot + 1);
            long n0 = knot * perKnot;
            long r = (long)(((Int128)_p * (((n0 % cycle) + cycle) % cycle)) % cycle);
            var (zs, zc) = Math.SinCos(2 * Math.PI * r / cycle);
            double zr = zc, zi = zs;
            double dr = (e1r - e0r) / perKnot, di = (e1i - e0i) / perKnot;
            for (int j = 0; j < perKnot; j++)
            {
                long n = n0 + j;
                if (n >= end) break;
                if (n >= firstSample)
                {
                    double er = e0r + dr * j, ei = e0i + di * j;
                    double v = gain * (er * zr - ei * zi);
                    int at = (int)(n - firstSample);
                    destination[at] += modulated ? v * modulator[at] : v;
                }
                double nr = zr * stepCos - zi * stepSin;
                zi = zr * stepSin + zi * stepCos;
                zr = nr;
            }
            knot++;
            (e0r, e0i) = (e1r, e1i);
        }
    }

    private (double Re, double Im) Envelope(long knot)
    {
        double a = _amplitude * (1 + _amplitudeWander.AtKnot(knot));
        var (s, c) = Math.SinCos(_phase0 + _phaseWanderScale * _phaseWander.AtKnot(knot));
        return (a * c, a * s);
    }
}
