using System.Globalization;
using System.Text;

namespace GwReprocess.Workflow;

/// <summary>DAGMan's node states, with the numbers the node status file gives them (<c>NodeStatus = 5</c>).</summary>
public enum DagNodeStatus
{
    /// <summary>STATUS_NOT_READY: waiting for parents (and the FINAL node until the rest is over).</summary>
    NotReady = 0,
    /// <summary>STATUS_READY: could run now (held back by a throttle, or between retries).</summary>
    Ready = 1,
    /// <summary>STATUS_PRERUN: its PRE script runs.</summary>
    PreRun = 2,
    /// <summary>STATUS_SUBMITTED: its job is queued or running.</summary>
    Submitted = 3,
    /// <summary>STATUS_POSTRUN: its POST script runs.</summary>
    PostRun = 4,
    /// <summary>STATUS_DONE: finished successfully.</summary>
    Done = 5,
    /// <summary>STATUS_ERROR: failed for good.</summary>
    Error = 6,
    /// <summary>STATUS_FUTILE: will never run because an ancestor failed.</summary>
    Futile = 7,
}

/// <summary>One <c>Type = "NodeStatus"</c> ad of a node status file.</summary>
public sealed record NodeStatusAd(string Node, DagNodeStatus Status, string Details, int RetryCount, int JobProcsQueued, int JobProcsHeld);

/// <summary>
/// DAGMan's node status file (<c>NODE_STATUS_FILE</c>): a <c>DagStatus</c> ad, one <c>NodeStatus</c> ad per node
/// (SERVICE nodes are not listed), and a <c>StatusEnd</c> ad, in the layout HTCondor 25.14.1 writes
/// (tests/data/workflow/dagman-25.14.1), with its C comments after the status codes and times.
/// </summary>
public static class NodeStatusFile
{
    /// <summary>DAGMan's names of the node states, as the comments after <c>NodeStatus</c> give them.</summary>
    public static string Name(DagNodeStatus status) => status switch
    {
        DagNodeStatus.NotReady => "STATUS_NOT_READY",
        DagNodeStatus.Ready => "STATUS_READY",
        DagNodeStatus.PreRun => "STATUS_PRERUN",
        DagNodeStatus.Submitted => "STATUS_SUBMITTED",
        DagNodeStatus.PostRun => "STATUS_POSTRUN",
        DagNodeStatus.Done => "STATUS_DONE",
        DagNodeStatus.Error => "STATUS_ERROR",
        DagNodeStatus.Futile => "STATUS_FUTILE",
        _ => throw new ArgumentOutOfRangeException(nameof(status)),
    };

