using System.Globalization;
using System.Text;

namespace GwReprocess.Workflow;

/// <summary>
/// DAGMan's partial rescue DAGs (<c>x.dag.rescue001</c>, ...): a comment header and one <c>DONE</c> line per finished
/// node, read after the original DAG when it is submitted again. The layout is HTCondor 25.14.1's
/// (tests/data/workflow/dagman-25.14.1): version 2.1.0, no RETRY lines (retries start afresh).
/// </summary>
public static class RescueDag
{
    /// <summary>The rescue DAG version 25.14.1 writes.</summary>
    public const string Version = "2.1.0";

    /// <summary>DAGMan's highest rescue number (DAGMAN_MAX_RESCUE_NUM's default): later rescues overwrite it.</summary>
    public const int MaxNumber = 100;

    /// <summary>The suffix <c>condor_submit_dag -force</c> gives rescue DAGs it sets aside.</summary>
    public const string SetAsideSuffix = ".old";

    /// <summary>
    /// The text of a rescue DAG for <paramref name="dagFileName"/>: <paramref name="totalNodes"/> JOB, PROVISIONER and FINAL
    /// nodes, <paramref name="done"/> the JOB nodes finished (before or during the run), <paramref name="failed"/> those that failed.
    /// </summary>
    public static string Format(string dagFileName, DateTime createdUtc, int totalNodes, IReadOnlyList<string> done, IReadOnlyList<string> failed)
    {
        var sb = new StringBuilder();
        sb.Append("# Rescue DAG file, created after running\n")
          .Append("#   the ").Append(dagFileName).Append(" DAG file\n")
          .Append(string.Create(CultureInfo.InvariantCulture, $"# Created {createdUtc.Month}/{createdUtc.Day}/{createdUtc.Year} {createdUtc:HH:mm:ss} UTC\n"))
          .Append("# Rescue DAG version: ").Append(Version).Append('\n')
          .Append("#\n")
          .Append(string.Create(CultureInfo.InvariantCulture, $"# Total number of Nodes: {totalNodes}\n"))
          .Append(string.Create(CultureInfo.InvariantCulture, $"# Nodes premarked DONE: {done.Count}\n"))
          .Append(string.Create(CultureInfo.InvariantCulture, $"# Nodes that failed: {failed.Count}\n"))
          .Append("#   ");
        foreach (var f in failed) sb.Append(f).Append(',');
        sb.Append("<ENDLIST>\n\n");
        foreach (var d in done) sb.Append("DONE ").Append(d).Append('\n');
        return sb.ToString();
    }

    /// <summary>Where the next rescue DAG of <paramref name="dagPath"/> goes: one above the highest, at most <see cref="MaxNumber"/>.</summary>
    public static string NextPath(string dagPath)
    {
        var existing = DagFile.RescueFiles(dagPath);
        int number = Math.Min(existing.Count == 0 ? 1 : existing[^1].Number + 1, MaxNumber);
        return string.Create(CultureInfo.InvariantCulture, $"{Path.GetFullPath(dagPath)}.rescue{number:D3}");
    }

    /// <summary>The nodes a rescue DAG marks DONE, in file order.</summary>
    public static IReadOnlyList<string> DoneNodes(string rescuePath)
    {
        var done = new List<string>();
        foreach (var raw in File.ReadLines(rescuePath))
        {
            var t = raw.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (t.Length == 2 && t[0].Equals("DONE", StringComparison.OrdinalIgnoreCase)) done.Add(t[1]);
        }
        return done;
    }

    /// <summary>Renames every rescue DAG of <paramref name="dagPath"/> to <c>….rescueNNN.old</c>, as <c>condor_submit_dag -force</c> does; returns the new names.</summary>
    public static IReadOnlyList<string> SetAside(string dagPath)
    {
        var moved = new List<string>();
        foreach (var (_, path) in DagFile.RescueFiles(dagPath))
        {
            string to = path + SetAsideSuffix;
            File.Move(path, to, overwrite: true);
            moved.Add(to);
        }
        return moved;
    }
}
