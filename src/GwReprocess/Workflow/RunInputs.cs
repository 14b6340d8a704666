using GwReprocess.Frames;
using GwReprocess.IO;

namespace GwReprocess.Workflow;

/// <summary>
/// The workflow's paths as the jobs of a run directory see them (they read its copy of the workflow, so a relative path
/// is taken in the run directory), and what <c>gwrepro dag</c> and <c>gwrepro run</c> do about the relative local inputs the
/// run directory lacks: the frame cache is copied in from beside the workflow or the current directory, the model
/// repository is looked for there (only <c>gwrepro run</c> copies it).
/// </summary>
public sealed class RunInputs
{
    /// <summary>
    /// The inputs of <paramref name="workflow"/> for the run directory <paramref name="runDirectory"/> (made absolute; not
    /// created); without one (<c>gwrepro dag --dry-run</c> with no <c>--out</c>), relative paths are taken beside the workflow.
    /// </summary>
    public RunInputs(WorkflowConfig workflow, string? runDirectory)
    {
        Workflow = workflow;
        _hasRunDirectory = runDirectory is not null;
        Directory = Path.GetFullPath(runDirectory ?? Path.GetDirectoryName(Path.GetFullPath(workflow.SourcePath)) ?? ".");
    }

    private readonly bool _hasRunDirectory;

    /// <summary>The workflow, as read from the file the user gave.</summary>
    public WorkflowConfig Workflow { get; }

    /// <summary>The run directory (absolute).</summary>
    public string Directory { get; }

    /// <summary>A path of the workflow as the jobs see it: relative ones in the run directory; absolute paths and URLs pass through.</summary>
    public string Resolve(string path) => Location.Parse(path).Resolve(Directory).ToString();

    /// <summary>The output prefix the jobs commit to (and <c>gwrepro dag</c> looks for done markers in).</summary>
    public string Outputs => Resolve(Workflow.Outputs.Uri);

    /// <summary>The LAL cache the client jobs read (<c>data.source = "cache"</c>), resolved in the run directory; null for other sources.</summary>
    public string? Cache => Workflow.Data.Kind == DataSourceKind.Cache ? Resolve(Workflow.Data.Cache!) : null;

    /// <summary>True when the workflow reads a local cache that the run directory does not hold.</summary>
    public bool NeedsCache() => Cache is { } c && !Location.Parse(c).IsUrl && !File.Exists(c);

    /// <summary>
    /// The local frame cache to plan from and, where the run directory lacks it, to copy there: the run directory's own,
    /// else (a relative <c>data.cache</c>) the first of <see cref="BesideWorkflowOrHere"/> that exists. Null when the workflow
    /// reads no local cache (another data source, or a URL).
    /// </summary>
    /// <exception cref="BadInputException">No such cache anywhere: one line naming the workflow file, the key and the paths looked at.</exception>
    public string? FindCache()
    {
        if (Cache is not { } target || Location.Parse(target).IsUrl) return null;
        if (File.Exists(target)) return target;
        string relative = Workflow.Data.Cache!;
        string first = Location.Parse(relative).IsRooted ? "" : _hasRunDirectory ? "the run directory" : "beside the workflow";
        var looked = new List<(string Path, string Where)> { (target, first) };
        foreach (var (c, where) in BesideWorkflowOrHere(Workflow, relative).Zip(["beside the workflow", "here"]))
        {
            if (File.Exists(c)) return c;
            int same = looked.FindIndex(l => Path.GetFullPath(l.Path) == Path.GetFullPath(c));
            if (same < 0) looked.Add((c, where));
            else if (!looked[same].Where.Contains(where, StringComparison.Ordinal)) looked[same] = (looked[same].Path, looked[same].Where + " and " + where);
        }
        string paths = string.Join(", ", looked.Select(l => l.Where.Length == 0 ? l.Path : $"{l.Path} ({l.Where})"));
        throw new BadInputException($"{Workflow.SourcePath}: data.cache '{relative}': no such frame cache at {paths}");
    }

