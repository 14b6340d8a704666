using System.Globalization;
using System.Text;
using GwReprocess.IO;
using ScottPlot;

namespace GwReprocess.Training;

/// <summary>A training run's loss history as CSV and as a loss-curve PNG.</summary>
internal static class TrainingReport
{
    /// <summary>Writes <c>STEM-history.csv</c> and <c>STEM-loss.png</c>.</summary>
    public static async Task WriteAsync(string stem, string title, IReadOnlyList<EpochResult> history, CancellationToken cancellationToken)
    {
        var csv = new StringBuilder("epoch,train_loss,validation_loss,learning_rate,seconds,windows\n");
        foreach (var e in history)
            csv.Append(CultureInfo.InvariantCulture, $"{e.Epoch},{e.TrainLoss:R},{e.ValidationLoss:R},{e.LearningRate:R},{e.Seconds:F3},{e.Windows}\n");
        await AtomicFile.WriteAllTextAsync(stem + "-history.csv", csv.ToString(), cancellationToken).ConfigureAwait(false);

        var plot = new Plot();
        double[] epochs = history.Select(e => (double)e.Epoch).ToArray();
        var train = plot.Add.Scatter(epochs, history.Select(e => e.TrainLoss).ToArray());
        train.LegendText = "train";
        var validation = plot.Add.Scatter(epochs, history.Select(e => e.ValidationLoss).ToArray());
        validation.LegendText = "validation";
        plot.Title(title);
        plot.XLabel("epoch");
        plot.YLabel("loss");
        plot.ShowLegend();
        plot.SavePng(stem + "-loss.png", 900, 500);
    }
}
