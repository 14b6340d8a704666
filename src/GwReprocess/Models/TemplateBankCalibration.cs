using System.Globalization;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace GwReprocess.Models;

/// <summary>postproc then the template detector in ONNX Runtime, in process: windows of strain in, scores out (noise inputs zero: the strain is taken as already cleaned).</summary>
public sealed class DetectorChain : IDisposable
{
    private readonly InferenceSession _postproc;
    private readonly InferenceSession _detector;
    private readonly IReadOnlyList<string> _noiseInputs;

    /// <param name="postproc">The postproc model (strain − noise, whitening FIR).</param>
    /// <param name="detector">A detector model taking postproc's output.</param>
    /// <param name="ifos">Detectors in the models' order.</param>
    /// <param name="threads">ONNX Runtime intra-op threads.</param>
    public DetectorChain(RepositoryModel postproc, RepositoryModel detector, IReadOnlyList<string> ifos, int threads = 1)
    {
        using var options = new SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        _postproc = new InferenceSession(postproc.Onnx!.ToByteArray(), options);
        _detector = new InferenceSession(detector.Onnx!.ToByteArray(), options);
        _noiseInputs = ifos.Select(Postprocessor.NoiseInput).ToList();
        Detectors = ifos.Count;
        Kernel = (int)postproc.Config.Input[0].Dims[2];
    }

    public int Detectors { get; }

    /// <summary>Window length K (samples).</summary>
    public int Kernel { get; }

    /// <summary>Scores of <paramref name="windows"/> = [B, D, K] strain (row-major), one per window.</summary>
    public float[] Score(float[] windows, int batch)
    {
        int d = Detectors, k = Kernel;
        if (windows.Length != batch * d * k) throw new ArgumentException($"expected {batch}×{d}×{k} samples, got {windows.Length}");
        var inputs = new List<NamedOnnxValue> { NamedOnnxValue.CreateFromTensor(Postprocessor.StrainInput, new DenseTensor<float>(windows, [batch, d, k])) };
        foreach (var name in _noiseInputs) inputs.Add(NamedOnnxValue.CreateFromTensor(name, new DenseTensor<float>(new float[batch * k], [batch, k])));
        using var whitened = _postproc.Run(inputs);
        var white = whitened.Single(r => r.Name == Postprocessor.Output).AsTensor<float>();
        using var scores = _detector.Run([NamedOnnxValue.CreateFromTensor(ModelContract.DetectorInput, white)]);
        return scores.Single(r => r.Name == ModelContract.ScoreOutput).AsTensor<float>().ToArray();
    }

    /// <summary>Scores of the windows ending at <paramref name="ends"/> (sample indices, exclusive) of each detector's strain; <paramref name="shifts"/>[d] is added to detector d's indices, circularly within its series.</summary>
    public float[] ScoreAt(IReadOnlyList<double[]> strain, IReadOnlyList<long> ends, IReadOnlyList<long>? shifts = null, int batch = 16)
    {
        int d = Detectors, k = Kernel;
        var result = new float[ends.Count];
        var buffer = new float[batch * d * k];
        for (int start = 0; start < ends.Count; start += batch)
        {
            int b = Math.Min(batch, ends.Count - start);
            if (b != batch) buffer = new float[b * d * k];
            for (int i = 0; i < b; i++)
                for (int det = 0; det < d; det++)
                {
                    var x = strain[det];
                    long end = ends[start + i] + (shifts?[det] ?? 0);
                    long first = end - k;
                    long range = x.Length - k + 1;
                    first = ((first % range) + range) % range;
                    var dst = buffer.AsSpan((i * d + det) * k, k);
                    for (int j = 0; j < k; j++) dst[j] = (float)x[first + j];
                }
            Score(buffer, b).CopyTo(result, start);
        }
        return result;
    }

    public void Dispose()
    {
        _postproc.Dispose();
        _detector.Dispose();
    }
}

