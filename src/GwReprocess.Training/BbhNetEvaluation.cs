using System.Globalization;
using System.Text;
using Google.Protobuf;
using GwReprocess.IO;
using GwReprocess.Models;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using ScottPlot;

namespace GwReprocess.Training;

/// <summary>One detector model's figures on the held-out data: its threshold and its efficiency at each network SNR.</summary>
/// <param name="Model">Model name (and version).</param>
/// <param name="Threshold">The 99.9th percentile of its background scores.</param>
/// <param name="Efficiency">Fraction of injected windows scoring above <paramref name="Threshold"/>, per SNR of <see cref="BbhNetEvaluation.Snrs"/>.</param>
/// <param name="Background">Its background scores.</param>
/// <param name="Injected">Its score of each served source (the highest of its windows), per SNR.</param>
internal sealed record DetectorFigures(string Model, double Threshold, double[] Efficiency, double[] Background, double[][] Injected);

/// <summary>
/// The trained BBHnet beside the ensemble's own detector (the template bank) on the same held-out windows, both as ONNX Runtime runs
/// them: thresholds at the same per-window false-alarm probability, efficiency against network SNR, and ROC curves.
/// </summary>
internal static class BbhNetEvaluation
{
    /// <summary>Per-window false-alarm probability of the threshold (the run report's 99.9th percentile of injection-free scores).</summary>
    public const double FalseAlarm = 1e-3;

    /// <summary>Network SNRs the validation sources are scaled to.</summary>
    public static readonly double[] Snrs = [4, 6, 8, 10, 12, 14, 16, 20];

