namespace GwReprocess.Analysis;

/// <summary>
/// The injection-free windows of a search, in time order, for false-alarm rates: a cluster of consecutive above-threshold
/// background windows is one trigger (one background "event"), and the rate is events over the background livetime.
/// </summary>
public sealed class BackgroundTriggers
{
    // Ascending, so every count above a threshold is one binary search: a ROC sweep costs O(points × log windows).
    private readonly double[] _scores;
    // min(score, previous score) of each window that directly follows another background window: a pair above a threshold
    // joins two above-threshold windows into one cluster, so clusters = windows above − such pairs above.
    private readonly double[] _pairMinima;

    /// <param name="scores">Background scores in time order.</param>
    /// <param name="followsPrevious">Per window: it is the next window after the previous background window (one stride later, no gap).</param>
    /// <param name="livetimeSeconds">Background livetime: the strides (1/r) of the background windows summed.</param>
    public BackgroundTriggers(IReadOnlyList<double> scores, IReadOnlyList<bool> followsPrevious, double livetimeSeconds)
    {
        if (scores.Count != followsPrevious.Count) throw new ArgumentException("one adjacency flag per score", nameof(followsPrevious));
        _scores = [.. scores];
        var pairs = new List<double>(scores.Count);
        for (int i = 1; i < scores.Count; i++)
            if (followsPrevious[i]) pairs.Add(Math.Min(scores[i], scores[i - 1]));
        _pairMinima = [.. pairs];
        Array.Sort(_scores);
        Array.Sort(_pairMinima);
        LivetimeSeconds = livetimeSeconds;
    }

    /// <summary>Background windows.</summary>
    public int Windows => _scores.Length;

    /// <summary>Background livetime in seconds (background windows × their stride).</summary>
    public double LivetimeSeconds { get; }

    /// <summary>Background scores, ascending.</summary>
    public ReadOnlySpan<double> SortedScores => _scores;

    /// <summary>Background windows scoring strictly above <paramref name="threshold"/>.</summary>
    public int WindowsAbove(double threshold) => CountAbove(_scores, threshold);

    /// <summary>Clusters of consecutive background windows scoring strictly above <paramref name="threshold"/>: the background events.</summary>
    public int ClustersAbove(double threshold) => CountAbove(_scores, threshold) - CountAbove(_pairMinima, threshold);

    private static int CountAbove(double[] ascending, double threshold)
    {
        if (double.IsNaN(threshold)) return 0;
        int lo = 0, hi = ascending.Length;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (ascending[mid] <= threshold) lo = mid + 1; else hi = mid;
        }
        return ascending.Length - lo;
    }
}
