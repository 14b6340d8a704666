using System.Numerics;

namespace GwReprocess.Dsp;

/// <summary>Digital Butterworth design as <c>scipy.signal.butter(N, Wn, btype, fs=fs, output='sos')</c>: analog prototype, pre-warped bilinear transform, SciPy's nearest pole–zero pairing.</summary>
public static class Butterworth
{
    /// <summary>Highest order accepted; beyond it the band-pass sections lose too much precision to be useful.</summary>
    public const int MaxOrder = 16;

    /// <summary><c>butter(order, cutoff, 'lowpass', fs=rate, output='sos')</c>.</summary>
    public static SecondOrderSections Lowpass(int order, double cutoffHz, double sampleRateHz)
    {
        double wn = Normalise(order, cutoffHz, sampleRateHz);
        double warped = Warp(wn);
        var p = Prototype(order);
        for (int i = 0; i < p.Length; i++) p[i] = warped * p[i];
        double k = Math.Pow(warped, order);
        return Bilinear([], p, k);
    }

    /// <summary><c>butter(order, cutoff, 'highpass', fs=rate, output='sos')</c>.</summary>
    public static SecondOrderSections Highpass(int order, double cutoffHz, double sampleRateHz)
    {
        double wn = Normalise(order, cutoffHz, sampleRateHz);
        double warped = Warp(wn);
        var p = Prototype(order);
        Complex prodMinusP = Complex.One;
        foreach (var pole in p) prodMinusP *= -pole;
        for (int i = 0; i < p.Length; i++) p[i] = warped / p[i];
        var z = new Complex[order];
        double k = (Complex.One / prodMinusP).Real;
        return Bilinear(z, p, k);
    }

    /// <summary><c>butter(order, [low, high], 'bandpass', fs=rate, output='sos')</c>: 2·order poles.</summary>
    public static SecondOrderSections Bandpass(int order, double lowHz, double highHz, double sampleRateHz)
    {
        double w0 = Normalise(order, lowHz, sampleRateHz), w1 = Normalise(order, highHz, sampleRateHz);
        if (!(w0 < w1)) throw new BadInputException($"band-pass edges must increase, got {lowHz} Hz to {highHz} Hz");
        double warped0 = Warp(w0), warped1 = Warp(w1);
        double bw = warped1 - warped0;
        double wo = Math.Sqrt(warped0 * warped1);
        var proto = Prototype(order);
        var p = new Complex[2 * order];
        for (int i = 0; i < order; i++)
        {
            Complex pl = proto[i] * bw / 2;
            Complex root = Complex.Sqrt(pl * pl - wo * wo);
            p[i] = pl + root;
            p[order + i] = pl - root;
        }
        var z = new Complex[order];
        double k = Math.Pow(bw, order);
        return Bilinear(z, p, k);
    }

    private static double Normalise(int order, double hz, double rate)
    {
        if (order < 1 || order > MaxOrder) throw new BadInputException($"Butterworth order must be 1..{MaxOrder}, got {order}");
        if (!(rate > 0)) throw new BadInputException($"sample rate must be positive, got {rate} Hz");
        double wn = 2 * hz / rate;
        if (!(wn > 0 && wn < 1)) throw new BadInputException($"filter frequency {hz} Hz must lie strictly between 0 and Nyquist ({rate / 2} Hz)");
        return wn;
    }

    private static double Warp(double wn) => 2 * 2.0 * Math.Tan(Math.PI * wn / 2.0);

    /// <summary><c>buttap(N)</c>: poles <c>−exp(iπm/(2N))</c>, m = −N+1, −N+3, …, N−1.</summary>
    private static Complex[] Prototype(int order)
    {
        var p = new Complex[order];
        for (int i = 0; i < order; i++)
        {
            int m = -order + 1 + 2 * i;
            double theta = Math.PI * m / (2 * order);
            p[i] = -new Complex(Math.Cos(theta), Math.Sin(theta));
        }
        return p;
    }

    /// <summary><c>bilinear_zpk(z, p, k, fs=2)</c> then <c>zpk2sos</c>.</summary>
    private static SecondOrderSections Bilinear(Complex[] z, Complex[] p, double k)
    {
        const double fs2 = 4.0;
        int degree = p.Length - z.Length;
        var zz = new Complex[z.Length + degree];
        Complex num = Complex.One, den = Complex.One;
        for (int i = 0; i < z.Length; i++)
        {
            zz[i] = (fs2 + z[i]) / (fs2 - z[i]);
            num *= fs2 - z[i];
        }
        for (int i = z.Length; i < zz.Length; i++) zz[i] = -1.0;
        var pz = new Complex[p.Length];
        for (int i = 0; i < p.Length; i++)
        {
            pz[i] = (fs2 + p[i]) / (fs2 - p[i]);
            den *= fs2 - p[i];
        }
        double kz = k * (num / den).Real;
        return ZpkToSos.Convert(zz, pz, kz);
    }
}