    /// <summary>
    /// Writes the cache at <paramref name="source"/> to <see cref="Cache"/> when the run directory lacks it, its relative entries
    /// made absolute (they name files beside the source, which the jobs' copy no longer sits beside). True when it copied.
    /// </summary>
    public async Task<bool> CopyCacheAsync(string source, CancellationToken cancellationToken)
    {
        if (!NeedsCache() || Path.GetFullPath(source) == Path.GetFullPath(Cache!)) return false;
        var cache = FrameCache.Read(source);
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(Cache!)!);
        await AtomicFile.WriteAllTextAsync(Cache!, cache.Format(), cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>The model repository the server nodes load (a local path resolved in the run directory, or a bucket URL).</summary>
    public string ModelRepository => Resolve(Workflow.Inference.ModelRepository);

    /// <summary>True when the repository is local and lacks the workflow's ensemble.</summary>
    public bool NeedsModels() =>
        !Location.Parse(ModelRepository).IsUrl
        && !File.Exists(Path.Combine(ModelRepository, Workflow.Inference.Ensemble, "config.pbtxt"));

    /// <summary>
    /// A model repository that already serves this workflow: <paramref name="candidates"/> in order (by default
    /// <see cref="BesideWorkflowOrHere"/> of <c>inference.model_repository</c>), the first that passes the repository check
    /// and whose ensemble takes the workflow's channels (count, and each Wiener cleaner's witness order), window hop and
    /// batch. Null when none does.
    /// </summary>
    public string? FindCompatibleRepository(IEnumerable<string>? candidates = null)
    {
        var w = Workflow;
        int stride = 4096 / w.Inference.Rate, d = w.Detectors.Count, channels = w.Detectors.Sum(x => x.Witnesses.Count) + d;
        foreach (var candidate in candidates ?? BesideWorkflowOrHere(w, w.Inference.ModelRepository))
        {
            string dir = Path.GetFullPath(candidate);
            if (dir == Path.GetFullPath(ModelRepository) || !File.Exists(Path.Combine(dir, w.Inference.Ensemble, "config.pbtxt"))) continue;
            try
            {
                if (Models.ModelRepositoryCheck.Check(dir).Count > 0) continue;
                var ensemble = Inference.ModelConfigFile.Read(Path.Combine(dir, w.Inference.Ensemble, "config.pbtxt"));
                if (ensemble.Input.Count != 1 || !ensemble.Input[0].Dims.SequenceEqual(new long[] { 1, channels, (long)w.Inference.Batch * stride })) continue;
                bool witnessesMatch = true;
                foreach (var det in w.Detectors)
                {
                    string cleaner = Path.Combine(dir, Models.ModelRepositoryBuilder.CleanerName(Models.CleanerKind.Wiener, det.Ifo), "config.pbtxt");
                    if (!File.Exists(cleaner)) continue;
                    var annotated = Models.WienerCleaner.FromConfig(Inference.ModelConfigFile.Read(cleaner));
                    if (annotated is { } a && !a.Channels.Select(c => c.Value).SequenceEqual(det.Witnesses.Select(x => x.Value))) witnessesMatch = false;
                }
                if (witnessesMatch) return dir;
            }
            catch (Exception e) when (e is BadInputException or IOException or FormatException) { /* not usable: try the next */ }
        }
        return null;
    }

    /// <summary>
    /// One <c>warning:</c> line when <c>inference.model_repository</c> is a relative local path the run directory lacks (the
    /// server nodes would find nothing there), saying where they will look and how to fix it, naming a repository beside
    /// the workflow or here that serves this workflow when there is one; null when the run directory has it, or the path is
    /// absolute or a URL. <c>gwrepro dag</c> does not copy a repository: it may be large, and the verbatim workflow copy
    /// naming one shared repository keeps every run directory regenerable from it.
    /// </summary>
    public string? MissingRepositoryWarning()
    {
        string relative = Workflow.Inference.ModelRepository;
        if (Location.Parse(relative).IsRooted || System.IO.Directory.Exists(ModelRepository)) return null;
        string key = $"{Workflow.SourcePath}: inference.model_repository '{relative}'";
        return FindCompatibleRepository() is { } found
            ? $"warning: {key}: the server jobs will look for {ModelRepository}, which does not exist; {found} serves this workflow: set inference.model_repository = \"{found}\", or copy it to {ModelRepository}"
            : $"warning: {key}: the server jobs will look for {ModelRepository}, which does not exist; give inference.model_repository as an absolute path, or put the repository there";
    }

    /// <summary>Where a relative path of the workflow may already exist: beside the workflow file, then in the current directory (none for a rooted path or URL).</summary>
    public static IReadOnlyList<string> BesideWorkflowOrHere(WorkflowConfig workflow, string relative) => Location.Parse(relative).IsRooted ? [] :
    [
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(workflow.SourcePath)) ?? ".", relative),
        Path.Combine(System.IO.Directory.GetCurrentDirectory(), relative),
    ];
}
