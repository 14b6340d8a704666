using GwReprocess.Data;
using GwReprocess.Frames;
using GwReprocess.IO;
using GwReprocess.Simulation;
using GwReprocess.Storage;
using GwReprocess.Time;

namespace GwReprocess.Workflow;

/// <summary>
/// A workflow run on this machine (<c>gwrepro run</c>): its run directory holds the workflow copy, the DAG and submit
/// files, and, at the paths the workflow gives relative to it, the simulated frames, the model repository and the
/// outputs, exactly where the DAG's nodes (which run in the run directory) look for them.
/// </summary>
public sealed class LocalRun
{
    private LocalRun(WorkflowConfig workflow, string directory)
    {
        Workflow = workflow;
        Directory = directory;
        Inputs = new RunInputs(workflow, directory);
    }

    /// <summary>The workflow (read from the file the user gave, so segment files resolve next to it).</summary>
    public WorkflowConfig Workflow { get; }

    /// <summary>The run directory (absolute).</summary>
    public string Directory { get; }

    /// <summary>The DAG file in the run directory.</summary>
    public string DagFile => Path.Combine(Directory, RunDirectory.DagName);

    /// <summary>Reads the workflow and creates the run directory.</summary>
    public static LocalRun Create(string workflowPath, string runDirectory)
    {
        var workflow = WorkflowConfig.Load(workflowPath);
        string dir = Path.GetFullPath(runDirectory);
        System.IO.Directory.CreateDirectory(dir);
        return new LocalRun(workflow, dir);
    }

    /// <summary>A path of the workflow (relative ones are relative to the run directory, where the nodes run); URLs pass through.</summary>
    public string Resolve(string path) => Inputs.Resolve(path);

    /// <summary>Where simulated frames go, or null when the workflow's data are not simulated.</summary>
    public string? FramesDirectory => Workflow.Data.Simulation is { } s ? Resolve(s.Directory) : null;

    /// <summary>True when the workflow simulates its data and some detector's cache, or a file it lists, is missing.</summary>
    public bool NeedsSimulation()
    {
        if (FramesDirectory is not { } dir) return false;
        foreach (var d in Workflow.Detectors)
        {
            string cache = Path.Combine(dir, SimulationRun.CacheName(d.Ifo));
            if (!File.Exists(cache)) return true;
            var entries = FrameCache.Read(cache).Entries;
            if (entries.Count == 0) return true;
            foreach (var e in entries)
                if (e.LocalPath is not { } p || !File.Exists(p)) return true;
            if (new SegmentList([Workflow.Data.Span]).Subtract(new FrameCache(entries).Coverage()).Count > 0) return true;
        }
        return false;
    }

    /// <summary>Simulates the workflow's data into <see cref="FramesDirectory"/> (as <c>gwrepro simulate --workflow</c> does).</summary>
    public Task<SimulationResult> SimulateAsync(IProgress<SimulationProgress>? progress, CancellationToken cancellationToken)
    {
        var options = WorkflowSimulation.Options(Workflow);
        options.Validate();
        return SimulationRun.RunAsync(options, new DirectoryOutput(FramesDirectory!), progress, cancellationToken);
    }

    /// <summary>The workflow's paths as the run directory's jobs see them, and the inputs to find or copy there (shared with <c>gwrepro dag</c>).</summary>
    public RunInputs Inputs { get; }

    /// <summary>The LAL cache the client jobs read (<c>data.source = "cache"</c>), resolved in the run directory; null for other sources.</summary>
    public string? Cache => Inputs.Cache;

    /// <summary>The model repository the server node loads (a local path, or a bucket URL).</summary>
    public string ModelRepository => Inputs.ModelRepository;

    /// <summary>True when the repository is local and lacks the workflow's ensemble.</summary>
    public bool NeedsModels() => Inputs.NeedsModels();

    /// <summary>Copies a model repository into <see cref="ModelRepository"/> (through a temporary directory, renamed when complete).</summary>
    public void CopyRepository(string source)
    {
        string target = ModelRepository;
        string staging = target.TrimEnd('/') + $".partial-{Environment.ProcessId}";
        if (System.IO.Directory.Exists(staging)) System.IO.Directory.Delete(staging, true);
        foreach (var file in System.IO.Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            string to = Path.Combine(staging, Path.GetRelativePath(source, file));
            System.IO.Directory.CreateDirectory(Path.GetDirectoryName(to)!);
            File.Copy(file, to);
        }
        if (System.IO.Directory.Exists(target)) System.IO.Directory.Delete(target, true);
        System.IO.Directory.Move(staging, target);
    }

    /// <summary>A LAL cache of every detector's simulated frames (for fitting the cleaners), written next to the frames.</summary>
    public async Task<string> WriteFitCacheAsync(CancellationToken cancellationToken)
    {
        string dir = FramesDirectory ?? throw new BadInputException($"{Workflow.SourcePath}: data.source is not 'simulated'; give the models to fit on");
        var entries = new List<FrameCacheEntry>();
        foreach (var d in Workflow.Detectors) entries.AddRange(FrameCache.Read(Path.Combine(dir, SimulationRun.CacheName(d.Ifo))).Entries);
        string path = Path.Combine(dir, Workflow.IfoTag + ".lcf");
        await new FrameCache(entries).WriteAsync(path, cancellationToken).ConfigureAwait(false);
        return path;
    }

    /// <summary>The span the cleaners are fitted on: the first <paramref name="seconds"/> of the data (or all of it).</summary>
    public Segment FitSpan(long seconds = 256)
    {
        var span = Workflow.Data.Span;
        return span.Duration.TotalSeconds <= seconds ? span : new Segment(span.Start, span.Start + GpsDuration.FromSeconds(seconds));
    }

