using GwReprocess.Models;
using GwReprocess.Simulation;

namespace GwReprocess.Training;

/// <summary>How BBHnet is trained: background windows, injected sources and their SNRs, batches, optimiser, schedule and stopping.</summary>
public sealed record BbhNetTrainingOptions
{
    /// <summary>The network's layer plan.</summary>
    public BbhNetArchitecture Architecture { get; init; } = DefaultArchitecture;

    /// <summary>The plan <c>--architecture</c> defaults to.</summary>
    public static BbhNetArchitecture DefaultArchitecture => BbhNetArchitecture.DeepFiltering;

    /// <summary>Step between background windows in seconds.</summary>
    public double StrideSeconds { get; init; } = 0.5;

    /// <summary>Windows per optimiser step, half of them injected.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Epochs at most.</summary>
    public int Epochs { get; init; } = 30;

    /// <summary>Windows drawn per epoch (at least as many as the training part holds per detector): pairs of background windows from different times make far more than the span holds.</summary>
    public int EpochWindows { get; init; } = 16384;

    /// <summary>Adam's learning rate at the start.</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>Adam's weight decay.</summary>
    public double WeightDecay { get; init; } = 1e-5;

    /// <summary>Dropout in the dense blocks (the paper used 0.5; with backgrounds redrawn every step, 0.1 learns faster here).</summary>
    public double Dropout { get; init; } = 0.1;

    /// <summary>Epochs without a better validation loss before the learning rate is multiplied by <see cref="LearningRateFactor"/>.</summary>
    public int PlateauPatience { get; init; } = 3;

    /// <summary>Factor the learning rate falls by on a plateau.</summary>
    public double LearningRateFactor { get; init; } = 0.2;

    /// <summary>Epochs without a better validation loss before training stops (the best weights are kept).</summary>
    public int EarlyStopPatience { get; init; } = 8;

    /// <summary>Injected windows get a network SNR uniform in [<see cref="MinSnr"/>, <see cref="MaxSnr"/>].</summary>
    public double MinSnr { get; init; } = 6;

    public double MaxSnr { get; init; } = 20;

    /// <summary>Sources rendered for training (each reused at fresh SNRs and backgrounds).</summary>
    public int TrainInjections { get; init; } = 2048;

    /// <summary>Sources rendered for validation.</summary>
    public int ValidationInjections { get; init; } = 512;

    /// <summary>Sources the trained network and the ensemble's own detector are compared on, each in every served window containing its coalescence.</summary>
    public int EvaluationSources { get; init; } = 256;

    /// <summary>The source population (masses, amplitude factors, delays, low frequency): the simulator's by default.</summary>
    public InjectionSettings Population { get; init; } = new();

    /// <summary>Seed of the initial weights, the sources and the window draws.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>LibTorch intra-op threads; results are bit-identical for a fixed seed and thread count.</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;
}
