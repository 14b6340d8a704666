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

    /// <summary>
    /// Readies the whitener on the training material before any window is whitened: <paramref name="strain"/> up to <paramref name="trainEnd"/>
    /// is the training span, <paramref name="checkStarts"/> windows it may check against the served model; <paramref name="log"/> hears what it found.
    /// </summary>
    void Prepare(IReadOnlyList<double[]> strain, int trainEnd, IReadOnlyList<int> checkStarts, Action<string> log);

    /// <summary>Per detector, the windows of <paramref name="strain"/> starting at <paramref name="starts"/> (each ≥ <see cref="Lead"/>, with <see cref="Trail"/> samples after the window) whitened as served: [detector][window · K].</summary>
    float[][] WhitenBackground(IReadOnlyList<double[]> strain, IReadOnlyList<int> starts);

    /// <summary>Whitens injection-only windows [B, D, K] (row-major) in place; whitening is linear in what a window holds, so a source adds to a background window after it.</summary>
    void WhitenSignals(float[] windows);

    /// <summary>The windows of <paramref name="length"/> samples starting <paramref name="offset"/> after each of <paramref name="starts"/>, every detector's, as one float32 batch [B, D, length] (row-major).</summary>
    static float[] Batch(IReadOnlyList<double[]> strain, IReadOnlyList<int> starts, int offset, int length)
    {
        int d = strain.Count;
        var batch = new float[starts.Count * d * length];
        for (int w = 0; w < starts.Count; w++)
            for (int det = 0; det < d; det++)
            {
                var src = strain[det].AsSpan(starts[w] + offset, length);
                var dst = batch.AsSpan((w * d + det) * length, length);
                for (int i = 0; i < length; i++) dst[i] = (float)src[i];
            }
        return batch;
    }
}