    /// <summary>
    /// The file's text. <paramref name="dagStatus"/> and <paramref name="note"/> describe the whole DAG as DAGMan does:
    /// 3 with an empty note while it runs, 5 "success", 6 "failed" or 6 "removed" at the end. The node counts are those
    /// of <paramref name="nodes"/>; <paramref name="nextUpdate"/> is 0 ("none") in the last file.
    /// </summary>
    public static string Format(string dagFile, DagNodeStatus dagStatus, string note, IReadOnlyList<NodeStatusAd> nodes,
        long timestamp, long endTime, long nextUpdate)
    {
        int Count(DagNodeStatus s)
        {
            int n = 0;
            foreach (var a in nodes) if (a.Status == s) n++;
            return n;
        }
        int held = 0;
        foreach (var a in nodes) held += a.JobProcsHeld;
        var sb = new StringBuilder(256 + 200 * nodes.Count);
        void Line(string text) => sb.Append("  ").Append(text).Append('\n');
        void Int(string name, long value, string? comment = null)
        {
            sb.Append("  ").Append(name).Append(" = ").Append(value.ToString(CultureInfo.InvariantCulture)).Append(';');
            if (comment is not null) sb.Append(" /* ").Append(comment).Append(" */");
            sb.Append('\n');
        }

        sb.Append("[\n");
        Line("Type = \"DagStatus\";");
        Line("DagFiles = {");
        sb.Append("    ").Append(Quote(dagFile)).Append('\n');
        Line("};");
        Int("Timestamp", timestamp, Quote(CTime(timestamp)));
        Int("DagStatus", (int)dagStatus, Quote($"{Name(dagStatus)} ({note})"));
        Int("NodesTotal", nodes.Count);
        Int("NodesDone", Count(DagNodeStatus.Done));
        Int("NodesPre", Count(DagNodeStatus.PreRun));
        Int("NodesQueued", Count(DagNodeStatus.Submitted));
        Int("NodesPost", Count(DagNodeStatus.PostRun));
        Int("NodesReady", Count(DagNodeStatus.Ready));
        Int("NodesUnready", Count(DagNodeStatus.NotReady));
        Int("NodesFutile", Count(DagNodeStatus.Futile));
        Int("NodesFailed", Count(DagNodeStatus.Error));
        Int("JobProcsHeld", held);
        // Local processes start at once: none is ever idle (DAGMan counts held procs as idle too).
        Int("JobProcsIdle", held, "includes held");
        sb.Append("]\n");
        foreach (var a in nodes)
        {
            sb.Append("[\n");
            Line("Type = \"NodeStatus\";");
            Line($"Node = {Quote(a.Node)};");
            Int("NodeStatus", (int)a.Status, Quote(Name(a.Status)));
            Line($"StatusDetails = {Quote(a.Details)};");
            Int("RetryCount", a.RetryCount);
            Int("JobProcsQueued", a.JobProcsQueued);
            Int("JobProcsHeld", a.JobProcsHeld);
            sb.Append("]\n");
        }
        sb.Append("[\n");
        Line("Type = \"StatusEnd\";");
        Int("EndTime", endTime, Quote(CTime(endTime)));
        Int("NextUpdate", nextUpdate, Quote(nextUpdate == 0 ? "none" : CTime(nextUpdate)));
        sb.Append("]\n");
        return sb.ToString();
    }

    /// <summary>A time as C's ctime() prints it (local time, day padded with a space): <c>Sun Nov 22 17:25:54 2026</c>.</summary>
    public static string CTime(long unixSeconds)
    {
        var t = DateTimeOffset.FromUnixTimeSeconds(unixSeconds).ToLocalTime();
        return string.Create(CultureInfo.InvariantCulture, $"{t:ddd MMM} {t.Day,2} {t:HH:mm:ss yyyy}");
    }

    /// <summary>A ClassAd string literal, escaped as the ClassAd unparser does.</summary>
    public static string Quote(string value)
    {
        var sb = new StringBuilder(value.Length + 2).Append('"');
        foreach (char c in value)
        {
            switch (c)
            {
                case '\\': sb.Append("\\\\"); break;
                case '"': sb.Append("\\\""); break;
                case '\n': sb.Append("\\n"); break;
                case '\t': sb.Append("\\t"); break;
                case '\r': sb.Append("\\r"); break;
                default:
                    if (c < ' ') sb.Append('\\').Append(Convert.ToString(c, 8).PadLeft(3, '0'));
                    else sb.Append(c);
                    break;
            }
        }
        return sb.Append('"').ToString();
    }

