using GwReprocess.Simulation;
using GwReprocess.Time;

namespace GwReprocess.Training;

/// <summary>Injection-only windows [N, D, K], whitened, each with its source (parameters and network SNR at the reference distance).</summary>
internal sealed class InjectionSet
{
    private InjectionSet(float[] windows, BbhInjection[] injections, double[] offsets, int windowsPerSource, int kernel)
    {
        Kernel = kernel;
        Windows = windows;
        Injections = injections;
        Offsets = offsets;
        WindowsPerSource = windowsPerSource;
    }

    /// <summary>[N, D, K], row-major; window j shows source j / <see cref="WindowsPerSource"/>.</summary>
    public float[] Windows { get; }

    /// <summary>The sources (at <see cref="BbhNetTrainingData.ReferenceDistanceMpc"/>).</summary>
    public BbhInjection[] Injections { get; }

    /// <summary>Seconds from each window's start to its source's geocentric coalescence.</summary>
    public double[] Offsets { get; }

    /// <summary>Windows rendered per source: 1 for training, the served windows that contain the coalescence for evaluation.</summary>
    public int WindowsPerSource { get; }

    /// <summary>Samples per detector in each window.</summary>
    public int Kernel { get; }

    /// <summary>This set with every detector's window passed through BBHnet's fixed input filter (<paramref name="taps"/>, 'valid', every <paramref name="stride"/>-th sample).</summary>
    public InjectionSet Filtered(float[] taps, int stride, int threads) =>
        new(FixedFilter.Apply(Windows, Kernel, taps, stride, threads), Injections, Offsets, WindowsPerSource, Models.BbhNetArchitecture.FilteredLength(Kernel, taps.Length, stride));

    /// <summary>Number of sources.</summary>
    public int Count => Injections.Length;

    /// <summary>Number of windows.</summary>
    public int WindowCount => Offsets.Length;

    /// <summary>
    /// Draws <paramref name="count"/> sources from <paramref name="population"/> as the simulator draws them (masses uniform, per-detector
    /// amplitude factor, phase and delay), renders each detector's waveform at the processing rate into windows and whitens them. With one
    /// window per source the coalescence lies uniformly in [0.2, 0.875) of the window (inside what BBHnet's input high-pass leaves, with some inspiral before it); with <paramref name="servedHopSeconds"/> every window a
    /// server stepping by that hop would score with the coalescence inside it is rendered (offsets φ + m·hop, φ uniform in [0, hop)).
    /// </summary>
    public static InjectionSet Render(IReadOnlyList<string> ifos, int count, InjectionSettings population, int sampleRate, int kernel, IWindowWhitener whitener, int seed,
        double servedHopSeconds = 0)
    {
        var random = new Random(seed);
        int d = ifos.Count;
        double seconds = (double)kernel / sampleRate;
        int hop = (int)Math.Round(servedHopSeconds * sampleRate);
        int perSource = hop > 0 ? (kernel + hop - 1) / hop : 1;
        var windows = new float[count * perSource * d * kernel];
        var injections = new BbhInjection[count];
        var offsets = new double[count * perSource];
        var buffer = new double[kernel];
        for (int i = 0; i < count; i++)
        {
            // Each source sits on its own stretch of GPS time far from the others: only its own waveform touches its windows.
            long anchor = 1_000_000_000L + 1000L * i + 2;
            double phase = hop > 0 ? random.NextDouble() * hop / sampleRate : seconds * (0.2 + 0.675 * random.NextDouble());
            var geocent = GpsTime.FromNanoseconds(anchor * 1_000_000_000L + (long)Math.Round(phase * 1e9));
            double a = Uniform(random, population.MinMass, population.MaxMass), b = Uniform(random, population.MinMass, population.MaxMass);
            double m1 = Math.Max(a, b), m2 = Math.Min(a, b);
            var snrOf = Waveforms.OptimalSnr(population.Waveform, m1, m2, BbhNetTrainingData.ReferenceDistanceMpc, population.LowFrequency, DesignCurve.Psd);
            var detectors = new DetectorInjection[d];
            for (int det = 0; det < d; det++)
            {
                double delay = Uniform(random, -population.MaxDelay, population.MaxDelay);
                double factor = Uniform(random, population.MinAmplitudeFactor, 1);
                double wave = Uniform(random, 0, 2 * Math.PI);
                detectors[det] = new DetectorInjection(ifos[det], geocent + GpsDuration.FromNanoseconds((long)Math.Round(delay * 1e9)), factor, wave, snrOf(factor));
            }
            var injection = new BbhInjection(geocent, m1, m2, BbhNetTrainingData.ReferenceDistanceMpc, detectors);
            for (int det = 0; det < d; det++)
            {
                var waveform = InjectionWaveform.Create(injection, detectors[det], sampleRate, population.LowFrequency, population.Waveform);
                for (int m = 0; m < perSource; m++)
                {
                    Array.Clear(buffer);
                    waveform.AddTo(anchor * sampleRate - (long)m * hop, buffer);
                    var dst = windows.AsSpan(((i * perSource + m) * d + det) * kernel, kernel);
                    for (int s = 0; s < kernel; s++) dst[s] = (float)buffer[s];
                }
            }
            injections[i] = injection;
            for (int m = 0; m < perSource; m++) offsets[i * perSource + m] = phase + (double)m * hop / sampleRate;
        }
        whitener.WhitenSignals(windows);
        return new InjectionSet(windows, injections, offsets, perSource, kernel);
    }

    private static double Uniform(Random random, double low, double high) => low + (high - low) * random.NextDouble();
}
