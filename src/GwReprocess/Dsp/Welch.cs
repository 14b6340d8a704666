using MathNet.Numerics.IntegralTransforms;

namespace GwReprocess.Dsp;

/// <summary>How <see cref="Welch"/> combines the segment periodograms.</summary>
public enum SpectralAverage
{
    /// <summary>Arithmetic mean (<c>average='mean'</c>).</summary>
    Mean,

    /// <summary>Median divided by SciPy's median bias (<c>average='median'</c>), robust to glitches; gwpy's default.</summary>
    Median,
}

/// <summary>Welch PSD as <c>scipy.signal.welch(x, fs, window='hann', nperseg, noverlap, detrend='constant', scaling='density')</c>, one-sided.</summary>
public static class Welch
{
    /// <summary>One-sided PSD density (unit²/Hz) at <c>fs/nperseg</c> spacing, <c>nperseg/2+1</c> bins.</summary>
    public static FrequencySeries Psd(ReadOnlySpan<double> x, double sampleRate, int segmentLength, int overlapLength,
        SpectralAverage average = SpectralAverage.Median, string name = "", FirWindow? window = null)
    {
        if (!(sampleRate > 0)) throw new BadInputException($"{Label(name)}sample rate must be positive, got {sampleRate}");
        if (segmentLength < 1) throw new BadInputException($"{Label(name)}FFT length must be at least one sample, got {segmentLength}");
        if (overlapLength < 0 || overlapLength >= segmentLength)
            throw new BadInputException($"{Label(name)}overlap of {overlapLength} samples must be at least 0 and below the FFT length of {segmentLength}");
        if (x.Length < segmentLength)
            throw new BadInputException($"{Label(name)}{x.Length} samples are fewer than one FFT length of {segmentLength}");

        int n = segmentLength, step = n - overlapLength;
        int segments = (x.Length - overlapLength) / step;
        int bins = n / 2 + 1;
        var w = (window ?? FirWindow.Hann).Compute(n, periodic: true);
        double sumSquares = 0;
        foreach (var v in w) sumSquares += v * v;
        double scale = 1.0 / (sampleRate * sumSquares);

        var buffer = new double[n % 2 == 0 ? n + 2 : n + 1];
        var fft = RealFft.Supports(n) ? RealFft.For(n) : null;
        var mean = average == SpectralAverage.Mean ? new double[bins] : null;
        var all = average == SpectralAverage.Median ? new double[(long)bins * segments > int.MaxValue ? throw new BadInputException($"{Label(name)}too many segments for a median average") : bins * segments] : null;
        for (int s = 0; s < segments; s++)
        {
            var segment = x.Slice(s * step, n);
            double m = 0;
            foreach (var v in segment) m += v;
            m /= n;
            for (int i = 0; i < n; i++) buffer[i] = (segment[i] - m) * w[i];
            buffer[n] = 0;
            if (buffer.Length > n + 1) buffer[n + 1] = 0;
            if (fft != null) fft.Forward(buffer);
            else Fourier.ForwardReal(buffer, n, FourierOptions.Matlab);
            for (int k = 0; k < bins; k++)
            {
                double re = buffer[2 * k], im = buffer[2 * k + 1];
                double p = (re * re + im * im) * scale;
                bool doubled = n % 2 == 0 ? k > 0 && k < bins - 1 : k > 0;
                if (doubled) p *= 2;
                if (mean != null) mean[k] += p;
                else all![s * bins + k] = p;
            }
        }

        var psd = new double[bins];
        if (mean != null)
        {
            for (int k = 0; k < bins; k++) psd[k] = mean[k] / segments;
        }
        else
        {
            double bias = MedianBias(segments);
            var column = new double[segments];
            for (int k = 0; k < bins; k++)
            {
                for (int s = 0; s < segments; s++) column[s] = all![s * bins + k];
                double median = Median(column);
                psd[k] = segments > 1 ? median / bias : median;
            }
        }
        return new FrequencySeries(name, 0, sampleRate / n, psd);
    }

    /// <summary>Square root of <see cref="Psd"/>: the one-sided ASD (unit/√Hz).</summary>
    public static FrequencySeries Asd(ReadOnlySpan<double> x, double sampleRate, int segmentLength, int overlapLength,
        SpectralAverage average = SpectralAverage.Median, string name = "", FirWindow? window = null) =>
        Psd(x, sampleRate, segmentLength, overlapLength, average, name, window).Sqrt();

    /// <summary>numpy's median (mean of the two middle values for an even count), by selection; reorders <paramref name="values"/>.</summary>
    internal static double Median(Span<double> values)
    {
        int n = values.Length, mid = n / 2;
        double upper = Select(values, mid);
        if (n % 2 == 1) return upper;
        // After selection everything left of mid is <= values[mid]: the lower middle is their maximum.
        double lower = values[0];
        for (int i = 1; i < mid; i++) if (values[i] > lower) lower = values[i];
        return (lower + upper) / 2;
    }

    /// <summary>Quickselect: places the k-th smallest at index k, smaller ones before it, and returns it.</summary>
    private static double Select(Span<double> a, int k)
    {
        int lo = 0, hi = a.Length - 1;
        while (hi > lo)
        {
            // Median of three as pivot keeps sorted and periodic inputs linear.
            int m = lo + (hi - lo) / 2;
            if (a[m] < a[lo]) (a[m], a[lo]) = (a[lo], a[m]);
            if (a[hi] < a[lo]) (a[hi], a[lo]) = (a[lo], a[hi]);
            if (a[hi] < a[m]) (a[hi], a[m]) = (a[m], a[hi]);
            double pivot = a[m];
            int i = lo, j = hi;
            while (i <= j)
            {
                while (a[i] < pivot) i++;
                while (a[j] > pivot) j--;
                if (i <= j)
                {
                    (a[i], a[j]) = (a[j], a[i]);
                    i++;
                    j--;
                }
            }
            if (k <= j) hi = j;
            else if (k >= i) lo = i;
            else return a[k];
        }
        return a[k];
    }

    /// <summary>SciPy's <c>_median_bias(n)</c>: the expected ratio of median to mean of n χ²₂ periodogram values.</summary>
    public static double MedianBias(int n)
    {
        double sum = 0;
        for (int i = 1; i <= (n - 1) / 2; i++)
        {
            double ii2 = 2.0 * i;
            sum += 1.0 / (ii2 + 1) - 1.0 / ii2;
        }
        return 1 + sum;
    }

    private static string Label(string name) => string.IsNullOrEmpty(name) ? "" : name + ": ";
}