/// <summary>What calibration measured on injection-free data.</summary>
/// <param name="Windows">Background windows scored.</param>
/// <param name="MedianSnr">Median network SNR of the background.</param>
/// <param name="Threshold">ρ₀: the network SNR exceeded by a fraction <paramref name="FalseAlarm"/> of background windows.</param>
/// <param name="Slope">Logistic slope a.</param>
/// <param name="FalseAlarm">Per-window false-alarm probability ρ₀ was set at.</param>
public sealed record TemplateCalibration(int Windows, double MedianSnr, double Threshold, double Slope, double FalseAlarm)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"rho0 = {Threshold:F3} (per-window false-alarm probability {FalseAlarm:G3} on {Windows} injection-free windows, median network SNR {MedianSnr:F2}), slope {Slope:F4}");
}

/// <summary>
/// Sets the template detector's logistic on injection-free data by running the network itself: ρ₀ at a per-window false-alarm
/// probability (score 0.5 there), and a slope that keeps float32 scores below 1 up to network SNR <see cref="SaturationSnr"/> and beyond.
/// </summary>
/// <remarks>
/// The network is built with ρ₀ = 0 and slope <see cref="ProbeSlope"/>, so each score inverts to its network SNR
/// (ρ = logit(score) / slope) without leaving float32's well-resolved range for background values.
/// </remarks>
public static class TemplateBankCalibration
{
    /// <summary>Default per-window false-alarm probability at which the score is 0.5.</summary>
    public const double DefaultFalseAlarm = 1e-3;

    /// <summary>Network SNR that scores 1 − 10⁻⁴; float32 scores stay below 1 up to about 1.8× this above ρ₀.</summary>
    public const double SaturationSnr = 50;

    /// <summary>Slope of the probe network (ρ₀ = 0) used to read network SNRs back from scores.</summary>
    public const float ProbeSlope = 0.125f;

    /// <summary>Network SNRs of the background windows ending at <paramref name="ends"/>, with each set of per-detector <paramref name="slides"/> (sample shifts; one set per pass).</summary>
    public static double[] BackgroundSnr(RepositoryModel postproc, TemplateBank bank, IReadOnlyList<string> ifos, IReadOnlyList<double[]> strain,
        IReadOnlyList<long> ends, IReadOnlyList<long[]> slides, int batch, int threads = 1)
    {
        int kernel = (int)postproc.Config.Input[0].Dims[2];
        var probe = TemplateBankNetwork.Build("bbh-templates-probe", bank with { Threshold = 0, Slope = ProbeSlope }, ifos.Count, kernel, batch);
        if (slides.Count == 0 || ends.Count == 0) throw new BadInputException("template calibration: no background windows");
        using var chain = new DetectorChain(postproc, probe, ifos, threads);
        var snr = new List<double>(ends.Count * slides.Count);
        foreach (var shift in slides)
            foreach (var s in chain.ScoreAt(strain, ends, shift, batch))
                snr.Add(Math.Log(s / (1.0 - s)) / ProbeSlope);
        return [.. snr];
    }

    /// <summary>ρ₀ and slope from background network SNRs.</summary>
    public static TemplateCalibration Fit(IReadOnlyList<double> backgroundSnr, double falseAlarm = DefaultFalseAlarm)
    {
        if (backgroundSnr.Count < 10 || !(falseAlarm > 0 && falseAlarm < 1)) throw new BadInputException($"template calibration: {backgroundSnr.Count} background windows cannot set a false-alarm level of {falseAlarm}");
        var sorted = backgroundSnr.Order().ToArray();
        double threshold = Quantile(sorted, 1 - falseAlarm);
        if (threshold >= SaturationSnr / 2) throw new BadInputException($"template calibration: the background reaches network SNR {threshold:F1} at false-alarm {falseAlarm}; the data are not injection-free or not whitened");
        double slope = Math.Log(1e4) / (SaturationSnr - threshold);
        return new TemplateCalibration(sorted.Length, Quantile(sorted, 0.5), threshold, slope, falseAlarm);
    }

    /// <summary>The bank with the calibration's ρ₀ and slope, and the calibration recorded in its description.</summary>
    public static TemplateBank Apply(TemplateBank bank, TemplateCalibration c) =>
        bank with { Threshold = (float)c.Threshold, Slope = (float)c.Slope, Description = $"{bank.Description}; calibrated: {c}" };

