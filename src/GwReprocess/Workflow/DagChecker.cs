using System.Globalization;
using System.Text.RegularExpressions;

namespace GwReprocess.Workflow;

/// <summary>One problem a DAG or submit file has, located by file and line.</summary>
public sealed record DagProblem(string File, int Line, string Message)
{
    /// <summary>DAGMan's message shape: <c>ERROR: x.dag (line 7): Unknown Node a</c>.</summary>
    public override string ToString() => Line > 0 ? $"ERROR: {File} (line {Line}): {Message}" : $"ERROR: {File}: {Message}";
}

/// <summary>Checks DAG files with the rules of DAGMan's older (stricter) parser, and their submit files as condor_submit reads them.</summary>
/// <remarks>
/// The 24.0 LTS parser on IGWN access points rejects what the 25.x parser accepts (unquoted VARS values,
/// '.' in node names, modifiers before the JOB line), so files are held to the intersection.
/// </remarks>
public static partial class DagChecker
{
    /// <summary>Macros DAGMan passes to every node's submit description; a VARS key of the same name (any case) replaces them.</summary>
    private static readonly HashSet<string> DagmanMacros = new(StringComparer.OrdinalIgnoreCase) { "JOB", "RETRY", "DAGManJobId", "DAG_STATUS", "FAILED_COUNT", "DAG_PARENT_NAMES" };

    private static readonly HashSet<string> Reserved = new(StringComparer.OrdinalIgnoreCase) { "PARENT", "CHILD", "ALL_NODES" };

    private enum NodeKind { Job, Final, Provisioner, Service, Subdag, Splice }

    /// <summary>Checks a DAG file and the submit files its nodes use; returns every problem found (empty when clean).</summary>
    public static IReadOnlyList<DagProblem> CheckFile(string dagPath, bool checkSubmitFiles = true)
    {
        if (!File.Exists(dagPath)) return [new DagProblem(dagPath, 0, "DAG file not found")];
        var problems = Check(File.ReadAllText(dagPath), dagPath, out var submitFiles);
        if (checkSubmitFiles)
        {
            string dir = Path.GetDirectoryName(Path.GetFullPath(dagPath)) ?? ".";
            foreach (var (submit, line) in submitFiles)
            {
                string path = Path.Combine(dir, submit);
                if (!File.Exists(path)) problems.Add(new DagProblem(dagPath, line, $"submit file {submit} does not exist"));
                else problems.AddRange(CheckSubmit(File.ReadAllText(path), path));
            }
        }
        return problems;
    }

