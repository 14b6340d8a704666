using System.Globalization;
using System.Text;
using GwReprocess.IO;
using GwReprocess.Storage;

namespace GwReprocess.Workflow;

/// <summary>What <c>gwrepro dag</c> wrote: the run directory and a summary of the plan.</summary>
public sealed record RunDirectory(string Path, string DagFile, int Jobs, int JobsDone, double DataSeconds, int Servers)
{
    /// <summary>The DAG's file name inside the run directory.</summary>
    public const string DagName = "reprocess.dag";

    /// <summary>The run directory's copy of the workflow file, which the client nodes read.</summary>
    public const string WorkflowName = "workflow.toml";

    /// <summary>The run directory's copy of <c>[inference] tls_ca</c>, the CA bundle clients trust.</summary>
    public const string TlsCaName = "tls-ca.pem";

    /// <summary>The run directory's copy of <c>[inference] tls_cert</c>, the server nodes' certificate.</summary>
    public const string TlsCertName = "tls-cert.pem";

    /// <summary>The run directory's copy of <c>[inference] tls_key</c> (mode 0600).</summary>
    public const string TlsKeyName = "tls-key.pem";

    /// <summary>The run directory's copy of <c>[inference] token_file</c> (mode 0600).</summary>
    public const string TokenName = "server.token";

    /// <summary>
    /// The workflow's TLS and token files, as (key, path relative to the workflow file or absolute, name in the run directory, secret).
    /// They are copied into the run directory under fixed names, so a job finds them by the same bare name in the run
    /// directory (shared filesystem, <c>gwrepro run</c>) and in its sandbox (transferred files land flattened there).
    /// </summary>
    public static IReadOnlyList<(string Key, string Path, string Name, bool Secret)> CopiedFiles(WorkflowConfig workflow)
    {
        var i = workflow.Inference;
        var files = new List<(string, string, string, bool)>();
        if (i.TlsCa is { } ca) files.Add(("inference.tls_ca", ca, TlsCaName, false));
        if (i.ServesTls)
        {
            files.Add(("inference.tls_cert", i.TlsCert!, TlsCertName, false));
            files.Add(("inference.tls_key", i.TlsKey!, TlsKeyName, true));
        }
        if (i.TokenFile is { } token) files.Add(("inference.token_file", token, TokenName, true));
        return files;
    }
}

