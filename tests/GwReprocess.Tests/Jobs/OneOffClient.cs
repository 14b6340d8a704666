using System.Globalization;
using GwReprocess.Time;

namespace GwReprocess.Tests.Jobs;

/// <summary>The command line of a client run outside any DAG: one job over a given core segment, no jobs.csv, so no barrier.</summary>
internal static class OneOffClient
{
    /// <summary><c>gwrepro client --workflow W --start S --end E --job job --server A</c> and <paramref name="extra"/>.</summary>
    public static string[] Arguments(string workflow, Segment core, string server, params string[] extra) =>
        ["client", "--workflow", workflow, "--start", core.Start.Seconds.ToString(CultureInfo.InvariantCulture),
         "--end", core.End.Seconds.ToString(CultureInfo.InvariantCulture), "--job", "job", "--server", server, .. extra];
}
