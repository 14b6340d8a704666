namespace GwReprocess.Dsp;

/// <summary>Window-method FIR design, as <c>scipy.signal.firwin</c> (low-pass, scaled to unit gain at DC).</summary>
public static class FirDesign
{
    /// <summary><c>firwin(numtaps, cutoff, window=window)</c> with <paramref name="cutoff"/> relative to Nyquist (0 &lt; cutoff &lt; 1).</summary>
    public static double[] Lowpass(int numTaps, double cutoff, FirWindow window)
    {
        if (numTaps < 1) throw new ArgumentOutOfRangeException(nameof(numTaps), numTaps, "a FIR needs at least one tap");
        if (!(cutoff > 0 && cutoff < 1)) throw new ArgumentOutOfRangeException(nameof(cutoff), cutoff, "the cutoff must lie strictly between 0 and Nyquist (1)");
        double alpha = 0.5 * (numTaps - 1);
        var h = new double[numTaps];
        var win = window.Compute(numTaps, periodic: false);
        for (int i = 0; i < numTaps; i++)
        {
            double m = i - alpha;
            h[i] = cutoff * Sinc(cutoff * m) * win[i];
        }
        double sum = 0;
        for (int i = 0; i < numTaps; i++) sum += h[i];
        for (int i = 0; i < numTaps; i++) h[i] /= sum;
        return h;
    }

    /// <summary>numpy's normalised sinc, sin(pi x)/(pi x).</summary>
    internal static double Sinc(double x)
    {
        double y = Math.PI * (x == 0 ? 1.0e-20 : x);
        return Math.Sin(y) / y;
    }
}