/// <summary>Writes a run directory for HTCondor: the DAG, the submit files from templates, dagman.config, jobs.csv and the workflow.</summary>
public static class DagWriter
{
    /// <summary>Renders every file of the run directory in memory (name → content), in a stable order.</summary>
    /// <param name="plan">The planned jobs.</param>
    /// <param name="executable">The gwrepro binary the jobs run (an absolute path on the access point).</param>
    /// <param name="done">Jobs whose outputs are already committed: marked DONE so a regenerated DAG resumes.</param>
    public static IReadOnlyList<KeyValuePair<string, string>> Render(JobPlan plan, string executable, IReadOnlySet<string>? done = null)
    {
        var w = plan.Workflow;
        var condor = w.Condor;
        var inference = w.Inference;
        int servers = inference.StartsServers ? inference.Servers : 0;
        if (servers > 0 && condor.MinimumVersion < HTCondorVersion.Service)
            throw new BadInputException($"{w.SourcePath}: condor.min_version {condor.MinimumVersion} predates SERVICE nodes ({HTCondorVersion.Service}) that run the servers; give external inference.addresses instead");

        bool transfer = w.Site.ShouldTransferFiles == "YES";
        var serve = ServeCommand.For(w);
        string rendezvous = serve.Rendezvous;
        var site = string.Join('\n', w.Site.JobLines);
        // The LAL cache the client and training jobs read, sent to them when it lies in the run directory (where gwrepro dag
        // puts a relative data.cache): on a transferring site (igwn-osg, hepcloud) a job's sandbox holds only what it is sent.
        // Kept under its relative path, as the workflow copy names it; an absolute or URL cache is the site's to provide.
        string? sentCache = w.Data.CacheInRunDirectory();
        string[] cacheInputs = sentCache is null ? [] : [sentCache];
        bool keepFolders = sentCache is not null && sentCache.Contains('/', StringComparison.Ordinal);
        var values = new Dictionary<string, string>
        {
            ["executable"] = executable,
            ["local_executable"] = executable,
            ["transfer_executable"] = transfer ? "true" : "false",
            ["should_transfer_files"] = w.Site.ShouldTransferFiles,
            ["client_arguments"] = SubmitArguments.Quote(["client", "--workflow", "workflow.toml", "--jobs", "jobs.csv", "--job", "$(jobname)", "--server", "$(server)",
                .. ClientSecurityArguments(inference), .. w.Training is null ? Array.Empty<string>() : TrainingNodes.ClientArguments]),
            ["server_arguments"] = SubmitArguments.Quote(serve.ToArguments()),
            ["analyze_arguments"] = SubmitArguments.Quote(["analyze", ".", "--stop-servers", rendezvous]),
            ["client_inputs"] = string.Join(", ", ["workflow.toml", "jobs.csv", .. cacheInputs, .. ClientSecurityFiles(inference)]),
            ["train_inputs"] = string.Join(", ", ["workflow.toml", .. cacheInputs]),
            ["preserve_relative_paths"] = keepFolders ? "preserve_relative_paths = true" : "",
            ["server_transfer"] = ServerTransfer(inference, transfer),
            ["client_cpus"] = condor.ClientCpus.ToString(CultureInfo.InvariantCulture),
            ["client_memory"] = condor.ClientMemory,
            ["client_disk"] = condor.ClientDisk,
            ["server_cpus"] = condor.ServerCpus.ToString(CultureInfo.InvariantCulture),
            ["server_memory"] = condor.ServerMemory,
            // The GPUs the repository's instance groups name (gpus_per_server where it does not say, or cannot be read here).
            ["server_gpus"] = (servers > 0 ? ServerGpus.For(w) : inference.GpusPerServer).ToString(CultureInfo.InvariantCulture),
            ["server_restarts"] = inference.ServerRestarts.ToString(CultureInfo.InvariantCulture),
            ["run_name"] = w.Name,
            ["requirements"] = w.Site.Requirements.Count == 0 ? "" : "requirements            = " + string.Join(" && ", w.Site.Requirements),
            ["site"] = site,
            ["accounting"] = string.Join('\n', w.Site.JobLines.Where(l => l.StartsWith("accounting_group", StringComparison.Ordinal))),
            ["max_idle"] = condor.MaxIdle.ToString(CultureInfo.InvariantCulture),
        };

        var training = w.Training is null ? null : TrainingPlan.Create(plan);
        var clientTemplate = SubmitTemplate.Load("client.sub", condor.Templates);
        var trainTemplate = training is null ? null : SubmitTemplate.Load(TrainingNodes.SubmitFile, condor.Templates);
        // An edited template from before these placeholders would send the jobs no cache, or flatten its folders.
        if (transfer && sentCache is not null)
            foreach (var (template, inputs) in new[] { (clientTemplate, "client_inputs"), (trainTemplate, "train_inputs") })
                foreach (var name in keepFolders ? [inputs, "preserve_relative_paths"] : new[] { inputs })
                    if (template is not null && !template.Uses(name))
                        throw new BadInputException($"{template.Source}: no {{{{{name}}}}} placeholder, so jobs on a transferring site (site.profile = \"{w.Site.Name}\") would not find {sentCache} in their sandbox; add it (condor/README.md lists the placeholders)");
        if (training is not null)
            foreach (var (k, v) in TrainingNodes.Values(w, executable)) values[k] = v;
        var files = new List<KeyValuePair<string, string>>
        {
            new(RunDirectory.DagName, RenderDag(plan, servers, done, training)),
            new("client.sub", clientTemplate.Render(values)),
        };
        if (trainTemplate is not null) files.Add(new(TrainingNodes.SubmitFile, trainTemplate.Render(values)));
        if (servers > 0) files.Add(new(ServeCommand.SubmitFile, SubmitTemplate.Load(ServeCommand.SubmitFile, condor.Templates).Render(values)));
        files.Add(new("analyze.sub", SubmitTemplate.Load("analyze.sub", condor.Templates).Render(values)));
        files.Add(new("dagman.config", SubmitTemplate.Load("dagman.config", condor.Templates).Render(values)));
        files.Add(new("jobs.csv", plan.ToCsv()));
        return files;
    }

