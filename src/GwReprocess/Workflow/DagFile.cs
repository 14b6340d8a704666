namespace GwReprocess.Workflow;

/// <summary>What a DAG node is: DAGMan's node kinds.</summary>
public enum DagNodeKind
{
    /// <summary>An ordinary <c>JOB</c> node.</summary>
    Job,
    /// <summary>The <c>FINAL</c> node: runs last, whatever happened before.</summary>
    Final,
    /// <summary>The <c>PROVISIONER</c> node: started first; other nodes wait until it says it is ready.</summary>
    Provisioner,
    /// <summary>A <c>SERVICE</c> node: started at the beginning, removed at the end, best effort.</summary>
    Service,
    /// <summary>A <c>SUBDAG EXTERNAL</c> node.</summary>
    Subdag,
    /// <summary>A <c>SPLICE</c>.</summary>
    Splice,
}

/// <summary>One node of a parsed DAG file, with everything the DAG file says about it.</summary>
public sealed class DagNode(string name, DagNodeKind kind, string? submitFile, int line)
{
    /// <summary>The node name (case-sensitive).</summary>
    public string Name { get; } = name;

    /// <summary>The node kind.</summary>
    public DagNodeKind Kind { get; } = kind;

    /// <summary>The submit file, relative to <see cref="Directory"/> (or the DAG's directory); null for splices and sub-DAGs.</summary>
    public string? SubmitFile { get; } = submitFile;

    /// <summary>The line that defines the node.</summary>
    public int Line { get; } = line;

    /// <summary>The node's <c>DIR</c>, if any: its submit file and relative paths are read from there.</summary>
    public string? Directory { get; internal set; }

    /// <summary><c>NOOP</c>: the node succeeds without running a job.</summary>
    public bool Noop { get; internal set; }

    /// <summary><c>DONE</c> (on the JOB line or a DONE command, as rescue DAGs write it): already complete.</summary>
    public bool Done { get; internal set; }

    /// <summary>The node's VARS in the order given (a repeated key: the last wins when macros are built).</summary>
    public List<KeyValuePair<string, string>> Vars { get; } = [];

    /// <summary>How many times a failed node is run again (<c>RETRY name N</c>).</summary>
    public int Retries { get; internal set; }

    /// <summary>The exit code after which no retry is made (<c>UNLESS-EXIT code</c>).</summary>
    public int? UnlessExit { get; internal set; }

    /// <summary>The node's <c>CATEGORY</c>, if any.</summary>
    public string? Category { get; internal set; }

    /// <summary>The node's <c>PRIORITY</c> (larger runs sooner among ready nodes).</summary>
    public int Priority { get; internal set; }

    /// <summary>Nodes that must succeed before this one runs.</summary>
    public List<string> Parents { get; } = [];

    /// <summary>Nodes that wait for this one.</summary>
    public List<string> Children { get; } = [];
}

/// <summary>A DAG's <c>NODE_STATUS_FILE file [minimumUpdateSeconds] [ALWAYS-UPDATE]</c> command.</summary>
/// <param name="File">The status file, relative to the DAG's directory unless absolute.</param>
/// <param name="MinimumUpdateSeconds">The shortest time between rewrites (DAGMan's default: 60 s).</param>
/// <param name="AlwaysUpdate">Rewrite at every interval even when nothing changed.</param>
public sealed record DagStatusFileCommand(string File, int MinimumUpdateSeconds, bool AlwaysUpdate)
{
    /// <summary>DAGMan's minimum update time when the command gives none.</summary>
    public const int DefaultMinimumUpdateSeconds = 60;
}

/// <summary>A DAG file as DAGMan reads it (by <see cref="DagChecker"/>'s parser): nodes in file order, throttles, and what else it names.</summary>
public sealed class DagFile
{
    internal DagFile(string path) => Path = path;

    /// <summary>The DAG file.</summary>
    public string Path { get; }

    /// <summary>Nodes by name, in file order.</summary>
    public IReadOnlyList<DagNode> Nodes => _order;

    /// <summary>The node of a name, or null.</summary>
    public DagNode? this[string name] => _nodes.GetValueOrDefault(name);

    /// <summary><c>MAXJOBS</c> per category.</summary>
    public Dictionary<string, int> MaxJobs { get; } = new(StringComparer.Ordinal);

    /// <summary>Commands this DAG uses that a local execution does not carry out (line and command), e.g. SCRIPT, SPLICE, ALL_NODES.</summary>
    public List<(int Line, string Command)> Unsupported { get; } = [];

    /// <summary>The <c>NODE_STATUS_FILE</c> command, if any (the first one: DAGMan ignores later ones).</summary>
    public DagStatusFileCommand? NodeStatusFile { get; internal set; }

    /// <summary>The <c>JOBSTATE_LOG</c> file, if any (the first one: DAGMan ignores later ones).</summary>
    public string? JobstateLog { get; internal set; }

    /// <summary>The <c>FINAL</c> node, if any.</summary>
    public DagNode? Final => _order.Find(n => n.Kind == DagNodeKind.Final);

    /// <summary>The <c>PROVISIONER</c> node, if any.</summary>
    public DagNode? Provisioner => _order.Find(n => n.Kind == DagNodeKind.Provisioner);

    private readonly Dictionary<string, DagNode> _nodes = new(StringComparer.Ordinal);
    private readonly List<DagNode> _order = [];

    internal bool Contains(string name) => _nodes.ContainsKey(name);

    internal void Add(DagNode node)
    {
        _nodes.Add(node.Name, node);
        _order.Add(node);
    }

    /// <summary>Reads a DAG file; any problem DAGMan would reject is a <see cref="BadInputException"/> naming the file and line.</summary>
    public static DagFile Load(string path)
    {
        if (!File.Exists(path)) throw new BadInputException($"{path}: DAG file not found");
        var dag = new DagFile(path);
        var problems = new List<DagProblem>();
        DagChecker.Parse(File.ReadAllText(path), path, dag, problems);
        DagChecker.CheckCycles(dag, path, problems);
        if (problems.Count > 0) throw new BadInputException(problems[0].ToString());
        return dag;
    }

    /// <summary>The rescue DAGs of <paramref name="dagPath"/> (<c>x.dag.rescue001</c>, ...) by number, highest last.</summary>
    public static IReadOnlyList<(int Number, string Path)> RescueFiles(string dagPath)
    {
        string dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(dagPath)) ?? ".";
        string stem = System.IO.Path.GetFileName(dagPath) + ".rescue";
        var found = new List<(int, string)>();
        foreach (var f in System.IO.Directory.EnumerateFiles(dir, stem + "*"))
        {
            string suffix = System.IO.Path.GetFileName(f)[stem.Length..];
            if (suffix.Length == 3 && int.TryParse(suffix, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int n) && n > 0)
                found.Add((n, f));
        }
        found.Sort((a, b) => a.Item1.CompareTo(b.Item1));
        return found;
    }

    /// <summary>Applies a rescue DAG as DAGMan does when resubmitted: its commands (DONE, RETRY) are read after the original's.</summary>
    public void ApplyRescue(string rescuePath)
    {
        var problems = new List<DagProblem>();
        DagChecker.Parse(File.ReadAllText(rescuePath), rescuePath, this, problems);
        if (problems.Count > 0) throw new BadInputException(problems[0].ToString() + " (a rescue DAG written for another version of the DAG? remove it to start afresh)");
    }
}
