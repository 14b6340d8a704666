using System.Diagnostics;
using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace GwReprocess.Training;

/// <summary>The epoch loop every trainer shares: a training pass, validation, a learning-rate cut on a plateau, and early stopping that keeps the best weights.</summary>
/// <param name="epochs">Passes at most.</param>
/// <param name="plateauPatience">Epochs without a better validation loss before the learning rate falls by <paramref name="learningRateFactor"/>.</param>
/// <param name="learningRateFactor">Factor of that fall.</param>
/// <param name="earlyStopPatience">Epochs without a better validation loss before training stops.</param>
/// <param name="progress">Receives one plain line per epoch.</param>
internal sealed class EpochLoop(int epochs, int plateauPatience, double learningRateFactor, int earlyStopPatience, Action<string> progress)
{
    /// <summary>
    /// Runs up to the epoch limit: <paramref name="trainEpoch"/> makes one pass in training mode and returns its summed loss, batches and
    /// windows; <paramref name="validate"/> returns the validation loss. Leaves <paramref name="net"/> in eval mode with the best weights.
    /// </summary>
    public List<EpochResult> Run(nn.Module net, AdamOptimizer adam, double learningRate, string label,
        Func<(double LossSum, int Batches, int Windows)> trainEpoch, Func<double> validate)
    {
        var history = new List<EpochResult>();
        Dictionary<string, Tensor>? best = null;
        double bestLoss = double.PositiveInfinity, lr = learningRate;
        int sinceBest = 0, sincePlateau = 0;
        for (int epoch = 1; epoch <= epochs; epoch++)
        {
            var clock = Stopwatch.StartNew();
            net.train();
            var (sum, batches, windows) = trainEpoch();
            double validationLoss = validate();
            var result = new EpochResult(epoch, sum / batches, validationLoss, lr, clock.Elapsed.TotalSeconds, windows);
            history.Add(result);
            progress(string.Create(CultureInfo.InvariantCulture,
                $"{label} epoch {epoch}/{epochs}: train loss {result.TrainLoss:F4}, validation loss {validationLoss:F4}, lr {lr:G3}, {result.Windows / result.Seconds:F1} windows/s"));
            if (validationLoss < bestLoss)
            {
                bestLoss = validationLoss;
                sinceBest = sincePlateau = 0;
                DisposeAll(best);
                best = net.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());
            }
            else
            {
                sinceBest++;
                if (++sincePlateau > plateauPatience)
                {
                    lr *= learningRateFactor;
                    adam.LearningRate = lr;
                    sincePlateau = 0;
                }
                if (sinceBest >= earlyStopPatience)
                {
                    progress($"{label}: no better validation loss in {sinceBest} epochs; stopping with epoch {epoch - sinceBest}'s weights");
                    break;
                }
            }
        }
        if (best is not null)
        {
            net.load_state_dict(best);
            DisposeAll(best);
        }
        net.eval();
        return history;
    }

    private static void DisposeAll(Dictionary<string, Tensor>? tensors)
    {
        if (tensors is null) return;
        foreach (var t in tensors.Values) t.Dispose();
    }
}
