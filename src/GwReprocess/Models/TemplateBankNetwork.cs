using GwReprocess.Models.Onnx;
using Inference;

namespace GwReprocess.Models;

/// <summary>A bank of whitened templates in quadrature (cos- and sin-phase waveforms of equal length) and the logistic that maps network SNR to a score.</summary>
/// <param name="Cosine">Cosine-phase templates, [N][T] (the first detector's when <see cref="PerDetector"/> is set).</param>
/// <param name="Sine">Sine-phase templates, [N][T] (the Hilbert partners of <paramref name="Cosine"/>).</param>
/// <param name="Threshold">Network SNR ρ₀ at which the score is 0.5.</param>
/// <param name="Slope">Logistic slope a: score = 1 / (1 + exp(−a (ρ − ρ₀))).</param>
/// <param name="Description">Where the templates came from (masses, ASD), written into the model.</param>
public sealed record TemplateBank(IReadOnlyList<float[]> Cosine, IReadOnlyList<float[]> Sine, float Threshold, float Slope, string Description)
{
    public int Count => Cosine.Count;
    public int Length => Cosine.Count == 0 ? 0 : Cosine[0].Length;

    /// <summary>Templates per detector, in the detector order of the network (each whitened with that detector's filter); null = <see cref="Cosine"/>/<see cref="Sine"/> for every detector.</summary>
    public IReadOnlyList<DetectorTemplates>? PerDetector { get; init; }

    /// <summary>Samples dropped at each end of the window before anything else: where postproc's FIR ran into the window's zero padding (its half-length).</summary>
    public int Crop { get; init; }

    /// <summary>Decimation factor M: the network low-passes the whitened strain with <see cref="DecimationFilter"/> and keeps every M-th sample before correlating (1 = correlate at the input rate).</summary>
    public int Decimation { get; init; } = 1;

    /// <summary>Odd-length, centred low-pass taps applied before decimation (gain √M at DC, so white unit-variance noise stays unit-variance in band); null when <see cref="Decimation"/> is 1.</summary>
    public float[]? DecimationFilter { get; init; }

    /// <summary>True when the templates are already scaled so that their correlation with the (non-white) network input noise has unit variance; the network then uses them as given instead of scaling each to unit norm.</summary>
    public bool NoiseNormalized { get; init; }

    /// <summary>The cosine and sine templates detector <paramref name="detector"/> is correlated with.</summary>
    public DetectorTemplates For(int detector) => PerDetector is { } p ? p[detector] : new DetectorTemplates("", Cosine, Sine);
}

/// <summary>One detector's whitened quadrature templates, [N][T] each.</summary>
public sealed record DetectorTemplates(string Ifo, IReadOnlyList<float[]> Cosine, IReadOnlyList<float[]> Sine);