    /// <summary>Checks DAG text; <paramref name="submitFiles"/> receives each distinct submit file named, with the first line naming it.</summary>
    public static List<DagProblem> Check(string text, string source, out List<(string File, int Line)> submitFiles)
    {
        var problems = new List<DagProblem>();
        var nodes = new Dictionary<string, (NodeKind Kind, int Line)>(StringComparer.Ordinal);
        var edges = new List<(string Parent, string Child)>();
        var submits = new List<(string, int)>();
        int configs = 0;
        string? final = null, provisioner = null;
        int lineNumber = 0;

        void Error(string message) => problems.Add(new DagProblem(source, lineNumber, message));

        bool Known(string name, string command, bool allowAll = true, bool allowFinal = true)
        {
            if (allowAll && name.Equals("ALL_NODES", StringComparison.OrdinalIgnoreCase)) return true;
            if (!nodes.TryGetValue(name, out var n)) { Error($"Unknown Node {name} in {command}"); return false; }
            if (!allowFinal && n.Kind == NodeKind.Final) { Error($"{command} cannot be used on FINAL node {name}"); return false; }
            return true;
        }

        foreach (var raw in text.Split('\n'))
        {
            lineNumber++;
            string line = raw.TrimEnd('\r').Trim();
            if (line.Length == 0 || line[0] == '#') continue;
            if (line.StartsWith("//", StringComparison.Ordinal)) { Error("'//' comments are not understood by DAGMan before 25.6"); continue; }
            var tokens = Tokens().Matches(line).Select(m => m.Value).ToArray();
            string keyword = tokens[0].ToUpperInvariant();
            switch (keyword)
            {
                case "JOB" or "FINAL" or "PROVISIONER" or "SERVICE":
                {
                    if (tokens.Length < 3) { Error($"{keyword} needs a node name and a submit file"); break; }
                    string name = tokens[1];
                    if (!ValidNodeName(name, out string? why)) { Error($"node name {name} {why}"); break; }
                    if (nodes.ContainsKey(name)) { Error($"node name {name} is used twice"); break; }
                    var kind = keyword switch { "FINAL" => NodeKind.Final, "PROVISIONER" => NodeKind.Provisioner, "SERVICE" => NodeKind.Service, _ => NodeKind.Job };
                    if (kind == NodeKind.Final) { if (final is not null) Error($"only one FINAL node is allowed ({final} already is)"); final = name; }
                    if (kind == NodeKind.Provisioner) { if (provisioner is not null) Error($"only one PROVISIONER node is allowed ({provisioner} already is)"); provisioner = name; }
                    nodes[name] = (kind, lineNumber);
                    if (tokens[2].StartsWith('{') || tokens[2].StartsWith('@')) { Error("inline submit descriptions need HTCondor 8.9.8+/24.x; write a submit file"); break; }
                    if (!submits.Any(s => s.Item1 == tokens[2])) submits.Add((tokens[2], lineNumber));
                    for (int i = 3; i < tokens.Length; i++)
                    {
                        string opt = tokens[i].ToUpperInvariant();
                        if (opt == "DIR") { if (++i >= tokens.Length) Error("DIR needs a directory"); }
                        else if (opt is "NOOP") { }
                        else if (opt == "DONE" && kind == NodeKind.Job) { }
                        else Error($"unexpected '{tokens[i]}' after the submit file of {name}");
                    }
                    break;
                }
                case "VARS":
                {
                    if (tokens.Length < 3) { Error("VARS needs a node name and at least one key=\"value\""); break; }
                    if (!Known(tokens[1], "VARS")) break;
                    // The assignments are read from the raw line: values may hold runs of spaces.
                    var m = VarsLine().Match(line);
                    CheckVars(m.Success ? m.Groups[1].Value : "", Error);
                    break;
                }
                case "RETRY":
                {
                    if (tokens.Length is not (3 or 5)) { Error("expected RETRY node N [UNLESS-EXIT code]"); break; }
                    if (!Known(tokens[1], "RETRY", allowFinal: false)) break;
                    if (!int.TryParse(tokens[2], NumberStyles.None, CultureInfo.InvariantCulture, out _)) Error($"RETRY count '{tokens[2]}' is not a non-negative integer");
                    if (tokens.Length == 5 && (!tokens[3].Equals("UNLESS-EXIT", StringComparison.OrdinalIgnoreCase) || !int.TryParse(tokens[4], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _)))
                        Error("expected UNLESS-EXIT followed by an integer exit code");
                    break;
                }
                case "PARENT":
                {
                    int child = Array.FindIndex(tokens, t => t.Equals("CHILD", StringComparison.OrdinalIgnoreCase));
                    if (child < 2 || child == tokens.Length - 1) { Error("expected PARENT p1 [p2 ...] CHILD c1 [c2 ...]"); break; }
                    var parents = tokens[1..child];
                    var children = tokens[(child + 1)..];
                    bool ok = true;
                    foreach (var n in parents.Concat(children))
                        ok &= Known(n, "PARENT/CHILD", allowAll: false, allowFinal: false);
                    if (ok) foreach (var p in parents) foreach (var c in children) edges.Add((p, c));
                    break;
                }
                case "CATEGORY":
                    if (tokens.Length != 3) { Error("expected CATEGORY node category"); break; }
                    Known(tokens[1], "CATEGORY", allowFinal: false);
                    break;
                case "MAXJOBS":
                    if (tokens.Length != 3 || !int.TryParse(tokens[2], NumberStyles.None, CultureInfo.InvariantCulture, out _)) Error("expected MAXJOBS category N");
                    break;
                case "PRIORITY":
                    if (tokens.Length != 3 || !int.TryParse(tokens[2], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _)) { Error("expected PRIORITY node integer"); break; }
                    Known(tokens[1], "PRIORITY", allowFinal: false);
                    break;
                case "ABORT-DAG-ON":
                {
                    if (tokens.Length is not (3 or 5)) { Error("expected ABORT-DAG-ON node exitvalue [RETURN value]"); break; }
                    if (!Known(tokens[1], "ABORT-DAG-ON", allowFinal: false)) break;
                    if (tokens.Length == 5 && (!tokens[3].Equals("RETURN", StringComparison.OrdinalIgnoreCase) || !int.TryParse(tokens[4], out int r) || r is < 0 or > 255))
                        Error("RETURN value must be an integer from 0 to 255");
                    break;
                }
                case "PRE_SKIP":
                    if (tokens.Length != 3) { Error("expected PRE_SKIP node exitcode"); break; }
                    Known(tokens[1], "PRE_SKIP");
                    break;
                case "SCRIPT":
                {
                    int i = 1;
                    if (i < tokens.Length && tokens[i].Equals("DEFER", StringComparison.OrdinalIgnoreCase)) i += 3;
                    if (i < tokens.Length && tokens[i].Equals("DEBUG", StringComparison.OrdinalIgnoreCase)) i += 3;
                    if (i + 2 >= tokens.Length || !(tokens[i].ToUpperInvariant() is "PRE" or "POST" or "HOLD")) { Error("expected SCRIPT [DEFER s t] PRE|POST|HOLD node executable [args]"); break; }
                    Known(tokens[i + 1], "SCRIPT");
                    break;
                }
                case "CONFIG":
                    if (++configs > 1) Error("only one CONFIG file is allowed");
                    if (tokens.Length != 2) Error("expected CONFIG file");
                    break;
                case "NODE_STATUS_FILE":
                    if (tokens.Length is < 2 or > 4) Error("expected NODE_STATUS_FILE file [seconds] [ALWAYS-UPDATE]");
                    break;
                case "JOBSTATE_LOG" or "INCLUDE":
                    if (tokens.Length != 2) Error($"expected {keyword} file");
                    break;
                case "DONE":
                    if (tokens.Length != 2) { Error("expected DONE node"); break; }
                    Known(tokens[1], "DONE", allowAll: false);
                    break;
                case "SUBDAG" or "SPLICE":
                {
                    int n = keyword == "SUBDAG" ? 2 : 1;
                    if (keyword == "SUBDAG" && (tokens.Length < 4 || !tokens[1].Equals("EXTERNAL", StringComparison.OrdinalIgnoreCase))) { Error("expected SUBDAG EXTERNAL node file.dag"); break; }
                    if (tokens.Length < n + 2) { Error($"expected {keyword} node file.dag"); break; }
                    string name = tokens[n];
                    if (!ValidNodeName(name, out string? why)) { Error($"node name {name} {why}"); break; }
                    if (nodes.ContainsKey(name)) { Error($"node name {name} is used twice"); break; }
                    nodes[name] = (keyword == "SUBDAG" ? NodeKind.Subdag : NodeKind.Splice, lineNumber);
                    break;
                }
                case "DOT" or "SET_JOB_ATTR" or "ENV" or "REJECT" or "SAVE_POINT_FILE" or "SUBMIT-DESCRIPTION" or "CONNECT" or "PIN_IN" or "PIN_OUT":
                    break;
                default:
                    Error($"unknown command '{tokens[0]}'");
                    break;
            }
        }
        if (FindCycle(nodes.Keys, edges) is { } cycle)
            problems.Add(new DagProblem(source, 0, $"a cycle exists in the dag: {string.Join(" -> ", cycle)}"));
        submitFiles = submits;
        return problems;
    }

