using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace GwReprocess.Training;

/// <summary>Trains a <see cref="DeepCleanModule"/> on a span's training windows with Adam, validates on the held-out windows, and keeps the best weights.</summary>
internal sealed class DeepCleanTrainer(DeepCleanTrainingOptions options, Action<string> progress)
{
    /// <summary>Trains on samples [0, <paramref name="validationStart"/>) and validates on the rest; returns the network with the best validation loss.</summary>
    public (DeepCleanModule Network, IReadOnlyList<EpochResult> History) Train(TrainingSpanData data, int validationStart, IReadOnlyList<(double Low, double High)> bands)
    {
        torch.set_num_threads(options.Threads);
        torch.manual_seed(options.Seed);
        int length = (int)Math.Round(options.WindowSeconds * data.SampleRate);
        int stride = Math.Max(1, (int)Math.Round(options.StrideSeconds * data.SampleRate));
        if (length % 16 != 0) throw new BadInputException($"training window of {options.WindowSeconds} s is {length} samples, not a multiple of 16");
        using var loss = new PsdRatioLoss(data.SampleRate, options.FftSeconds, options.OverlapSeconds, bands, options.PsdWeight);
        if (length < loss.MinimumLength) throw new BadInputException($"training window of {options.WindowSeconds} s is shorter than the loss's {options.FftSeconds} s Welch segment");
        var train = Starts(0, validationStart, length, stride);
        var validation = Starts(validationStart, data.Length, length, length);
        if (train.Count < options.BatchSize)
            throw new BadInputException(string.Create(CultureInfo.InvariantCulture,
                $"{data.Ifo}: the training part of {data.Span} holds {train.Count} windows of {options.WindowSeconds} s, fewer than one batch of {options.BatchSize}"));
        if (validation.Count == 0)
            throw new BadInputException($"{data.Ifo}: the validation part of {data.Span} is shorter than one {options.WindowSeconds} s window");

        var net = new DeepCleanModule(data.Witnesses.Length);
        using var adam = new AdamOptimizer(net.parameters(), options.LearningRate, options.WeightDecay);
        var random = new Random(options.Seed);
        var order = train.ToArray();
        var loop = new EpochLoop(options.Epochs, options.PlateauPatience, options.LearningRateFactor, options.EarlyStopPatience, progress);
        var history = loop.Run(net, adam, options.LearningRate, data.Ifo, () =>
        {
            random.Shuffle(order);
            double sum = 0;
            int batches = 0;
            for (int b = 0; b + options.BatchSize <= order.Length; b += options.BatchSize)
            {
                using var scope = NewDisposeScope();
                var (x, y) = Batch(data, order.AsSpan(b, options.BatchSize), length);
                adam.zero_grad();
                var l = loss.Forward(net.forward(x), y);
                l.backward();
                adam.step();
                sum += l.item<float>();
                batches++;
            }
            return (sum, batches, batches * options.BatchSize);
        }, () => Validate(net, loss, data, validation, length));
        return (net, history);
    }

    /// <summary>Mean loss over the validation windows, in eval mode, without gradients.</summary>
    public static double Validate(DeepCleanModule net, PsdRatioLoss loss, TrainingSpanData data, IReadOnlyList<int> starts, int length)
    {
        net.eval();
        using var noGrad = torch.no_grad();
        double sum = 0;
        int count = 0;
        const int chunk = 16;
        var all = starts.ToArray();
        for (int b = 0; b < all.Length; b += chunk)
        {
            using var scope = NewDisposeScope();
            int n = Math.Min(chunk, all.Length - b);
            var (x, y) = Batch(data, all.AsSpan(b, n), length);
            sum += loss.Forward(net.forward(x), y).item<float>() * n;
            count += n;
        }
        return sum / count;
    }

    /// <summary>Witness and target tensors [B, C, L] and [B, L] for windows starting at <paramref name="starts"/>.</summary>
    public static (Tensor X, Tensor Y) Batch(TrainingSpanData data, ReadOnlySpan<int> starts, int length)
    {
        int channels = data.Witnesses.Length;
        var x = new float[starts.Length * channels * length];
        var y = new float[starts.Length * length];
        for (int b = 0; b < starts.Length; b++)
        {
            for (int c = 0; c < channels; c++)
                data.Witnesses[c].AsSpan(starts[b], length).CopyTo(x.AsSpan((b * channels + c) * length, length));
            data.Target.AsSpan(starts[b], length).CopyTo(y.AsSpan(b * length, length));
        }
        return (tensor(x, [starts.Length, channels, length]), tensor(y, [starts.Length, length]));
    }

    /// <summary>Window starts every <paramref name="stride"/> samples with the whole window inside [from, to).</summary>
    public static List<int> Starts(int from, int to, int length, int stride)
    {
        var starts = new List<int>();
        for (int s = from; s + length <= to; s += stride) starts.Add(s);
        return starts;
    }
}
