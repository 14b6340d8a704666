using System.Globalization;
using System.Numerics.Tensors;
using GwReprocess.Dsp;
using GwReprocess.Models;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace GwReprocess.Training;

/// <summary>The settings of a serving ensemble's stream whitener (<c>architecture: whitener</c>), read from its config.</summary>
/// <param name="Background">Samples of background before each window the PSD is estimated from.</param>
/// <param name="Segment">Welch segment length (samples), Hann window, half overlap, mean average.</param>
/// <param name="Taps">Whitening FIR length (odd).</param>
/// <param name="LowCornerHz">Frequencies below it are removed.</param>
/// <param name="Kernel">Window length K it hands the detector.</param>
/// <param name="Delay">Samples its window ends before the newest sample of its input (at least half the FIR).</param>
internal sealed record StreamWhitenerSettings(int Background, int Segment, int Taps, double LowCornerHz, int Kernel, int Delay)
{
    /// <summary>As the config parameters read: one line naming the model and the parameter otherwise.</summary>
    public static StreamWhitenerSettings FromParameters(string model, IReadOnlyDictionary<string, string> parameters, int kernel)
    {
        int Integer(string key) => parameters.TryGetValue(key, out var v) && int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) && n > 0 ? n
            : throw new BadInputException($"model '{model}': whitener parameter '{key}' is missing or not a positive integer");
        double corner = parameters.TryGetValue("low_corner_hz", out var c) && double.TryParse(c, NumberStyles.Float, CultureInfo.InvariantCulture, out double hz) && hz >= 0 ? hz
            : throw new BadInputException($"model '{model}': whitener parameter 'low_corner_hz' is missing or not a frequency");
        int taps = Integer("fir_taps");
        int delay = parameters.ContainsKey(Models.StreamWhitener.DelayParameter) ? Integer(Models.StreamWhitener.DelayParameter) : Dsp.StreamWhitening.Delay(taps);
        return new StreamWhitenerSettings(Integer("background_samples"), Integer("welch_segment"), taps, corner, kernel, delay);
    }
}

/// <summary>
/// Training windows whitened as the stream whitener serves them: each window with the FIR designed from the mean-Welch ASD of the
/// <see cref="StreamWhitenerSettings.Background"/> samples before it, convolved over the window with the real samples on both sides.
/// </summary>
/// <remarks>
/// Sources are rendered into otherwise empty windows, so they cannot carry their own background: they are whitened with the FIR the
/// same estimator gives from the whole training span (<see cref="Calibrate"/>), the filter a window's own background scatters about.
/// </remarks>
internal sealed class StreamWindowWhitener : IWindowWhitener
{
    /// <summary>Largest difference from the served (float32) whitener allowed, relative to the whitened rms.</summary>
    public const double Tolerance = 1e-3;

    private readonly StreamWhitenerSettings _settings;
    private readonly int _sampleRate;
    private readonly int _threads;
    private double[][]? _typical;

    public StreamWindowWhitener(StreamWhitenerSettings settings, int sampleRate, int threads)
    {
        _settings = settings;
        _sampleRate = sampleRate;
        _threads = Math.Max(1, threads);
    }

    public int Kernel => _settings.Kernel;

    public int Lead => _settings.Background;

    public int Trail => _settings.Delay;

    public string Description => string.Create(CultureInfo.InvariantCulture,
        $"the stream whitener (FIR of {_settings.Taps} taps from each window's preceding {(double)_settings.Background / _sampleRate:G4} s, Welch {_settings.Segment} samples, mean; above {_settings.LowCornerHz} Hz)");

    /// <summary>The FIR the served whitener designs from <paramref name="background"/>.</summary>
    public double[] Fir(ReadOnlySpan<double> background) => Dsp.StreamWhitening.Fir(background, _settings.Segment, _settings.Taps, _settings.LowCornerHz, _sampleRate);

    /// <summary>Designs each detector's typical FIR, for the sources, from the span <paramref name="strain"/> holds up to <paramref name="end"/>.</summary>
    public void Calibrate(IReadOnlyList<double[]> strain, int end) => _typical = strain.Select(x => Fir(x.AsSpan(0, Math.Min(end, x.Length)))).ToArray();

