using System.Globalization;
using System.Text;

namespace GwReprocess.Workflow;

/// <summary>
/// One line of DAGMan's jobstate log: <c>&lt;time&gt; &lt;node&gt; &lt;event&gt; &lt;job id or exit code&gt; &lt;job tag&gt; - &lt;sequence&gt;</c>,
/// or for DAGMan itself <c>&lt;time&gt; INTERNAL *** &lt;event&gt; [&lt;argument&gt;] ***</c> (then <see cref="Id"/> holds the argument).
/// </summary>
public sealed record JobstateEntry(long Time, string Node, string Event, string Id, string Tag, int Sequence)
{
    /// <summary>The node name DAGMan's own events carry.</summary>
    public const string Internal = "INTERNAL";

    /// <summary>The cluster of <see cref="Id"/> when it is a job id (<c>41.0</c>), else null.</summary>
    public int? Cluster
    {
        get
        {
            int dot = Id.IndexOf('.');
            return dot > 0 && int.TryParse(Id.AsSpan(0, dot), NumberStyles.None, CultureInfo.InvariantCulture, out int c) ? c : null;
        }
    }

    /// <summary>The line as DAGMan writes it (no newline).</summary>
    public override string ToString() => Node == Internal
        ? string.Create(CultureInfo.InvariantCulture, $"{Time} {Internal} *** {Event}{(Id.Length > 0 ? " " + Id : "")} ***")
        : string.Create(CultureInfo.InvariantCulture, $"{Time} {Node} {Event} {Id} {Tag} - {Sequence}");

    /// <summary>Reads one line; null when it is not a jobstate line.</summary>
    public static JobstateEntry? Parse(string line)
    {
        var t = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (t.Length < 3 || !long.TryParse(t[0], NumberStyles.None, CultureInfo.InvariantCulture, out long time)) return null;
        if (t[1] == Internal)
        {
            if (t.Length < 4 || t[2] != "***" || t[^1] != "***") return null;
            return new JobstateEntry(time, Internal, t[3], t.Length == 6 ? t[4] : "", "-", 0);
        }
        if (t.Length != 7 || !int.TryParse(t[6], NumberStyles.None, CultureInfo.InvariantCulture, out int sequence)) return null;
        return new JobstateEntry(time, t[1], t[2], t[3], t[4], sequence);
    }
}

/// <summary>
/// DAGMan's jobstate log (<c>JOBSTATE_LOG</c>, the Pegasus-style event history): appended to, one line per event,
/// flushed as written. Event names are DAGMan's: SUBMIT, EXECUTE, JOB_TERMINATED, then the pseudo-events JOB_SUCCESS or
/// JOB_FAILURE with the exit code, SUBMIT_FAILURE, and DAGMAN_STARTED / DAGMAN_FINISHED for DAGMan itself.
/// </summary>
public sealed class JobstateLog : IDisposable
{
    private readonly FileStream _file;
    private readonly object _gate = new();

    private JobstateLog(string path, FileStream file)
    {
        Path = path;
        _file = file;
    }

    /// <summary>The log file.</summary>
    public string Path { get; }

    /// <summary>Opens <paramref name="path"/> for appending (created if missing).</summary>
    public static JobstateLog Open(string path)
    {
        string full = System.IO.Path.GetFullPath(path);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        return new JobstateLog(full, new FileStream(full, FileMode.Append, FileAccess.Write, FileShare.ReadWrite));
    }

    /// <summary>Appends one line.</summary>
    public void Write(JobstateEntry entry)
    {
        byte[] line = Encoding.UTF8.GetBytes(entry.ToString() + "\n");
        lock (_gate)
        {
            _file.Write(line);
            _file.Flush();
        }
    }

    /// <summary>The entries of a jobstate log (lines that are not jobstate lines are skipped); empty when the file does not exist.</summary>
    public static IReadOnlyList<JobstateEntry> Read(string path)
    {
        if (!File.Exists(path)) return [];
        var entries = new List<JobstateEntry>();
        foreach (var line in File.ReadLines(path))
            if (JobstateEntry.Parse(line) is { } e) entries.Add(e);
        return entries;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        lock (_gate) _file.Dispose();
    }
}