    /// <summary>
    /// Reads the ads of a node status file (DAGMan's or ours): each a map from attribute name (case-insensitive) to a
    /// <see cref="long"/>, a <see cref="string"/> or a list of those; C comments are skipped. Malformed text is a
    /// <see cref="FormatException"/> naming the offset.
    /// </summary>
    public static IReadOnlyList<IReadOnlyDictionary<string, object>> ParseAds(string text)
    {
        var ads = new List<IReadOnlyDictionary<string, object>>();
        int i = 0;
        while (true)
        {
            SkipSpace(text, ref i);
            if (i >= text.Length) return ads;
            Expect(text, ref i, '[');
            var ad = new Dictionary<string, object>(StringComparer.OrdinalIgnoreCase);
            while (true)
            {
                SkipSpace(text, ref i);
                if (i < text.Length && text[i] == ']') { i++; break; }
                int start = i;
                while (i < text.Length && (char.IsLetterOrDigit(text[i]) || text[i] == '_')) i++;
                if (i == start) throw new FormatException($"expected an attribute name at offset {i}");
                string name = text[start..i];
                SkipSpace(text, ref i);
                Expect(text, ref i, '=');
                ad[name] = Value(text, ref i);
                SkipSpace(text, ref i);
                Expect(text, ref i, ';');
            }
            ads.Add(ad);
        }
    }

    /// <summary>The <c>NodeStatus</c> ads of a node status file, in file order.</summary>
    public static IReadOnlyList<NodeStatusAd> ParseNodes(string text)
    {
        var nodes = new List<NodeStatusAd>();
        foreach (var ad in ParseAds(text))
        {
            if (!"NodeStatus".Equals(ad.GetValueOrDefault("Type") as string, StringComparison.Ordinal)) continue;
            nodes.Add(new NodeStatusAd((string)ad["Node"], (DagNodeStatus)(long)ad["NodeStatus"], (string)ad["StatusDetails"],
                (int)(long)ad["RetryCount"], (int)(long)ad["JobProcsQueued"], (int)(long)ad["JobProcsHeld"]));
        }
        return nodes;
    }

    private static object Value(string text, ref int i)
    {
        SkipSpace(text, ref i);
        if (i >= text.Length) throw new FormatException("unexpected end of the file after '='");
        if (text[i] == '"') return String(text, ref i);
        if (text[i] == '{')
        {
            i++;
            var list = new List<object>();
            while (true)
            {
                SkipSpace(text, ref i);
                if (i < text.Length && text[i] == '}') { i++; return list; }
                list.Add(Value(text, ref i));
                SkipSpace(text, ref i);
                if (i < text.Length && text[i] == ',') i++;
            }
        }
        int start = i;
        if (text[i] == '-') i++;
        while (i < text.Length && char.IsAsciiDigit(text[i])) i++;
        if (!long.TryParse(text.AsSpan(start, i - start), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long n))
            throw new FormatException($"expected a string, an integer or a list at offset {start}");
        return n;
    }

    private static string String(string text, ref int i)
    {
        var sb = new StringBuilder();
        i++;
        while (true)
        {
            if (i >= text.Length) throw new FormatException("unterminated string");
            char c = text[i++];
            if (c == '"') return sb.ToString();
            if (c != '\\') { sb.Append(c); continue; }
            if (i >= text.Length) throw new FormatException("unterminated string");
            char e = text[i++];
            switch (e)
            {
                case 'n': sb.Append('\n'); break;
                case 't': sb.Append('\t'); break;
                case 'r': sb.Append('\r'); break;
                case >= '0' and <= '7':
                {
                    int v = e - '0';
                    for (int k = 0; k < 2 && i < text.Length && text[i] is >= '0' and <= '7'; k++) v = v * 8 + (text[i++] - '0');
                    sb.Append((char)v);
                    break;
                }
                default: sb.Append(e); break;
            }
        }
    }

    private static void SkipSpace(string text, ref int i)
    {
        while (i < text.Length)
        {
            if (char.IsWhiteSpace(text[i])) i++;
            else if (text[i] == '/' && i + 1 < text.Length && text[i + 1] == '*')
            {
                int end = text.IndexOf("*/", i + 2, StringComparison.Ordinal);
                if (end < 0) throw new FormatException($"unterminated comment at offset {i}");
                i = end + 2;
            }
            else return;
        }
    }

    private static void Expect(string text, ref int i, char c)
    {
        if (i >= text.Length || text[i] != c) throw new FormatException($"expected '{c}' at offset {i}");
        i++;
    }
}