    public float[][] WhitenBackground(IReadOnlyList<double[]> strain, IReadOnlyList<int> starts)
    {
        int k = Kernel, lead = Lead;
        var result = new float[strain.Count][];
        for (int det = 0; det < strain.Count; det++)
        {
            var x = strain[det];
            var y = result[det] = new float[starts.Count * k];
            Parallel.For(0, starts.Count, new ParallelOptions { MaxDegreeOfParallelism = _threads }, w =>
            {
                int s = starts[w];
                if (s < lead || s + k + Trail > x.Length) throw new ArgumentOutOfRangeException(nameof(starts), $"window at {s} lacks its {lead} samples of background or {Trail} after it");
                var h = Fir(x.AsSpan(s - lead, lead));
                Convolve(x, s, k, h, y.AsSpan(w * k, k));
            });
        }
        return result;
    }

    public void WhitenSignals(float[] windows)
    {
        var typical = _typical ?? throw new InvalidOperationException("calibrate the stream whitener on the training span before whitening sources");
        int d = typical.Length, k = Kernel, count = windows.Length / (d * k);
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = _threads }, w =>
        {
            var x = new double[k];
            for (int det = 0; det < d; det++)
            {
                var window = windows.AsSpan((w * d + det) * k, k);
                for (int i = 0; i < k; i++) x[i] = window[i];
                Convolve(x, 0, k, typical[det], window);
            }
        });
    }

    /// <summary>
    /// Runs the served whitener (<paramref name="onnx"/>) on the windows at <paramref name="starts"/> and returns the largest difference from
    /// <see cref="WhitenBackground"/>'s, relative to the served output's rms: training whitens what serving whitens, or it says by how much not.
    /// </summary>
    public double CompareWithServed(byte[] onnx, IReadOnlyList<double[]> strain, IReadOnlyList<int> starts)
    {
        QuietOnnxRuntime.Ensure();
        using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 };
        using var session = new InferenceSession(onnx, options);
        int d = strain.Count, k = Kernel, n = Lead + k + Trail;
        var input = new float[starts.Count * d * n];
        for (int w = 0; w < starts.Count; w++)
            for (int det = 0; det < d; det++)
            {
                var src = strain[det].AsSpan(starts[w] - Lead, n);
                var dst = input.AsSpan((w * d + det) * n, n);
                for (int i = 0; i < n; i++) dst[i] = (float)src[i];
            }
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(Postprocessor.StrainInput, new DenseTensor<float>(input, [starts.Count, d, n]))]);
        var served = results.First(r => r.Name == Postprocessor.Output).AsTensor<float>().ToArray();
        var mine = WhitenBackground(strain, starts);
        double worst = 0, squares = 0;
        for (int w = 0; w < starts.Count; w++)
            for (int det = 0; det < d; det++)
                for (int i = 0; i < k; i++)
                {
                    double a = served[(w * d + det) * k + i];
                    squares += a * a;
                    worst = Math.Max(worst, Math.Abs(a - mine[det][w * k + i]));
                }
        return worst / Math.Sqrt(squares / ((double)starts.Count * d * k));
    }

    /// <summary>y[n] = Σ_j h[j]·x[s + n + c − j] for n in [0, K), c = (T−1)/2; samples outside <paramref name="x"/> count as zero.</summary>
    private static void Convolve(double[] x, int s, int k, double[] h, Span<float> y)
    {
        int taps = h.Length, c = (taps - 1) / 2;
        // Zero-phase taps are symmetric, so the convolution is a correlation with h itself.
        var padded = new double[k + taps - 1];
        int from = s - c, to = Math.Min(s + k + c, x.Length);
        for (int i = Math.Max(from, 0); i < to; i++) padded[i - from] = x[i];
        for (int n = 0; n < k; n++) y[n] = (float)TensorPrimitives.Dot(padded.AsSpan(n, taps), h);
    }

    public void Dispose() { }
}