    /// <summary>Checks a submit description: exactly one queue statement, and new-syntax arguments that parse.</summary>
    public static IReadOnlyList<DagProblem> CheckSubmit(string text, string source)
    {
        var problems = new List<DagProblem>();
        int queues = 0, lineNumber = 0;
        foreach (var raw in text.Split('\n'))
        {
            lineNumber++;
            string line = raw.TrimEnd('\r').Trim();
            if (line.Length == 0 || line[0] == '#') continue;
            if (line.Equals("queue", StringComparison.OrdinalIgnoreCase) || line.StartsWith("queue ", StringComparison.OrdinalIgnoreCase))
            {
                if (++queues > 1) problems.Add(new DagProblem(source, lineNumber, "a DAG node's submit file must have exactly one queue statement"));
                if (line.Length > 5) problems.Add(new DagProblem(source, lineNumber, "a DAG node's submit file needs a bare 'queue' (per-node values go in VARS)"));
                continue;
            }
            int eq = line.IndexOf('=');
            if (eq <= 0) { problems.Add(new DagProblem(source, lineNumber, $"expected 'command = value', found '{line}'")); continue; }
            string command = line[..eq].Trim();
            string value = line[(eq + 1)..].Trim();
            if (command.Equals("arguments", StringComparison.OrdinalIgnoreCase) && value.StartsWith('"'))
            {
                try { SubmitArguments.Parse(value); }
                catch (FormatException e) { problems.Add(new DagProblem(source, lineNumber, $"arguments: {e.Message}")); }
            }
        }
        if (queues == 0) problems.Add(new DagProblem(source, lineNumber, "no queue statement"));
        return problems;
    }