/// <summary>A template-bank detector as a network: whitened strain <c>strain [B, D, K]</c> → <c>score [B, 1]</c>, monotone in network SNR.</summary>
/// <remarks>
/// Every template is scaled to unit norm (so on unit-variance whitened noise a correlation has unit variance) and
/// correlated with each detector's strain (Conv, no padding: K − T + 1 lags). |z|² = cos² + sin² per template and lag;
/// ρ_d² = max over lags and templates; ρ = √(Σ_d ρ_d²); score = sigmoid(a (ρ − ρ₀)). With decimation M the strain is first
/// low-passed and decimated (a strided grouped Conv), cutting the correlation's cost by M². The templates are an input:
/// <see cref="TemplateBankDesign"/> generates whitened chirps, <see cref="TemplateBankCalibration"/> sets ρ₀ and a.
/// </remarks>
public static class TemplateBankNetwork
{
    public static RepositoryModel Build(string name, TemplateBank bank, int detectors, int kernel, int batch,
        int instances = 1, ModelInstanceGroup.Types.Kind kind = ModelInstanceGroup.Types.Kind.Auto)
    {
        int n = bank.Count, t = bank.Length, d = detectors, m = bank.Decimation;
        if (bank.PerDetector is { } per && per.Count != d) throw new BadInputException($"{name}: the template bank has templates for {per.Count} detectors, the network {d}");
        for (int det = 0; det < d; det++)
        {
            var dt = bank.For(det);
            if (n < 1 || dt.Cosine.Count != n || dt.Sine.Count != n || dt.Cosine.Concat(dt.Sine).Any(x => x.Length != t) || t < 1)
                throw new BadInputException($"{name}: the template bank needs N cosine and N sine templates of one common, non-zero length");
        }
        int crop = bank.Crop, inner = kernel - 2 * crop;
        if (crop < 0 || inner < 1) throw new BadInputException($"{name}: cropping {crop} samples at each end leaves nothing of the {kernel}-sample window");
        if (m < 1 || inner % m != 0) throw new BadInputException($"{name}: decimation {m} must be a positive divisor of the {inner}-sample window interior");
        if (m > 1 && (bank.DecimationFilter is null || bank.DecimationFilter.Length % 2 == 0))
            throw new BadInputException($"{name}: decimation by {m} needs an odd-length low-pass filter");
        int length = inner / m;
        if (t > length) throw new BadInputException($"{name}: templates of {t} samples are longer than the {length}-sample window{(m > 1 ? $" after decimation by {m}" : "")}");
        if (d < 1) throw new BadInputException($"{name}: needs at least one detector");

        var net = new NetworkBuilder(name, seed: 0);
        var g = net.Graph;
        var batchDim = OnnxDim.Symbolic("batch");
        var x = new Activation(g.Input(ModelContract.DetectorInput, NetworkBuilder.Float, batchDim, d, kernel), d, kernel);
        if (crop > 0)
        {
            var sliced = g.Node("Slice", [x.Name, g.Int64Vector("crop_start", crop), g.Int64Vector("crop_end", kernel - crop), g.Int64Vector("crop_axis", 2)], "interior");
            x = new Activation(sliced, d, inner);
        }
        if (m > 1)
        {
            // Low-pass and keep every M-th sample: output i is the filter centred on input sample M·i (zero-padded at the edges).
            var taps = bank.DecimationFilter!;
            var lw = new float[d * taps.Length];
            for (int det = 0; det < d; det++) taps.CopyTo(lw, det * taps.Length);
            var lowpass = g.Initializer("decimation_filter", lw, d, 1, taps.Length);
            int pad = (taps.Length - 1) / 2;
            x = net.Conv1dWith(x, lowpass, null, d, taps.Length, m, pad, pad, d, "decimation");
        }

        // Weights [D·2·N, 1, T], grouped per detector: detector-major, then quadrature (cos, sin), then template.
        var weights = new float[d * 2 * n * t];
        for (int det = 0; det < d; det++)
        {
            var dt = bank.For(det);
            for (int q = 0; q < 2; q++)
                for (int i = 0; i < n; i++)
                {
                    var tpl = (q == 0 ? dt.Cosine : dt.Sine)[i];
                    double norm = 0;
                    foreach (var v in tpl) norm += (double)v * v;
                    if (norm == 0) throw new BadInputException($"{name}: template {i} ({(q == 0 ? "cosine" : "sine")}) is all zeros");
                    float scale = bank.NoiseNormalized ? 1f : (float)(1 / Math.Sqrt(norm));
                    int row = (det * 2 + q) * n + i;
                    for (int j = 0; j < t; j++) weights[row * t + j] = tpl[j] * scale;
                }
        }
        var w = g.Initializer("templates", weights, d * 2 * n, 1, t);
        var z = net.Conv1dWith(x, w, null, d * 2 * n, t, 1, 0, 0, d, "correlation");
        int lags = z.Length;
        var squared = g.Node("Mul", [z.Name, z.Name], "correlation_squared");
        var split = g.Node("Reshape", [squared, g.Int64Vector("quadrature_shape", 0, d, 2, n, lags)], "quadrature");
        var power = g.Node("ReduceSum", [split, g.Int64Vector("axis_quadrature", 2)], "snr_squared", OnnxAttribute.Int("keepdims", 0));
        var perDetector = g.Node("ReduceMax", [power], "detector_snr_squared", OnnxAttribute.Ints("axes", 2, 3), OnnxAttribute.Int("keepdims", 0));
        var network = g.Node("ReduceSum", [perDetector, g.Int64Vector("axis_detector", 1)], "network_snr_squared", OnnxAttribute.Int("keepdims", 1));
        var rho = g.Node("Sqrt", [network], "network_snr");
        var shifted = g.Node("Sub", [rho, g.Initializer("snr_threshold", [bank.Threshold])], "snr_minus_threshold");
        var logit = g.Node("Mul", [shifted, g.Initializer("logistic_slope", [bank.Slope])], "logit");
        g.Node("Sigmoid", [logit], ModelContract.ScoreOutput);
        g.Output(ModelContract.ScoreOutput, NetworkBuilder.Float, batchDim, 1);
        net.CountFlops(4.0 * d * 2 * n * lags);

        string description = $"template-bank detector: {n} quadrature templates x {t} samples{(m > 1 ? $" at 1/{m} of the input rate" : "")}, {d} detectors, score = sigmoid({bank.Slope} (rho - {bank.Threshold})); {bank.Description}";
        var model = g.Build(description, new Dictionary<string, string> { ["architecture"] = "bbh-templates", ["templates"] = n.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        var config = ModelConfigs.Onnx(name, instances, kind, description,
            [ModelConfigs.Input(ModelContract.DetectorInput, batch, d, kernel)],
            [ModelConfigs.Output(ModelContract.ScoreOutput, batch, 1)]);
        return new RepositoryModel(name, config, model, net.Flops);
    }
}
