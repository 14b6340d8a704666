using System.Globalization;
using GwReprocess.Time;

namespace GwReprocess.Workflow;

/// <summary>DAG node names that every DAGMan parser accepts and that stay the same when a DAG is regenerated (rescue files key on them).</summary>
public static class NodeNames
{
    /// <summary>
    /// The client node of a job: <c>clean_H1L1_1238166018_4096</c>, or, for a strain-only workflow (<paramref name="strainOnly"/>:
    /// no witnesses, so its jobs clean nothing and write scores only), <c>search_H1L1_1238166018_4096</c>.
    /// </summary>
    public static string Client(string ifoTag, Segment core, bool strainOnly = false) =>
        string.Create(CultureInfo.InvariantCulture, $"{(strainOnly ? SearchPrefix : CleanPrefix)}{ifoTag}_{Token(core.Start)}_{Token(core.Duration)}");

    /// <summary>The prefix of a cleaning workflow's client nodes.</summary>
    public const string CleanPrefix = "clean_";

    /// <summary>The prefix of a strain-only workflow's client nodes.</summary>
    public const string SearchPrefix = "search_";

    /// <summary>The training node of a chunk that trains on <paramref name="train"/>: <c>train_H1L1_1238166018_600</c>.</summary>
    public static string Training(string ifoTag, Segment train) =>
        string.Create(CultureInfo.InvariantCulture, $"{TrainingPrefix}{ifoTag}_{Token(train.Start)}_{Token(train.Duration)}");

    /// <summary>True for a training node's name (<see cref="Training"/>).</summary>
    public static bool IsTraining(string node) => node.StartsWith(TrainingPrefix, StringComparison.Ordinal);

    private const string TrainingPrefix = "train_";

    /// <summary>The server node with index <paramref name="index"/>.</summary>
    public static string Server(int index) => string.Create(CultureInfo.InvariantCulture, $"server_{index}");

    /// <summary>The FINAL node.</summary>
    public const string Final = "analyze";

    /// <summary>True for names of <c>[A-Za-z0-9_-]</c> only: the old parser rejects '.' and '+', and macros break DAGMan's event matching.</summary>
    public static bool IsValidToken(string name)
    {
        if (name.Length == 0) return false;
        foreach (char c in name)
            if (!(char.IsAsciiLetterOrDigit(c) || c == '_' || c == '-')) return false;
        return true;
    }

    // Fractional GPS times are written with 'p' for the point: node names may not contain '.'.
    private static string Token(GpsTime t) => t.ToString().Replace('.', 'p');
    private static string Token(GpsDuration d) => d.ToString().Replace('.', 'p');
}
