using GwReprocess.Dsp;

namespace GwReprocess.Simulation;

/// <summary>Fills an inverse-FFT buffer with <see cref="PhenomB"/>'s h̃ placed so that the time-domain strain's amplitude envelope peaks at a given time.</summary>
/// <remarks>
/// The phase's reference time t₀ is not the peak: the peak follows it by a mass-dependent interval. The interval is
/// measured on the waveform itself: the analytic signal (h̃ and −i·h̃, i.e. h and its Hilbert transform) is synthesised at
/// a reduced rate (4096 Hz; the taper closes PhenomB below 1.8 kHz for every binary above 20 M☉), the maximum of its
/// squared envelope located by a parabola through the three top samples, and t₀ moved back by the interval before
/// the full-rate synthesis. The two small transforms cost about a quarter of the full one.
/// </remarks>
internal static class PhenomBSynthesis
{
    private const int EnvelopeRate = 4096;

    /// <summary>Writes bins 1..n/2 of <paramref name="buffer"/> (interleaved, scaled by the sample rate for <see cref="RealFft.Inverse"/>) so that the envelope peaks <paramref name="peakTime"/> s after the buffer starts.</summary>
    public static void Fill(double[] buffer, int n, int sampleRate, double peakTime, PhenomB model, double distanceMpc, double amplitudeFactor, double phase, double lowHz)
    {
        double df = (double)sampleRate / n;
        int top = Math.Min(n / 2, (int)Math.Ceiling(model.TaperEnd / df));
        var amplitude = new double[top + 1];
        var psi = new double[top + 1];
        for (int k = 1; k <= top; k++)
        {
            var (a, p) = model.Evaluate(k * df, distanceMpc, lowHz);
            amplitude[k] = a * amplitudeFactor * sampleRate;
            psi[k] = p - phase;
        }
        double t0 = peakTime - PeakDelay(amplitude, psi, df, n, sampleRate, peakTime);
        for (int k = 1; k <= top; k++)
        {
            if (amplitude[k] == 0) continue;
            var (s, c) = Math.SinCos(2 * Math.PI * (k * df) * t0 + psi[k]);
            buffer[2 * k] = amplitude[k] * c;
            buffer[2 * k + 1] = -amplitude[k] * s;
        }
    }

    /// <summary>Seconds from t₀ to the envelope's peak, measured with the waveform synthesised for t₀ = <paramref name="t0"/>.</summary>
    private static double PeakDelay(double[] amplitude, double[] psi, double df, int n, int sampleRate, double t0)
    {
        int rate = Math.Min(sampleRate, EnvelopeRate);
        int m = (int)((long)n * rate / sampleRate);
        int top = Math.Min(amplitude.Length - 1, m / 2 - 1);
        var h = new double[m + 2];
        var q = new double[m + 2];
        for (int k = 1; k <= top; k++)
        {
            if (amplitude[k] == 0) continue;
            var (s, c) = Math.SinCos(2 * Math.PI * (k * df) * t0 + psi[k]);
            double a = amplitude[k];
            h[2 * k] = a * c;
            h[2 * k + 1] = -a * s;
            q[2 * k] = -a * s;
            q[2 * k + 1] = -a * c;
        }
        var fft = RealFft.For(m);
        fft.Inverse(h);
        fft.Inverse(q);
        int best = 0;
        double max = -1;
        for (int i = 0; i < m; i++)
        {
            double e = h[i] * h[i] + q[i] * q[i];
            if (e > max) { max = e; best = i; }
        }
        double Envelope(int i) { int j = (i % m + m) % m; return h[j] * h[j] + q[j] * q[j]; }
        double left = Envelope(best - 1), right = Envelope(best + 1), curvature = left - 2 * max + right;
        double offset = curvature < 0 ? 0.5 * (left - right) / curvature : 0;
        double peak = (best + offset) / rate;
        // The buffer is circular: a peak found across the wrap belongs within half a buffer of t₀.
        double length = (double)m / rate, delay = peak - t0;
        if (delay > length / 2) delay -= length;
        if (delay < -length / 2) delay += length;
        return delay;
    }
}