    /// <summary>
    /// Scores every model on the validation background with <paramref name="slides"/> time slides (detector d shifted by d·s·7 windows)
    /// and on the served sources at each of <see cref="Snrs"/>: a source's score is the highest of the windows that contain its
    /// coalescence, as the run report counts an injection.
    /// </summary>
    public static IReadOnlyList<DetectorFigures> Compare(BbhNetTrainingData data, IReadOnlyList<(string Label, RepositoryModel Model)> models, int slides)
    {
        int d = data.Ifos.Count, k = data.Kernel, windows = data.ValidationWindows;
        var served = data.ServedInjections;
        var background = new float[slides * windows * d * k];
        for (int s = 0; s < slides; s++)
            for (int i = 0; i < windows; i++)
                for (int det = 0; det < d; det++)
                {
                    int w = (i + det * s * 7) % windows;
                    data.ValidationNoise[det].AsSpan(w * k, k).CopyTo(background.AsSpan(((s * windows + i) * d + det) * k, k));
                }
        var injected = new float[Snrs.Length][];
        for (int r = 0; r < Snrs.Length; r++)
        {
            injected[r] = new float[served.WindowCount * d * k];
            for (int j = 0; j < served.WindowCount; j++)
            {
                float amplitude = (float)(Snrs[r] / served.Injections[j / served.WindowsPerSource].NetworkSnr);
                for (int det = 0; det < d; det++)
                {
                    var noise = data.ValidationNoise[det].AsSpan(j % windows * k, k);
                    var signal = served.Windows.AsSpan((j * d + det) * k, k);
                    var dst = injected[r].AsSpan((j * d + det) * k, k);
                    for (int i = 0; i < k; i++) dst[i] = noise[i] + amplitude * signal[i];
                }
            }
        }
        QuietOnnxRuntime.Ensure();
        var result = new List<DetectorFigures>();
        foreach (var (label, model) in models)
        {
            using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 };
            options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
            using var session = new InferenceSession(model.Onnx!.ToByteArray(), options);
            var bg = Score(session, background, d, k);
            double threshold = TemplateBankCalibration.Quantile(bg.Order().ToArray(), 1 - FalseAlarm);
            var scores = new double[Snrs.Length][];
            for (int r = 0; r < Snrs.Length; r++)
            {
                var perWindow = Score(session, injected[r], d, k);
                scores[r] = new double[served.Count];
                for (int j = 0; j < served.Count; j++)
                {
                    double best = double.NegativeInfinity;
                    for (int m = 0; m < served.WindowsPerSource; m++) best = Math.Max(best, perWindow[j * served.WindowsPerSource + m]);
                    scores[r][j] = best;
                }
            }
            var efficiency = scores.Select(s => s.Count(v => v > threshold) / (double)s.Length).ToArray();
            result.Add(new DetectorFigures(label, threshold, efficiency, bg, scores));
        }
        return result;
    }

    /// <summary>Writes <c>STEM-efficiency.csv</c>, <c>STEM-efficiency.png</c> and <c>STEM-roc.png</c> (ROC over the sources at SNR 8–12).</summary>
    public static async Task WriteAsync(string stem, IReadOnlyList<DetectorFigures> figures, double windowsPerHour, CancellationToken cancellationToken)
    {
        var csv = new StringBuilder("network_snr");
        foreach (var f in figures) csv.Append(CultureInfo.InvariantCulture, $",{f.Model}");
        csv.Append('\n');
        for (int r = 0; r < Snrs.Length; r++)
        {
            csv.Append(CultureInfo.InvariantCulture, $"{Snrs[r]}");
            foreach (var f in figures) csv.Append(CultureInfo.InvariantCulture, $",{f.Efficiency[r]:F4}");
            csv.Append('\n');
        }
        csv.Append(CultureInfo.InvariantCulture, $"# thresholds at per-window false-alarm probability {FalseAlarm} ({FalseAlarm * windowsPerHour:G3} per hour at the served rate): ");
        csv.Append(string.Join("; ", figures.Select(f => string.Create(CultureInfo.InvariantCulture, $"{f.Model} {f.Threshold:G6} over {f.Background.Length} background windows"))));
        csv.Append('\n');
        await AtomicFile.WriteAllTextAsync(stem + "-efficiency.csv", csv.ToString(), cancellationToken).ConfigureAwait(false);

        var efficiency = new Plot();
        foreach (var f in figures)
        {
            var line = efficiency.Add.Scatter(Snrs, f.Efficiency);
            line.LegendText = f.Model;
        }
        efficiency.Title(string.Create(CultureInfo.InvariantCulture, $"Detection efficiency at false-alarm probability {FalseAlarm} per window"));
        efficiency.XLabel("network SNR");
        efficiency.YLabel("fraction above threshold");
        efficiency.ShowLegend();
        efficiency.SavePng(stem + "-efficiency.png", 900, 500);

        var roc = new Plot();
        foreach (var f in figures)
        {
            var positives = new List<double>();
            for (int r = 0; r < Snrs.Length; r++)
                if (Snrs[r] is >= 8 and <= 12) positives.AddRange(f.Injected[r]);
            var (fpr, tpr) = Roc(f.Background, positives);
            var line = roc.Add.Scatter(fpr.Select(v => Math.Log10(Math.Max(v, 1e-5))).ToArray(), tpr);
            line.LegendText = f.Model;
            line.MarkerSize = 0;
        }
        roc.Title("ROC, sources at network SNR 8-12");
        roc.XLabel("log10 false-alarm probability per window");
        roc.YLabel("true-positive fraction");
        roc.ShowLegend();
        roc.SavePng(stem + "-roc.png", 900, 500);
    }

    /// <summary>False- and true-positive fractions at every distinct threshold, from the highest down.</summary>
    public static (double[] Fpr, double[] Tpr) Roc(IReadOnlyList<double> background, IReadOnlyList<double> positives)
    {
        var all = background.Select(v => (Score: v, Positive: false)).Concat(positives.Select(v => (Score: v, Positive: true)))
            .OrderByDescending(x => x.Score).ToArray();
        var fpr = new List<double> { 0 };
        var tpr = new List<double> { 0 };
        int fp = 0, tp = 0;
        for (int i = 0; i < all.Length; i++)
        {
            if (all[i].Positive) tp++; else fp++;
            if (i + 1 < all.Length && all[i + 1].Score == all[i].Score) continue;
            fpr.Add(fp / (double)background.Count);
            tpr.Add(tp / (double)positives.Count);
        }
        return ([.. fpr], [.. tpr]);
    }

    private static double[] Score(InferenceSession session, float[] windows, int d, int k)
    {
        int count = windows.Length / (d * k);
        var scores = new double[count];
        const int chunk = 64;
        string input = session.InputMetadata.Keys.First();
        for (int b0 = 0; b0 < count; b0 += chunk)
        {
            int b = Math.Min(chunk, count - b0);
            var x = windows.AsSpan(b0 * d * k, b * d * k).ToArray();
            using var results = session.Run([NamedOnnxValue.CreateFromTensor(input, new DenseTensor<float>(x, [b, d, k]))]);
            int i = 0;
            foreach (float v in results.First().AsEnumerable<float>()) scores[b0 + i++] = v;
        }
        return scores;
    }
}
