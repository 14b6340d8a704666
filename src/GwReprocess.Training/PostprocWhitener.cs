using GwReprocess.Models;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace GwReprocess.Training;

/// <summary>The repository's <c>postproc</c> model run in ONNX Runtime with zero noise inputs: windows whitened exactly as the serving ensemble whitens them.</summary>
internal sealed class PostprocWhitener : IWindowWhitener
{
    private readonly InferenceSession _session;
    private readonly string[] _noiseInputs;

    /// <param name="model">The postproc model.onnx's bytes.</param>
    /// <param name="ifos">The workflow's detectors, which must be postproc's, in its order.</param>
    /// <param name="kernel">Window length K the postproc config declares.</param>
    public PostprocWhitener(byte[] model, IReadOnlyList<string> ifos, int kernel)
    {
        QuietOnnxRuntime.Ensure();
        var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        _session = new InferenceSession(model, options);
        _noiseInputs = ifos.Select(Postprocessor.NoiseInput).ToArray();
        foreach (var name in _noiseInputs)
            if (!_session.InputMetadata.ContainsKey(name))
                throw new BadInputException($"postproc has no input '{name}' (its inputs: {string.Join(", ", _session.InputMetadata.Keys)}); the workflow's detectors must be the repository's");
        Detectors = ifos.Count;
        Kernel = kernel;
    }

    public int Detectors { get; }

    public int Lead => 0;

    public int Trail => 0;

    public string Description => "the repository's postproc";

    /// <summary>postproc's FIR was fixed at build time: nothing to learn from the training span.</summary>
    public void Prepare(IReadOnlyList<double[]> strain, int trainEnd, IReadOnlyList<int> checkStarts, Action<string> log) { }

    /// <summary>Window length K (samples).</summary>
    public int Kernel { get; }

    /// <summary>All detectors go through postproc together, as served.</summary>
    public float[][] WhitenBackground(IReadOnlyList<double[]> strain, IReadOnlyList<int> starts)
    {
        int d = strain.Count, k = Kernel;
        var windows = IWindowWhitener.Batch(strain, starts, 0, k);
        WhitenSignals(windows);
        var result = new float[d][];
        for (int det = 0; det < d; det++)
        {
            result[det] = new float[starts.Count * k];
            for (int w = 0; w < starts.Count; w++) windows.AsSpan((w * d + det) * k, k).CopyTo(result[det].AsSpan(w * k, k));
        }
        return result;
    }

    /// <summary>Whitens <paramref name="windows"/> = [B, D, K] (row-major) in place, in chunks of at most 64 windows.</summary>
    public void WhitenSignals(float[] windows)
    {
        int size = Detectors * Kernel, count = windows.Length / size;
        const int chunk = 64;
        for (int b0 = 0; b0 < count; b0 += chunk)
        {
            int b = Math.Min(chunk, count - b0);
            var input = new float[b * size];
            windows.AsSpan(b0 * size, b * size).CopyTo(input);
            var inputs = new List<NamedOnnxValue> { NamedOnnxValue.CreateFromTensor(Postprocessor.StrainInput, new DenseTensor<float>(input, [b, Detectors, Kernel])) };
            foreach (var name in _noiseInputs) inputs.Add(NamedOnnxValue.CreateFromTensor(name, new DenseTensor<float>(new float[b * Kernel], [b, Kernel])));
            using var results = _session.Run(inputs);
            var white = results.First(r => r.Name == Postprocessor.Output).AsTensor<float>() as DenseTensor<float>
                ?? throw new InvalidOperationException("postproc answered a non-dense tensor");
            white.Buffer.Span.CopyTo(windows.AsSpan(b0 * size, b * size));
        }
    }

    public void Dispose() => _session.Dispose();
}
