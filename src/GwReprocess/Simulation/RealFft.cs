using System.Numerics;

namespace GwReprocess.Simulation;

/// <summary>Real-input FFT of a power-of-two length N by one complex radix-2 FFT of length N/2 (even/odd packing), with tables built once.</summary>
/// <remarks>
/// The simulator's noise blocks are its hot loop: MathNet's managed real transform expands to a full-length complex
/// transform and allocates per call, about 3× slower here. Conventions match numpy/Matlab: forward
/// X[k] = Σ x[n]e^(−2πikn/N) for k = 0..N/2; inverse includes the 1/N. An instance owns scratch space: one per thread.
/// </remarks>
public sealed class RealFft
{
    private readonly int _n, _h;
    private readonly Complex[] _twiddle;   // e^(−2πik/h), k < h/2
    private readonly Complex[] _post;      // e^(−2πik/N), k ≤ h
    private readonly int[] _reverse;
    private readonly Complex[] _z;

    public RealFft(int length)
    {
        if (length < 4 || !int.IsPow2(length)) throw new ArgumentException($"FFT length must be a power of two ≥ 4, got {length}");
        _n = length;
        _h = length / 2;
        _twiddle = new Complex[_h / 2];
        for (int k = 0; k < _twiddle.Length; k++) _twiddle[k] = Complex.FromPolarCoordinates(1, -2 * Math.PI * k / _h);
        _post = new Complex[_h + 1];
        for (int k = 0; k <= _h; k++) _post[k] = Complex.FromPolarCoordinates(1, -2 * Math.PI * k / _n);
        _reverse = new int[_h];
        int bits = int.Log2(_h);
        for (int i = 0; i < _h; i++)
        {
            int r = 0;
            for (int b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
            _reverse[i] = r;
        }
        _z = new Complex[_h];
    }

    /// <summary>Transform length N.</summary>
    public int Length => _n;

    /// <summary>X[0..N/2] of the N real samples <paramref name="x"/>.</summary>
    public void Forward(ReadOnlySpan<double> x, Span<Complex> spectrum)
    {
        if (x.Length != _n || spectrum.Length != _h + 1) throw new ArgumentException("FFT buffer sizes do not match the length");
        var z = _z.AsSpan();
        for (int j = 0; j < _h; j++) z[_reverse[j]] = new Complex(x[2 * j], x[2 * j + 1]);
        Butterflies(z);
        for (int k = 0; k <= _h / 2; k++)
        {
            int m = k == 0 ? 0 : _h - k;
            Complex a = z[k], b = Complex.Conjugate(z[m]);
            Complex even = (a + b) * 0.5, odd = (a - b) * new Complex(0, -0.5);
            Complex a2 = z[m], b2 = Complex.Conjugate(z[k]);
            Complex even2 = (a2 + b2) * 0.5, odd2 = (a2 - b2) * new Complex(0, -0.5);
            spectrum[k] = even + _post[k] * odd;
            spectrum[_h - k] = even2 + _post[_h - k] * odd2;
        }
        // k = 0 used z[0] for both ends; N/2 is even − odd.
        Complex z0 = z[0];
        spectrum[0] = new Complex(z0.Real + z0.Imaginary, 0);
        spectrum[_h] = new Complex(z0.Real - z0.Imaginary, 0);
    }

    /// <summary>The N real samples whose spectrum X[0..N/2] is <paramref name="spectrum"/> (scaled by 1/N).</summary>
    public void Inverse(ReadOnlySpan<Complex> spectrum, Span<double> x)
    {
        if (x.Length != _n || spectrum.Length != _h + 1) throw new ArgumentException("FFT buffer sizes do not match the length");
        var z = _z.AsSpan();
        for (int k = 0; k < _h; k++)
        {
            Complex a = spectrum[k], b = Complex.Conjugate(spectrum[_h - k]);
            Complex even = (a + b) * 0.5, odd = (a - b) * 0.5 * Complex.Conjugate(_post[k]);
            // Conjugated input: the forward butterflies then give the conjugate of the inverse transform.
            z[_reverse[k]] = Complex.Conjugate(even + Complex.ImaginaryOne * odd);
        }
        Butterflies(z);
        double scale = 1.0 / _h;
        for (int j = 0; j < _h; j++)
        {
            x[2 * j] = z[j].Real * scale;
            x[2 * j + 1] = -z[j].Imaginary * scale;
        }
    }

    private void Butterflies(Span<Complex> z)
    {
        int h = _h;
        // Length-2 stage without twiddles.
        for (int i = 0; i < h; i += 2)
        {
            Complex a = z[i], b = z[i + 1];
            z[i] = a + b;
            z[i + 1] = a - b;
        }
        for (int len = 4; len <= h; len <<= 1)
        {
            int half = len >> 1, step = h / len;
            for (int i = 0; i < h; i += len)
            {
                for (int j = 0; j < half; j++)
                {
                    Complex w = _twiddle[j * step];
                    ref Complex lo = ref z[i + j];
                    ref Complex hi = ref z[i + j + half];
                    // Explicit complex product: Complex's operator* guards against overflow and is slower.
                    double tr = hi.Real * w.Real - hi.Imaginary * w.Imaginary;
                    double ti = hi.Real * w.Imaginary + hi.Imaginary * w.Real;
                    var t = new Complex(tr, ti);
                    hi = lo - t;
                    lo += t;
                }
            }
        }
    }
}
