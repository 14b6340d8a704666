using GwReprocess.Models.Onnx;
using Inference;

namespace GwReprocess.Models;

/// <summary>Post-processing between cleaners and detector: strain minus each detector's noise estimate, then a per-detector FIR (the whitening filter).</summary>
/// <remarks>
/// Inputs <c>strain [B, D, K]</c> and <c>noise_&lt;det&gt; [B, K]</c> per detector; output <c>strain [B, D, K]</c>
/// (cleaned and filtered, the detector's input). The FIR is applied as a convolution y[n] = Σ_j h[j]·x[n + c − j]
/// with c = (T−1)/2 (centred, zero-padded at the window edges, length preserved): symmetric taps give a zero-phase
/// filter. The taps are a build parameter: a single tap of 1 is the identity, which is what is written until the
/// ASD-based whitening design lands.
/// </remarks>
public static class Postprocessor
{
    public const string StrainInput = "strain";
    public const string Output = "whitened";

    /// <summary>The config/graph input carrying detector <paramref name="detector"/>'s noise estimate.</summary>
    public static string NoiseInput(string detector) => $"noise_{detector.ToLowerInvariant()}";

    public static RepositoryModel Build(string name, IReadOnlyList<string> detectors, int kernel, int batch, IReadOnlyList<float[]> firTaps,
        string whiteningDescription, int instances = 1, ModelInstanceGroup.Types.Kind kind = ModelInstanceGroup.Types.Kind.Auto)
    {
        int d = detectors.Count;
        if (d == 0) throw new BadInputException($"{name}: needs at least one detector");
        if (firTaps.Count != d) throw new BadInputException($"{name}: {firTaps.Count} FIR tap sets for {d} detectors");
        int taps = firTaps[0].Length;
        if (taps < 1 || firTaps.Any(t => t.Length != taps)) throw new BadInputException($"{name}: every detector's FIR needs the same, non-zero number of taps");
        if (taps > kernel) throw new BadInputException($"{name}: FIR of {taps} taps is longer than the {kernel}-sample window");

        var net = new NetworkBuilder(name, seed: 0);
        var g = net.Graph;
        var batchDim = OnnxDim.Symbolic("batch");
        var strain = g.Input(StrainInput, NetworkBuilder.Float, batchDim, d, kernel);
        var noises = detectors.Select(det => g.Input(NoiseInput(det), NetworkBuilder.Float, batchDim, kernel)).ToList();
        var axis1 = g.Int64Vector("axis_detector", 1);
        var stacked = noises.Select(n => g.Node("Unsqueeze", [n, axis1], $"{n}_3d")).ToList();
        var noise = d == 1 ? stacked[0] : g.Node("Concat", stacked, "noise", OnnxAttribute.Int("axis", 1));
        var cleaned = g.Node("Sub", [strain, noise], "cleaned");
        net.CountFlops((double)d * kernel);

        // ONNX Conv is a correlation: reverse the taps so that the graph convolves with h.
        var weights = new float[d * taps];
        for (int i = 0; i < d; i++)
            for (int j = 0; j < taps; j++) weights[i * taps + j] = firTaps[i][taps - 1 - j];
        var w = g.Initializer("whitening_fir", weights, d, 1, taps);
        int padBegin = (taps - 1) / 2, padEnd = taps - 1 - padBegin;
        var filtered = net.Conv1dWith(new Activation(cleaned, d, kernel), w, null, d, taps, 1, padBegin, padEnd, d, "fir");
        g.Node("Identity", [filtered.Name], Output);
        g.Output(Output, NetworkBuilder.Float, batchDim, d, kernel);

        string description = $"postproc: strain - noise for {string.Join(", ", detectors)}, then FIR ({taps} taps): {whiteningDescription}";
        var model = g.Build(description, new Dictionary<string, string> { ["architecture"] = "postproc", ["fir_taps"] = taps.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        var inputs = new List<ModelInput> { ModelConfigs.Input(StrainInput, batch, d, kernel) };
        inputs.AddRange(detectors.Select(det => ModelConfigs.Input(NoiseInput(det), batch, kernel)));
        var config = ModelConfigs.Onnx(name, instances, kind, description, inputs, [ModelConfigs.Output(Output, batch, d, kernel)]);
        return new RepositoryModel(name, config, model, net.Flops);
    }
}
