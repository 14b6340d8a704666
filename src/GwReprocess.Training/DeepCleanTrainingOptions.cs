namespace GwReprocess.Training;

/// <summary>How DeepClean is trained: windows, batches, optimiser, schedule and stopping (defaults after ML4GW's DeepClean, sized for CPUs).</summary>
public sealed record DeepCleanTrainingOptions
{
    /// <summary>Length of a training window in seconds (its sample count must be a multiple of 16).</summary>
    public double WindowSeconds { get; init; } = 4;

    /// <summary>Step between training windows in seconds.</summary>
    public double StrideSeconds { get; init; } = 0.5;

    /// <summary>Windows per optimiser step.</summary>
    public int BatchSize { get; init; } = 16;

    /// <summary>Passes over the training windows at most.</summary>
    public int Epochs { get; init; } = 20;

    /// <summary>Adam's learning rate at the start.</summary>
    public double LearningRate { get; init; } = 1e-2;

    /// <summary>Adam's weight decay.</summary>
    public double WeightDecay { get; init; } = 1e-5;

    /// <summary>Epochs without a better validation loss before the learning rate is multiplied by <see cref="LearningRateFactor"/>.</summary>
    public int PlateauPatience { get; init; } = 3;

    /// <summary>Factor the learning rate falls by on a plateau.</summary>
    public double LearningRateFactor { get; init; } = 0.2;

    /// <summary>Epochs without a better validation loss before training stops (the best weights are kept).</summary>
    public int EarlyStopPatience { get; init; } = 8;

    /// <summary>Welch segment length inside the loss, seconds.</summary>
    public double FftSeconds { get; init; } = 1;

    /// <summary>Welch segment overlap inside the loss, seconds.</summary>
    public double OverlapSeconds { get; init; } = 0.5;

    /// <summary>Weight of the PSD-ratio term; the rest goes to MSE.</summary>
    public double PsdWeight { get; init; } = 1;

    /// <summary>Seed of the initial weights and of the window order.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>LibTorch intra-op threads; results are bit-identical for a fixed seed and thread count.</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;
}