    /// <summary>Linear-interpolated quantile of sorted values (NumPy's default).</summary>
    public static double Quantile(IReadOnlyList<double> sorted, double q)
    {
        double pos = q * (sorted.Count - 1);
        int lo = (int)Math.Floor(pos);
        int hi = Math.Min(lo + 1, sorted.Count - 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }
}

/// <summary>Designs and calibrates the template detector for a build: the bank from postproc's FIRs, the logistic from injection-free cleaned strain.</summary>
public static class TemplateDetectorBuild
{
    /// <summary>L1 (and further detectors) are slid by multiples of this many seconds against the first, for more background windows than the span holds.</summary>
    public const int SlideSeconds = 7;

    /// <summary>
    /// Cleaned strain at the processing rate: the strain minus the cleaner's noise estimate from the (high-passed, when the cleaner was
    /// fitted so) standardised witnesses (as gwe2e computes it, without band-passing the estimate). <paramref name="channels"/> = strain, then the cleaner's witnesses in order.
    /// </summary>
    public static double[] CleanedStrain(IReadOnlyList<Data.TimeSeries> channels, WienerCleaner cleaner, Data.SampleRate rate) =>
        CleanedStrain(channels, cleaner.Fir, cleaner.Scaling, cleaner.Highpass, rate);

    /// <summary>As <see cref="CleanedStrain(IReadOnlyList{Data.TimeSeries}, WienerCleaner, Data.SampleRate)"/> for a cleaner read back from a repository: its taps, witness scales and witness high-pass.</summary>
    public static double[] CleanedStrain(IReadOnlyList<Data.TimeSeries> channels, MultiChannelFir fir, IReadOnlyList<Dsp.ChannelScaling> scaling, Dsp.WitnessHighpass? highpass,
        Data.SampleRate rate)
    {
        var resampled = Dsp.TimeSeriesSignal.ResampleAll(channels, rate);
        int n = resampled.Min(s => s.Length);
        var witnesses = new ReadOnlyMemory<double>[scaling.Count];
        for (int c = 0; c < witnesses.Length; c++)
        {
            ReadOnlySpan<double> w = highpass is { } hp ? hp.Apply(resampled[c + 1].Samples.Span, rate.Hertz) : resampled[c + 1].Samples.Span;
            w = w[..n];
            var x = new double[n];
            var s = scaling[c];
            double inv = 1 / s.Scale;
            for (int i = 0; i < n; i++) x[i] = (w[i] - s.Mean) * inv;
            witnesses[c] = x;
        }
        var noise = WienerFit.Predict(fir, witnesses);
        var strain = resampled[0].Samples.Span;
        var cleaned = new double[n];
        for (int i = 0; i < n; i++) cleaned[i] = strain[i] - noise[i];
        return cleaned;
    }

    /// <summary>Designs the bank, then calibrates it on <paramref name="background"/> (per detector, processing rate) in windows at hop <paramref name="hop"/>, with 4 slides.</summary>
    public static (TemplateBankDesignResult Design, TemplateCalibration Calibration, TemplateBank Bank) Make(TemplateBankSettings settings, IReadOnlyList<string> ifos,
        IReadOnlyList<float[]> whiteningTaps, IReadOnlyList<double[]> background, int kernel, int hop, int batch, int threads, double falseAlarm = TemplateBankCalibration.DefaultFalseAlarm)
    {
        var design = TemplateBankDesign.Design(settings, ifos, whiteningTaps);
        var postproc = Postprocessor.Build(ModelRepositoryBuilder.Postproc, ifos, kernel, batch, whiteningTaps, "calibration");
        long length = background.Min(b => (long)b.Length);
        if (length < kernel + 10L * hop) throw new BadInputException($"template calibration: {length} samples of background are too few for {kernel}-sample windows");
        var ends = new List<long>();
        for (long e = kernel; e <= length; e += hop) ends.Add(e);
        var slides = Enumerable.Range(0, 4).Select(k => ifos.Select((_, d) => (long)k * d * SlideSeconds * settings.SampleRate).ToArray()).ToList();
        var snr = TemplateBankCalibration.BackgroundSnr(postproc, design.Bank, ifos, background.Select(b => b[..(int)length]).ToList(), ends, slides, batch, threads);
        var calibration = TemplateBankCalibration.Fit(snr, falseAlarm);
        return (design, calibration, TemplateBankCalibration.Apply(design.Bank, calibration));
    }
}
