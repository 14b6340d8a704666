using TorchSharp;
using static TorchSharp.torch;

namespace GwReprocess.Training;

/// <summary>Trains a <see cref="BbhNetModule"/>: balanced batches of whitened background with and without an injection at a random SNR, binary cross-entropy, Adam.</summary>
/// <remarks>
/// Each detector's background window is drawn on its own, so pairs of windows that never coincided (time slides, as aframe
/// samples them) multiply the background the span holds. The validation set is fixed: every validation background window at
/// zero lag, and every validation source on one of them at a seeded SNR.
/// </remarks>
internal sealed class BbhNetTrainer(BbhNetTrainingOptions options, Action<string> progress)
{
    /// <summary>Trains on the data's training part and validates on its validation part; returns the network with the best validation loss.</summary>
    public (BbhNetModule Network, IReadOnlyList<EpochResult> History) Train(BbhNetTrainingData data)
    {
        torch.set_num_threads(options.Threads);
        torch.manual_seed(options.Seed);
        int d = data.Ifos.Count, k = data.NetworkLength, batch = options.BatchSize;
        // The input filter was applied to the pools already; the module is the network after it.
        var net = new BbhNetModule(options.Architecture, d, k, options.Dropout);
        using var adam = new AdamOptimizer(net.parameters(), options.LearningRate, options.WeightDecay);
        using var bce = nn.BCEWithLogitsLoss();
        var random = new Random(options.Seed);
        var (validationX, validationY) = ValidationSet(data);
        var x = new float[batch * d * k];
        var y = new float[batch];
        int steps = Math.Max(1, Math.Max(data.TrainWindows, options.EpochWindows) / batch);
        var loop = new EpochLoop(options.Epochs, options.PlateauPatience, options.LearningRateFactor, options.EarlyStopPatience, progress);
        var history = loop.Run(net, adam, options.LearningRate, "bbhnet", () =>
        {
            double sum = 0;
            for (int step = 0; step < steps; step++)
            {
                using var scope = NewDisposeScope();
                Draw(data, random, x, y);
                adam.zero_grad();
                var l = bce.forward(net.forward(tensor(x, [batch, d, k])), tensor(y, [batch]));
                l.backward();
                adam.step();
                sum += l.item<float>();
            }
            return (sum, steps, steps * batch);
        }, () => Validate(net, bce, validationX, validationY, d, k));
        return (net, history);
    }

    /// <summary>Fills a batch: odd rows carry an injection at an SNR uniform in the option's range, every detector on its own random background window.</summary>
    private void Draw(BbhNetTrainingData data, Random random, float[] x, float[] y)
    {
        int d = data.Ifos.Count, k = data.NetworkLength, batch = y.Length;
        float scale = (float)data.InputScale;
        var injections = data.TrainInjections;
        for (int b = 0; b < batch; b++)
        {
            bool injected = (b & 1) == 1;
            int source = injected ? random.Next(injections.Count) : -1;
            float amplitude = injected ? (float)((options.MinSnr + (options.MaxSnr - options.MinSnr) * random.NextDouble()) / injections.Injections[source].NetworkSnr) : 0;
            for (int det = 0; det < d; det++)
            {
                int w = random.Next(data.TrainWindows);
                var noise = data.TrainNoise[det].AsSpan(w * k, k);
                var dst = x.AsSpan((b * d + det) * k, k);
                if (injected)
                {
                    var signal = injections.Windows.AsSpan((source * d + det) * k, k);
                    for (int i = 0; i < k; i++) dst[i] = (noise[i] + amplitude * signal[i]) * scale;
                }
                else
                    System.Numerics.Tensors.TensorPrimitives.Multiply(noise, scale, dst);
            }
            y[b] = injected ? 1 : 0;
        }
    }

    /// <summary>Every validation background window at zero lag (label 0), then every validation source on one of them at a seeded SNR (label 1).</summary>
    private (float[] X, float[] Y) ValidationSet(BbhNetTrainingData data)
    {
        int d = data.Ifos.Count, k = data.NetworkLength, windows = data.ValidationWindows, sources = data.ValidationInjections.Count;
        var random = new Random(options.Seed + 7);
        var x = new float[(windows + sources) * d * k];
        var y = new float[windows + sources];
        float scale = (float)data.InputScale;
        for (int i = 0; i < windows + sources; i++)
        {
            bool injected = i >= windows;
            int w = injected ? (i - windows) % windows : i;
            int source = i - windows;
            float amplitude = injected
                ? (float)((options.MinSnr + (options.MaxSnr - options.MinSnr) * random.NextDouble()) / data.ValidationInjections.Injections[source].NetworkSnr)
                : 0;
            for (int det = 0; det < d; det++)
            {
                var noise = data.ValidationNetworkNoise[det].AsSpan(w * k, k);
                var dst = x.AsSpan((i * d + det) * k, k);
                for (int s = 0; s < k; s++)
                    dst[s] = (noise[s] + (injected ? amplitude * data.ValidationInjections.Windows[(source * d + det) * k + s] : 0)) * scale;
            }
            y[i] = injected ? 1 : 0;
        }
        return (x, y);
    }

    private static double Validate(BbhNetModule net, nn.Module<Tensor, Tensor, Tensor> bce, float[] x, float[] y, int d, int k)
    {
        net.eval();
        using var noGrad = torch.no_grad();
        double sum = 0;
        const int chunk = 256;
        int count = y.Length;
        for (int b = 0; b < count; b += chunk)
        {
            using var scope = NewDisposeScope();
            int n = Math.Min(chunk, count - b);
            var logits = net.forward(tensor(x.AsSpan(b * d * k, n * d * k).ToArray(), [n, d, k]));
            sum += bce.forward(logits, tensor(y.AsSpan(b, n).ToArray(), [n])).item<float>() * n;
        }
        return sum / count;
    }
}
