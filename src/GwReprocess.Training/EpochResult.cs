namespace GwReprocess.Training;

/// <summary>One epoch's figures, as printed and plotted.</summary>
public sealed record EpochResult(int Epoch, double TrainLoss, double ValidationLoss, double LearningRate, double Seconds, int Windows);
