namespace GwReprocess.Workflow;

/// <summary>
/// Runs a DAG's nodes as local processes: the same programs and arguments HTCondor would run, in dependency order,
/// with RETRY (and UNLESS-EXIT), CATEGORY throttles (MAXJOBS), DONE nodes skipped, the PROVISIONER and SERVICE nodes
/// first and stopped at the end, and the FINAL node always. Not a scheduler: everything runs on this machine.
/// </summary>
public static class LocalDagExecutor
{
    /// <summary>Reads <paramref name="dagPath"/> (and its highest rescue DAG) and runs it; see the type's summary.</summary>
    public static async Task<LocalDagResult> RunAsync(string dagPath, LocalDagOptions options, CancellationToken cancellationToken)
    {
        await using var run = LocalDagRun.Open(dagPath, options, cancellationToken);
        return await run.RunAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// What condor_submit would run for <paramref name="node"/>: its submit file (in the node's DIR, else the DAG's
    /// directory) with <paramref name="macros"/> (VARS, JOB, RETRY, ...) expanded; output, error and input paths are
    /// relative to initialdir, the job runs in initialdir (a shared filesystem), the executable relative to the submit directory.
    /// </summary>
    public static LocalCommand Command(string dagDirectory, DagNode node, IReadOnlyDictionary<string, string> macros, LocalExecutable? executable = null)
    {
        if (node.SubmitFile is null) throw BadInputException.AtLine(dagDirectory, node.Line, $"{node.Name} has no submit file");
        string submitDir = node.Directory is null ? dagDirectory : Path.Combine(dagDirectory, node.Directory);
        var submit = SubmitDescription.Load(Path.Combine(submitDir, node.SubmitFile));
        string iwd = submit.Get("initialdir", macros) is { Length: > 0 } d ? Path.GetFullPath(Path.Combine(submitDir, d)) : Path.GetFullPath(submitDir);
        string? InIwd(string command) => submit.Get(command, macros) is { Length: > 0 } p && p != "/dev/null" ? Path.Combine(iwd, p) : null;
        var arguments = submit.Arguments(macros);
        string written = submit.Get("executable", macros) ?? throw BadInputException.AtLine(submit.Source, 0, "no executable command");
        string exe;
        if (executable is not null && Path.GetFileName(written) == LocalExecutable.GwreproName)
        {
            exe = executable.Path;
            arguments = [.. executable.PrefixArguments, .. arguments];
        }
        else exe = Path.IsPathRooted(written) || !written.Contains('/') && !File.Exists(Path.Combine(submitDir, written)) ? written : Path.GetFullPath(Path.Combine(submitDir, written));
        return new LocalCommand(exe, arguments, iwd, InIwd("output"), InIwd("error"), InIwd("input"), submit.Environment(macros))
        {
            MaxRetries = Integer(submit, "max_retries", macros),
            SuccessExitCode = Integer(submit, "success_exit_code", macros),
        };
    }

    private static int Integer(SubmitDescription submit, string command, IReadOnlyDictionary<string, string> macros)
    {
        if (submit.Get(command, macros) is not { Length: > 0 } text) return 0;
        if (!int.TryParse(text.Trim(), System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out int value) || value < 0 && command == "max_retries")
            throw BadInputException.AtLine(submit.Source, submit.LineOf(command), $"{command} = {text}: not {(command == "max_retries" ? "a non-negative" : "an")} integer");
        return value;
    }
}
