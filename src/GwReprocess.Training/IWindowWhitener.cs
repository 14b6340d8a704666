namespace GwReprocess.Training;

/// <summary>How the serving ensemble whitens the detector's windows, reproduced on training material.</summary>
internal interface IWindowWhitener : IDisposable
{
    /// <summary>Window length K (samples) the detector takes.</summary>
    int Kernel { get; }

    /// <summary>Samples of stream a window needs before its start (the stream whitener's background); 0 when each window is whitened on its own.</summary>
    int Lead { get; }

    /// <summary>Samples of stream a window needs after its end (the stream whitener's FIR half-length); 0 when each window is whitened on its own.</summary>
    int Trail { get; }

    /// <summary>What whitens, for the log.</summary>
    string Description { get; }

    /// <summary>Per detector, the windows of <paramref name="strain"/> starting at <paramref name="starts"/> (each ≥ <see cref="Lead"/>, with <see cref="Trail"/> samples after the window) whitened as served: [detector][window · K].</summary>
    float[][] WhitenBackground(IReadOnlyList<double[]> strain, IReadOnlyList<int> starts);

    /// <summary>Whitens injection-only windows [B, D, K] (row-major) in place; whitening is linear in what a window holds, so a source adds to a background window after it.</summary>
    void WhitenSignals(float[] windows);
}
