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

    /// <summary>
    /// Checks a DAG file and the submit files its nodes use; returns every problem found (empty when clean). A rescue DAG
    /// (<c>x.dag.rescueNNN</c> next to <c>x.dag</c>) is checked as DAGMan reads it: its original first, then its own lines.
    /// </summary>
    public static IReadOnlyList<DagProblem> CheckFile(string dagPath, bool checkSubmitFiles = true)
    {
        if (!File.Exists(dagPath)) return [new DagProblem(dagPath, 0, "DAG file not found")];
        string? original = RescueOriginal(dagPath);
        if (original is not null && !File.Exists(original))
            return [new DagProblem(dagPath, 0, $"a rescue DAG is read after its original, and {Path.GetFileName(original)} does not exist next to it")];
        var problems = original is null
            ? Check(File.ReadAllText(dagPath), dagPath, out var submitFiles)
            : CheckRescue(original, dagPath, out submitFiles);
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

    /// <summary>The DAG a rescue DAG belongs to (<c>x.dag</c> for <c>x.dag.rescue001</c>), or null when the name is not a rescue DAG's.</summary>
    public static string? RescueOriginal(string path)
    {
        string name = Path.GetFileName(path);
        int at = name.LastIndexOf(".rescue", StringComparison.Ordinal);
        if (at <= 0 || name.Length != at + ".rescue".Length + 3 || !name[(at + 7)..].All(char.IsAsciiDigit)) return null;
        return Path.Combine(Path.GetDirectoryName(path) ?? "", name[..at]);
    }

    private static List<DagProblem> CheckRescue(string original, string rescue, out List<(string File, int Line)> submitFiles)
    {
        var problems = Check(File.ReadAllText(original), original, out submitFiles);
        var dag = new DagFile(original);
        Parse(File.ReadAllText(original), original, dag, []);
        Parse(File.ReadAllText(rescue), rescue, dag, problems);
        return problems;
    }

    /// <summary>Checks DAG text; <paramref name="submitFiles"/> receives each distinct submit file named, with the first line naming it.</summary>
    public static List<DagProblem> Check(string text, string source, out List<(string File, int Line)> submitFiles)
    {
        var problems = new List<DagProblem>();
        var dag = new DagFile(source);
        Parse(text, source, dag, problems);
        CheckCycles(dag, source, problems);
        submitFiles = [];
        foreach (var n in dag.Nodes)
        {
            if (n.SubmitFile is null || n.Noop) continue;
            string file = n.Directory is null ? n.SubmitFile : Path.Combine(n.Directory, n.SubmitFile);
            if (!submitFiles.Exists(s => s.File == file)) submitFiles.Add((file, n.Line));
        }
        return problems;
    }

    /// <summary>Reads DAG text into <paramref name="dag"/> (which may already hold nodes: a rescue DAG is read after its original), adding every problem found.</summary>
    internal static void Parse(string text, string source, DagFile dag, List<DagProblem> problems)
    {
        int configs = 0;
        string? final = dag.Final?.Name, provisioner = dag.Provisioner?.Name;
        int lineNumber = 0;

        void Error(string message) => problems.Add(new DagProblem(source, lineNumber, message));

        // The nodes a modifier names: one, or ALL_NODES (every JOB node; noted as unsupported by local execution).
        List<DagNode>? Targets(string name, string command, bool allowAll = true, bool allowFinal = true)
        {
            if (allowAll && name.Equals("ALL_NODES", StringComparison.OrdinalIgnoreCase))
            {
                dag.Unsupported.Add((lineNumber, $"{command} ALL_NODES"));
                return [];
            }
            var n = dag[name];
            if (n is null) { Error($"Unknown Node {name} in {command}"); return null; }
            if (!allowFinal && n.Kind == DagNodeKind.Final) { Error($"{command} cannot be used on FINAL node {name}"); return null; }
            return [n];
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
                    if (dag.Contains(name)) { Error($"node name {name} is used twice"); break; }
                    var kind = keyword switch { "FINAL" => DagNodeKind.Final, "PROVISIONER" => DagNodeKind.Provisioner, "SERVICE" => DagNodeKind.Service, _ => DagNodeKind.Job };
                    if (kind == DagNodeKind.Final) { if (final is not null) Error($"only one FINAL node is allowed ({final} already is)"); final = name; }
                    if (kind == DagNodeKind.Provisioner) { if (provisioner is not null) Error($"only one PROVISIONER node is allowed ({provisioner} already is)"); provisioner = name; }
                    var node = new DagNode(name, kind, tokens[2], lineNumber);
                    dag.Add(node);
                    if (tokens[2].StartsWith('{') || tokens[2].StartsWith('@')) { Error("inline submit descriptions need HTCondor 8.9.8+/24.x; write a submit file"); break; }
                    for (int i = 3; i < tokens.Length; i++)
                    {
                        string opt = tokens[i].ToUpperInvariant();
                        if (opt == "DIR") { if (++i >= tokens.Length) Error("DIR needs a directory"); else node.Directory = tokens[i]; }
                        else if (opt is "NOOP") node.Noop = true;
                        else if (opt == "DONE" && kind == DagNodeKind.Job) node.Done = true;
                        else Error($"unexpected '{tokens[i]}' after the submit file of {name}");
                    }
                    break;
                }
                case "VARS":
                {
                    if (tokens.Length < 3) { Error("VARS needs a node name and at least one key=\"value\""); break; }
                    var targets = Targets(tokens[1], "VARS");
                    if (targets is null) break;
                    // The assignments are read from the raw line: values may hold runs of spaces.
                    var m = VarsLine().Match(line);
                    var vars = ReadVars(m.Success ? m.Groups[1].Value : "", Error);
                    foreach (var n in targets) n.Vars.AddRange(vars);
                    break;
                }
                case "RETRY":
                {
                    if (tokens.Length is not (3 or 5)) { Error("expected RETRY node N [UNLESS-EXIT code]"); break; }
                    var targets = Targets(tokens[1], "RETRY", allowFinal: false);
                    if (targets is null) break;
                    if (!int.TryParse(tokens[2], NumberStyles.None, CultureInfo.InvariantCulture, out int retries)) { Error($"RETRY count '{tokens[2]}' is not a non-negative integer"); break; }
                    int? unless = null;
                    if (tokens.Length == 5)
                    {
                        if (!tokens[3].Equals("UNLESS-EXIT", StringComparison.OrdinalIgnoreCase) || !int.TryParse(tokens[4], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int code))
                        { Error("expected UNLESS-EXIT followed by an integer exit code"); break; }
                        unless = code;
                    }
                    foreach (var n in targets) { n.Retries = retries; if (unless is not null) n.UnlessExit = unless; }
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
                        ok &= Targets(n, "PARENT/CHILD", allowAll: false, allowFinal: false) is not null;
                    if (ok)
                        foreach (var p in parents)
                            foreach (var c in children)
                            {
                                if (!dag[p]!.Children.Contains(c)) dag[p]!.Children.Add(c);
                                if (!dag[c]!.Parents.Contains(p)) dag[c]!.Parents.Add(p);
                            }
                    break;
                }
                case "CATEGORY":
                {
                    if (tokens.Length != 3) { Error("expected CATEGORY node category"); break; }
                    foreach (var n in Targets(tokens[1], "CATEGORY", allowFinal: false) ?? []) n.Category = tokens[2];
                    break;
                }
                case "MAXJOBS":
                    if (tokens.Length != 3 || !int.TryParse(tokens[2], NumberStyles.None, CultureInfo.InvariantCulture, out int max)) { Error("expected MAXJOBS category N"); break; }
                    dag.MaxJobs[tokens[1]] = max;
                    break;
                case "PRIORITY":
                {
                    if (tokens.Length != 3 || !int.TryParse(tokens[2], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int priority)) { Error("expected PRIORITY node integer"); break; }
                    foreach (var n in Targets(tokens[1], "PRIORITY", allowFinal: false) ?? []) n.Priority = priority;
                    break;
                }
                case "ABORT-DAG-ON":
                {
                    if (tokens.Length is not (3 or 5)) { Error("expected ABORT-DAG-ON node exitvalue [RETURN value]"); break; }
                    if (Targets(tokens[1], "ABORT-DAG-ON", allowFinal: false) is null) break;
                    if (tokens.Length == 5 && (!tokens[3].Equals("RETURN", StringComparison.OrdinalIgnoreCase) || !int.TryParse(tokens[4], out int r) || r is < 0 or > 255))
                        Error("RETURN value must be an integer from 0 to 255");
                    dag.Unsupported.Add((lineNumber, "ABORT-DAG-ON"));
                    break;
                }
                case "PRE_SKIP":
                    if (tokens.Length != 3) { Error("expected PRE_SKIP node exitcode"); break; }
                    Targets(tokens[1], "PRE_SKIP");
                    dag.Unsupported.Add((lineNumber, "PRE_SKIP"));
                    break;
                case "SCRIPT":
                {
                    int i = 1;
                    if (i < tokens.Length && tokens[i].Equals("DEFER", StringComparison.OrdinalIgnoreCase)) i += 3;
                    if (i < tokens.Length && tokens[i].Equals("DEBUG", StringComparison.OrdinalIgnoreCase)) i += 3;
                    if (i + 2 >= tokens.Length || !(tokens[i].ToUpperInvariant() is "PRE" or "POST" or "HOLD")) { Error("expected SCRIPT [DEFER s t] PRE|POST|HOLD node executable [args]"); break; }
                    Targets(tokens[i + 1], "SCRIPT");
                    dag.Unsupported.Add((lineNumber, "SCRIPT"));
                    break;
                }
                case "CONFIG":
                    if (++configs > 1) Error("only one CONFIG file is allowed");
                    if (tokens.Length != 2) Error("expected CONFIG file");
                    break;
                case "NODE_STATUS_FILE":
                {
                    if (tokens.Length is < 2 or > 4) { Error("expected NODE_STATUS_FILE file [seconds] [ALWAYS-UPDATE]"); break; }
                    int seconds = DagStatusFileCommand.DefaultMinimumUpdateSeconds;
                    bool always = false;
                    for (int i = 2; i < tokens.Length; i++)
                    {
                        if (tokens[i].Equals("ALWAYS-UPDATE", StringComparison.OrdinalIgnoreCase)) always = true;
                        else if (i == 2 && int.TryParse(tokens[i], NumberStyles.None, CultureInfo.InvariantCulture, out int s)) seconds = s;
                        else { Error($"NODE_STATUS_FILE: '{tokens[i]}' is neither a number of seconds nor ALWAYS-UPDATE"); break; }
                    }
                    dag.NodeStatusFile ??= new DagStatusFileCommand(tokens[1], seconds, always);
                    break;
                }
                case "JOBSTATE_LOG":
                    if (tokens.Length != 2) { Error($"expected {keyword} file"); break; }
                    dag.JobstateLog ??= tokens[1];
                    break;
                case "INCLUDE":
                    if (tokens.Length != 2) Error($"expected {keyword} file");
                    dag.Unsupported.Add((lineNumber, "INCLUDE"));
                    break;
                case "DONE":
                    if (tokens.Length != 2) { Error("expected DONE node"); break; }
                    foreach (var n in Targets(tokens[1], "DONE", allowAll: false) ?? []) n.Done = true;
                    break;
                case "SUBDAG" or "SPLICE":
                {
                    int n = keyword == "SUBDAG" ? 2 : 1;
                    if (keyword == "SUBDAG" && (tokens.Length < 4 || !tokens[1].Equals("EXTERNAL", StringComparison.OrdinalIgnoreCase))) { Error("expected SUBDAG EXTERNAL node file.dag"); break; }
                    if (tokens.Length < n + 2) { Error($"expected {keyword} node file.dag"); break; }
                    string name = tokens[n];
                    if (!ValidNodeName(name, out string? why)) { Error($"node name {name} {why}"); break; }
                    if (dag.Contains(name)) { Error($"node name {name} is used twice"); break; }
                    dag.Add(new DagNode(name, keyword == "SUBDAG" ? DagNodeKind.Subdag : DagNodeKind.Splice, null, lineNumber));
                    dag.Unsupported.Add((lineNumber, keyword));
                    break;
                }
                case "SUBMIT-DESCRIPTION" or "CONNECT" or "PIN_IN" or "PIN_OUT":
                    dag.Unsupported.Add((lineNumber, keyword));
                    break;
                case "DOT" or "SET_JOB_ATTR" or "ENV" or "REJECT" or "SAVE_POINT_FILE":
                    break;
                default:
                    Error($"unknown command '{tokens[0]}'");
                    break;
            }
        }
    }

    /// <summary>Adds a problem when the PARENT/CHILD edges hold a cycle.</summary>
    internal static void CheckCycles(DagFile dag, string source, List<DagProblem> problems)
    {
        if (FindCycle(dag) is { } cycle)
            problems.Add(new DagProblem(source, 0, $"a cycle exists in the dag: {string.Join(" -> ", cycle)}"));
    }

    /// <summary>Checks a submit description: exactly one queue statement, and new-syntax arguments that parse.</summary>
    public static IReadOnlyList<DagProblem> CheckSubmit(string text, string source)
    {
        var problems = new List<DagProblem>();
        var d = SubmitDescription.Parse(text, source, problems);
        if (d["arguments"] is { } value && value.StartsWith('"'))
        {
            try { SubmitArguments.Parse(value); }
            catch (FormatException e) { problems.Add(new DagProblem(source, d.LineOf("arguments"), $"arguments: {e.Message}")); }
        }
        return problems.OrderBy(p => p.Line).ToList();
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

    /// <summary>Reads VARS assignments (key="value" ...), unescaping \" and \\; reports the first problem and stops there.</summary>
    private static List<KeyValuePair<string, string>> ReadVars(string rest, Action<string> error)
    {
        var vars = new List<KeyValuePair<string, string>>();
        int i = 0;
        while (i < rest.Length)
        {
            while (i < rest.Length && rest[i] == ' ') i++;
            if (i >= rest.Length) break;
            int eq = rest.IndexOf('=', i);
            if (eq < 0) { error($"expected key=\"value\" in VARS, found '{rest[i..]}'"); return vars; }
            string key = rest[i..eq];
            if (!VarsKey().IsMatch(key)) { error($"illegal VARS key '{key}'"); return vars; }
            if (key.StartsWith("queue", StringComparison.OrdinalIgnoreCase)) { error($"VARS key '{key}' must not begin with 'queue'"); return vars; }
            if (DagmanMacros.Contains(key)) { error($"VARS key '{key}' hides DAGMan's $({key.ToUpperInvariant()}) macro (submit macros are case-insensitive)"); return vars; }
            i = eq + 1;
            if (i >= rest.Length || rest[i] != '"') { error($"VARS value for '{key}' must be in double quotes"); return vars; }
            i++;
            bool closed = false;
            var value = new System.Text.StringBuilder();
            while (i < rest.Length)
            {
                char c = rest[i];
                if (c == '\\')
                {
                    if (i + 1 >= rest.Length || (rest[i + 1] != '"' && rest[i + 1] != '\\')) { error($"VARS value for '{key}' has an illegal escape (only \\\" and \\\\ are allowed)"); return vars; }
                    value.Append(rest[i + 1]);
                    i += 2;
                    continue;
                }
                if (c == '"') { closed = true; i++; break; }
                value.Append(c);
                i++;
            }
            if (!closed) { error($"VARS value for '{key}' has no closing double quote"); return vars; }
            vars.Add(new(key, value.ToString()));
        }
        return vars;
    }

    private static List<string>? FindCycle(DagFile dag)
    {
        var indegree = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var n in dag.Nodes) indegree[n.Name] = n.Parents.Count;
        var ready = new Queue<string>(indegree.Where(k => k.Value == 0).Select(k => k.Key));
        int seen = 0;
        while (ready.Count > 0)
        {
            var n = ready.Dequeue();
            seen++;
            foreach (var c in dag[n]!.Children) if (--indegree[c] == 0) ready.Enqueue(c);
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
            cur = dag[cur]!.Children.First(c => indegree[c] > 0);
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