    /// <summary>
    /// The repository this run builds when it has none to copy (model-repository/README.md's choices): Wiener cleaners and
    /// the calibrated template bank fitted on the first 512 s of the run's frames, window hop and batch from [inference].
    /// </summary>
    public async Task<Models.ModelRepositoryRequest> ModelRepositoryRequestAsync(CancellationToken cancellationToken)
    {
        var fit = FitSpan(512);
        string cache = await WriteFitCacheAsync(cancellationToken).ConfigureAwait(false);
        return new Models.ModelRepositoryRequest
        {
            Directory = ModelRepository,
            Models = new Models.ModelRepositoryOptions
            {
                KernelSeconds = 1,
                Stride = Stride,
                Batch = Workflow.Inference.Batch,
                Cleaner = Models.CleanerKind.Wiener,
                Detector = Models.DetectorKind.Templates,
            },
            Fit = WorkflowModels.WienerFit(Workflow, cache) with { Start = fit.Start, End = fit.End },
        };
    }

    /// <summary>Samples between windows the models need for the workflow's inference rate (4096 Hz processing).</summary>
    public int Stride => 4096 / Workflow.Inference.Rate;

    /// <summary>Plans the jobs and writes the run directory (jobs whose done marker exists under the outputs are DONE).</summary>
    public async Task<(JobPlan Plan, RunDirectory Run)> WriteDagAsync(string executable, CancellationToken cancellationToken)
    {
        var w = Workflow;
        // Planned from the cache the jobs read: the run directory's (copied in by gwrepro run when it lacked one).
        var plan = JobPlanner.PlanFromFiles(w, Inputs.FindCache());
        if (plan.Jobs.Count == 0)
            throw new BadInputException($"{w.SourcePath}: no analyzable time in [{w.Data.Span.Start}, {w.Data.Span.End}) after segments, frames and padding");
        var done = await DagWriter.CommittedJobsAsync(Inputs.Outputs, cancellationToken).ConfigureAwait(false);
        done.IntersectWith(plan.Jobs.Select(j => j.Name));
        var run = await DagWriter.WriteAsync(plan, Directory, executable, done, cancellationToken).ConfigureAwait(false);
        var problems = DagChecker.CheckFile(run.DagFile);
        if (problems.Count > 0) throw new InvalidOperationException($"the DAG just written does not pass the checker: {problems[0]}");
        return (plan, run);
    }

    /// <summary>
    /// Makes the rescue DAGs agree with the DAG <see cref="WriteDagAsync"/> just wrote from the committed outputs. That DAG
    /// marks DONE every job whose outputs are committed, and the highest rescue DAG is applied after it (as condor_submit_dag
    /// does), so a rescue DAG this run wrote only repeats it. One that marks DONE a job whose outputs are not committed (they
    /// were removed) or a node the DAG no longer has (the workflow changed) describes another run: then every rescue DAG is
    /// set aside as <c>condor_submit_dag -force</c> does (renamed <c>….old</c>), so that neither this run nor a later
    /// condor_submit_dag of the run directory skips a job whose outputs are missing.
    /// </summary>
    public RescueReconciliation ReconcileRescues()
    {
        var rescues = GwReprocess.Workflow.DagFile.RescueFiles(DagFile);
        if (rescues.Count == 0) return new RescueReconciliation(null, null, []);
        string highest = rescues[^1].Path;
        var dag = GwReprocess.Workflow.DagFile.Load(DagFile);
        string? reason = null;
        foreach (var name in RescueDag.DoneNodes(highest))
        {
            var node = dag[name];
            if (node is null) { reason = $"it marks {name} DONE, a node the DAG written from the workflow does not have"; break; }
            if (!node.Done) { reason = $"it marks {name} DONE but its outputs are not committed (no done/{name} under {Workflow.Outputs.Uri})"; break; }
        }
        if (reason is null)
        {
            try { dag.ApplyRescue(highest); }
            catch (BadInputException e) { reason = e.Message; }
        }
        if (reason is null) return new RescueReconciliation(highest, null, []);
        return new RescueReconciliation(null, $"{Path.GetFileName(highest)}: {reason}", RescueDag.SetAside(DagFile));
    }

    /// <summary>
    /// Empties the run's rendezvous prefix before the DAG runs again: a previous run's stop marker would stop the new
    /// server at once, its servers/&lt;name&gt; would send clients to a dead port, its barrier objects would release them early.
    /// </summary>
    public async Task<int> ResetRendezvousAsync(CancellationToken cancellationToken)
    {
        var (bucket, prefix) = BucketFactory.Open(Resolve(Workflow.Outputs.Uri));
        using (bucket)
        {
            string rendezvous = BucketUri.AsPrefix(prefix) + "rendezvous/";
            var keys = new List<string>();
            await foreach (var o in bucket.ListAsync(rendezvous, cancellationToken).ConfigureAwait(false)) keys.Add(o.Key);
            foreach (var key in keys) await bucket.DeleteAsync(key, cancellationToken).ConfigureAwait(false);
            return keys.Count;
        }
    }

    /// <summary>Where the FINAL node's <c>gwrepro analyze</c> writes the report.</summary>
    public string ReportDirectory => Path.Combine(Directory, "report");
}

/// <summary>What <see cref="LocalRun.ReconcileRescues"/> found.</summary>
/// <param name="Applies">The rescue DAG the run will resume from (it agrees with the committed outputs), or null.</param>
/// <param name="Disagreement">Why the highest rescue DAG was set aside (names it), or null.</param>
/// <param name="SetAside">The rescue DAGs renamed <c>….old</c>.</param>
public sealed record RescueReconciliation(string? Applies, string? Disagreement, IReadOnlyList<string> SetAside);