    private static bool ValidNodeName(string name, out string? why)
    {
        why = null;
        if (Reserved.Contains(name)) { why = "is a reserved word"; return false; }
        if (name.Contains('$')) { why = "contains a macro; DAGMan matches events by node name"; return false; }
        foreach (char c in name)
            if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or ':'))
            {
                why = $"contains '{c}' (DAGMan before 25.x rejects '.' and '+'; use letters, digits, '_', '-' and ':')";
                return false;
            }
        return true;
    }

    private static void CheckVars(string rest, Action<string> error)
    {
        int i = 0;
        while (i < rest.Length)
        {
            while (i < rest.Length && rest[i] == ' ') i++;
            if (i >= rest.Length) break;
            int eq = rest.IndexOf('=', i);
            if (eq < 0) { error($"expected key=\"value\" in VARS, found '{rest[i..]}'"); return; }
            string key = rest[i..eq];
            if (!VarsKey().IsMatch(key)) { error($"illegal VARS key '{key}'"); return; }
            if (key.StartsWith("queue", StringComparison.OrdinalIgnoreCase)) { error($"VARS key '{key}' must not begin with 'queue'"); return; }
            if (DagmanMacros.Contains(key)) { error($"VARS key '{key}' hides DAGMan's $({key.ToUpperInvariant()}) macro (submit macros are case-insensitive)"); return; }
            i = eq + 1;
            if (i >= rest.Length || rest[i] != '"') { error($"VARS value for '{key}' must be in double quotes"); return; }
            i++;
            bool closed = false;
            while (i < rest.Length)
            {
                char c = rest[i];
                if (c == '\\')
                {
                    if (i + 1 >= rest.Length || (rest[i + 1] != '"' && rest[i + 1] != '\\')) { error($"VARS value for '{key}' has an illegal escape (only \\\" and \\\\ are allowed)"); return; }
                    i += 2;
                    continue;
                }
                if (c == '"') { closed = true; i++; break; }
                i++;
            }
            if (!closed) { error($"VARS value for '{key}' has no closing double quote"); return; }
        }
    }

    private static List<string>? FindCycle(IEnumerable<string> nodes, List<(string Parent, string Child)> edges)
    {
        var children = new Dictionary<string, List<string>>();
        var indegree = new Dictionary<string, int>();
        foreach (var n in nodes) { children[n] = []; indegree[n] = 0; }
        foreach (var (p, c) in edges) { children[p].Add(c); indegree[c]++; }
        var ready = new Queue<string>(indegree.Where(k => k.Value == 0).Select(k => k.Key));
        int seen = 0;
        while (ready.Count > 0)
        {
            var n = ready.Dequeue();
            seen++;
            foreach (var c in children[n]) if (--indegree[c] == 0) ready.Enqueue(c);
        }
        if (seen == indegree.Count) return null;
        // Walk from a node still holding an in-edge until a node repeats: that stretch is a cycle.
        var start = indegree.First(k => k.Value > 0).Key;
        var path = new List<string>();
        var index = new Dictionary<string, int>();
        var cur = start;
        while (!index.ContainsKey(cur))
        {
            index[cur] = path.Count;
            path.Add(cur);
            cur = children[cur].First(c => indegree[c] > 0);
        }
        var cycle = path.Skip(index[cur]).ToList();
        cycle.Add(cur);
        return cycle;
    }

    [GeneratedRegex(@"^\S+\s+\S+\s+(?:(?:PREPEND|APPEND)\s+)?(.*)$", RegexOptions.IgnoreCase)]
    private static partial Regex VarsLine();

    [GeneratedRegex(@"""(?:[^""\\]|\\.)*""|\S+")]
    private static partial Regex Tokens();

    [GeneratedRegex(@"^([A-Za-z0-9_]+|[Mm][Yy]\.[A-Za-z0-9_]+|\+[A-Za-z0-9_]+)$")]
    private static partial Regex VarsKey();
}
