using System.Globalization;
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
        int delay = parameters.ContainsKey(StreamWhitener.DelayParameter) ? Integer(StreamWhitener.DelayParameter) : StreamWhitening.Delay(taps);
        return new StreamWhitenerSettings(Integer("background_samples"), Integer("welch_segment"), taps, corner, kernel, delay);
    }
}

/// <summary>
/// Training windows whitened as the stream whitener serves them: each window with the FIR designed from the mean-Welch ASD of the
/// <see cref="StreamWhitenerSettings.Background"/> samples before it, convolved over the window with the real samples on both sides.
/// </summary>
/// <remarks>
/// Sources are rendered into otherwise empty windows, so they cannot carry their own background: they are whitened with the FIR the
/// same estimator gives from the whole training span (<see cref="Prepare"/>), the filter a window's own background scatters about.
/// </remarks>
internal sealed class StreamWindowWhitener : IWindowWhitener
{
    /// <summary>Largest difference from the served (float32) whitener allowed, relative to the whitened rms.</summary>
    public const double Tolerance = 1e-3;

    private readonly StreamWhitenerSettings _settings;
    private readonly byte[] _served;
    private readonly int _sampleRate;
    private readonly int _threads;
    private ResamplingFilter[]? _typical;

    /// <param name="settings">The served whitener's design, from its config.</param>
    /// <param name="served">The served whitener's model.onnx, which <see cref="Prepare"/> checks the training whitening against.</param>
    /// <param name="sampleRate">Processing rate (Hz).</param>
    /// <param name="threads">Windows whitened at once.</param>
    public StreamWindowWhitener(StreamWhitenerSettings settings, byte[] served, int sampleRate, int threads)
    {
        _settings = settings;
        _served = served;
        _sampleRate = sampleRate;
        _threads = Math.Max(1, threads);
    }

    public int Kernel => _settings.Kernel;

    public int Lead => _settings.Background;

    public int Trail => _settings.Delay;

    public string Description => string.Create(CultureInfo.InvariantCulture,
        $"the stream whitener (FIR of {_settings.Taps} taps from each window's preceding {(double)_settings.Background / _sampleRate:G4} s, Welch {_settings.Segment} samples, mean; above {_settings.LowCornerHz} Hz)");

    /// <summary>Designs each detector's typical FIR, for the sources, over the training span; then checks the training whitening against the served model.</summary>
    public void Prepare(IReadOnlyList<double[]> strain, int trainEnd, IReadOnlyList<int> checkStarts, Action<string> log)
    {
        _typical = strain.Select(x => ResamplingFilter.Convolution(
            StreamWhitening.Fir(x.AsSpan(0, Math.Min(trainEnd, x.Length)), _settings.Segment, _settings.Taps, _settings.LowCornerHz, _sampleRate))).ToArray();
        double difference = CompareWithServed(strain, checkStarts);
        log(string.Create(CultureInfo.InvariantCulture, $"the served whitener and training's agree within {difference:E2} of the whitened rms on {checkStarts.Count} validation windows"));
        if (!(difference <= Tolerance))
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"training's whitening differs from the served whitener by {difference:E2} of the whitened rms (limit {Tolerance:E0})"));
    }

    /// <summary>Each window through <see cref="StreamWhitening.Window"/>, the served whitener's reference, on the stream around it.</summary>
    public float[][] WhitenBackground(IReadOnlyList<double[]> strain, IReadOnlyList<int> starts)
    {
        int k = Kernel, n = Lead + k + Trail;
        var result = new float[strain.Count][];
        for (int det = 0; det < strain.Count; det++)
        {
            var x = strain[det];
            var y = result[det] = new float[starts.Count * k];
            Parallel.For(0, starts.Count, new ParallelOptions { MaxDegreeOfParallelism = _threads }, w =>
            {
                var white = StreamWhitening.Window(x.AsSpan(starts[w] - Lead, n), k, _settings.Segment, _settings.Taps, _settings.LowCornerHz, _sampleRate, Trail);
                var dst = y.AsSpan(w * k, k);
                for (int i = 0; i < k; i++) dst[i] = (float)white[i];
            });
        }
        return result;
    }

    /// <summary>Each detector's window convolved, centred and zero-padded, with its typical FIR.</summary>
    public void WhitenSignals(float[] windows)
    {
        var typical = _typical ?? throw new InvalidOperationException("prepare the stream whitener on the training span before whitening sources");
        int d = typical.Length, k = Kernel, count = windows.Length / (d * k);
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = _threads }, w =>
        {
            var x = new double[k];
            for (int det = 0; det < d; det++)
            {
                var window = windows.AsSpan((w * d + det) * k, k);
                for (int i = 0; i < k; i++) x[i] = window[i];
                var white = PolyphaseResampler.Resample(x, typical[det]);
                for (int i = 0; i < k; i++) window[i] = (float)white[i];
            }
        });
    }

    /// <summary>
    /// Runs the served whitener on the windows at <paramref name="starts"/> and returns the largest difference from
    /// <see cref="WhitenBackground"/>'s, relative to the served output's rms: training whitens what serving whitens, or it says by how much not.
    /// </summary>
    private double CompareWithServed(IReadOnlyList<double[]> strain, IReadOnlyList<int> starts)
    {
        QuietOnnxRuntime.Ensure();
        using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 };
        using var session = new InferenceSession(_served, options);
        int d = strain.Count, k = Kernel, n = Lead + k + Trail;
        var input = IWindowWhitener.Batch(strain, starts, -Lead, n);
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

    public void Dispose() { }
}