    /// <summary>Writes the run directory (each file atomically) and a copy of the workflow file.</summary>
    public static async Task<RunDirectory> WriteAsync(JobPlan plan, string directory, string executable,
        IReadOnlySet<string>? done = null, CancellationToken cancellationToken = default)
    {
        var files = Render(plan, executable, done);
        // The security files are read before anything is created, so a missing one leaves no half-written run directory.
        await CopySecurityFilesAsync(plan.Workflow, directory, cancellationToken).ConfigureAwait(false);
        Directory.CreateDirectory(Path.Combine(directory, "logs"));
        foreach (var (name, text) in files)
            await AtomicFile.WriteAllTextAsync(Path.Combine(directory, name), text, cancellationToken).ConfigureAwait(false);
        string workflowCopy = Path.Combine(directory, RunDirectory.WorkflowName);
        if (Path.GetFullPath(plan.Workflow.SourcePath) != Path.GetFullPath(workflowCopy))
            await AtomicFile.WriteAllTextAsync(workflowCopy, await File.ReadAllTextAsync(plan.Workflow.SourcePath, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        int doneCount = done is null ? 0 : plan.Jobs.Count(j => done.Contains(j.Name));
        return new RunDirectory(directory, Path.Combine(directory, RunDirectory.DagName), plan.Jobs.Count, doneCount,
            plan.DataDuration.TotalSeconds, plan.Workflow.Inference.ServerCount);
    }

    /// <summary>Jobs whose done marker (<c>done/&lt;job&gt;</c>) exists under the output prefix (a local path or any bucket URL).</summary>
    public static async Task<HashSet<string>> CommittedJobsAsync(string outputs, CancellationToken cancellationToken)
    {
        var (bucket, prefix) = BucketFactory.Open(outputs);
        using (bucket)
        {
            string donePrefix = BucketUri.AsPrefix(prefix) + "done/";
            var done = new HashSet<string>(StringComparer.Ordinal);
            await foreach (var o in bucket.ListAsync(donePrefix, cancellationToken).ConfigureAwait(false)) done.Add(o.Key[donePrefix.Length..]);
            return done;
        }
    }

    // The TLS and token files are named by their run-directory copies (RunDirectory.CopiedFiles), never by content:
    // no secret is written into the DAG or a submit file.
    private static IEnumerable<string> ClientSecurityFiles(InferenceSpec i)
    {
        if (i.TlsCa is not null) yield return RunDirectory.TlsCaName;
        if (i.TokenFile is not null) yield return RunDirectory.TokenName;
    }

    private static IEnumerable<string> ClientSecurityArguments(InferenceSpec i)
    {
        if (i.TlsCa is not null) { yield return "--tls-ca"; yield return RunDirectory.TlsCaName; }
        else if (i.ServesTls) yield return "--tls"; // a certificate from a CA in the execute points' trust store
        if (i.TokenFile is not null) { yield return "--token-file"; yield return RunDirectory.TokenName; }
    }

    private static IEnumerable<string> ServerSecurityFiles(InferenceSpec i)
    {
        if (i.ServesTls) { yield return RunDirectory.TlsCertName; yield return RunDirectory.TlsKeyName; }
        if (i.TokenFile is not null) yield return RunDirectory.TokenName;
    }

    private static string ServerTransfer(InferenceSpec i, bool transfer)
    {
        var files = new List<string>();
        if (transfer && !Location.Parse(i.ModelRepository).IsUrl) files.Add(i.ModelRepository.TrimEnd('/'));
        // Listed under IF_NEEDED too: they are in the run directory (the job's initialdir), so the bare names resolve either way.
        files.AddRange(ServerSecurityFiles(i));
        return files.Count == 0 ? "" : "transfer_input_files    = " + string.Join(", ", files);
    }

    /// <summary>Copies the workflow's TLS and token files into the run directory (secrets with mode 0600); errors name the key.</summary>
    private static async Task CopySecurityFilesAsync(WorkflowConfig workflow, string directory, CancellationToken cancellationToken)
    {
        string baseDir = Path.GetDirectoryName(Path.GetFullPath(workflow.SourcePath)) ?? ".";
        var copies = new List<(byte[] Bytes, string Target, bool Secret)>();
        foreach (var (key, path, name, secret) in RunDirectory.CopiedFiles(workflow))
        {
            string source = Path.Combine(baseDir, path);
            try { copies.Add((await File.ReadAllBytesAsync(source, cancellationToken).ConfigureAwait(false), Path.Combine(directory, name), secret)); }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                throw new BadInputException($"{workflow.SourcePath}: {key}: {source}: no such file", e);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new BadInputException($"{workflow.SourcePath}: {key}: {source}: cannot read it: {e.Message}", e);
            }
        }
        if (copies.Count > 0) Directory.CreateDirectory(directory);
        foreach (var (bytes, target, secret) in copies)
        {
            string temp = target + $".partial-{Environment.ProcessId}";
            var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
            if (secret && !OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            await using (var stream = new FileStream(temp, options))
            {
                await stream.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, target, overwrite: true);
        }
    }

    internal static string RenderDag(JobPlan plan, int servers, IReadOnlySet<string>? done, TrainingPlan? training = null)
    {
        var chunkOf = training?.ByJob();
        var w = plan.Workflow;
        var sb = new StringBuilder(256 + plan.Jobs.Count * 200);
        sb.Append("# GwReprocess run '").Append(w.Name).Append("': ").Append(plan.Jobs.Count.ToString(CultureInfo.InvariantCulture))
          .Append(" client job(s), ").Append(plan.DataDuration).Append(" s of ").Append(w.IfoTag).Append(" data, ")
          .Append(w.Inference.ServerCount.ToString(CultureInfo.InvariantCulture)).Append(" server(s).\n")
          .Append("# Written by gwrepro dag. Regenerate rather than edit: jobs with committed outputs become DONE.\n")
          .Append("CONFIG dagman.config\n")
          .Append("NODE_STATUS_FILE reprocess.status 60\n")
          .Append("JOBSTATE_LOG reprocess.jobstate.log\n\n");

        // Servers are SERVICE nodes, not a PROVISIONER: DAGMan waits for a PROVISIONER job to leave the queue before
        // the FINAL node runs, and the server only stops when FINAL asks it to (seen on 25.14: the DAG never ends).
        // SERVICE nodes run beside the DAG and are removed when it ends; clients wait for servers/<name> themselves.
        for (int i = 0; i < servers; i++) sb.Append("SERVICE ").Append(NodeNames.Server(i)).Append(' ').Append(ServeCommand.SubmitFile).Append('\n');
        if (servers > 0) sb.Append('\n');

        foreach (var job in plan.Jobs)
        {
            string server = w.Inference.StartsServers ? NodeNames.Server(job.Server) : w.Inference.Addresses[job.Server];
            sb.Append("JOB ").Append(job.Name).Append(" client.sub");
            if (done is not null && done.Contains(job.Name)) sb.Append(" DONE");
            sb.Append('\n');
            sb.Append("VARS ").Append(job.Name).Append(' ').Append(Var("jobname", job.Name)).Append(' ').Append(Var("server", server));
            if (chunkOf is not null) sb.Append(' ').Append(Var(TrainingNodes.EnsembleVar, chunkOf[job.Name].Ensemble));
            sb.Append('\n');
            sb.Append("RETRY ").Append(job.Name).Append(' ').Append(w.Condor.Retries.ToString(CultureInfo.InvariantCulture)).Append(" UNLESS-EXIT 2\n");
            sb.Append("CATEGORY ").Append(job.Name).Append(" clients\n");
        }
        if (training is not null)
        {
            sb.Append('\n');
            TrainingNodes.Render(sb, w, training, done);
        }
        int maxClients = Math.Max(1, w.Inference.ServerCount) * w.Inference.ClientsPerServer;
        sb.Append("\nMAXJOBS clients ").Append(maxClients.ToString(CultureInfo.InvariantCulture)).Append('\n');
        sb.Append("\nFINAL ").Append(NodeNames.Final).Append(" analyze.sub\n");
        return sb.ToString();
    }

    /// <summary>A VARS assignment; values are kept to a charset that needs no escaping at either level.</summary>
    internal static string Var(string key, string value)
    {
        foreach (char c in value)
            if (!(char.IsAsciiLetterOrDigit(c) || "_.:/+=,@%-".Contains(c)))
                throw new BadInputException($"VARS value '{value}' for '{key}' contains '{c}', which DAG files cannot carry safely");
        return $"{key}=\"{value}\"";
    }
}
