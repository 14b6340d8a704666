using System.Diagnostics;

namespace GwReprocess.Workflow;

/// <summary>A node's process as a local run starts it: stdin from the submit file's input, stdout/stderr into its output/error files.</summary>
internal static class LocalNodeProcess
{
    /// <summary>Starts a node's process with stdout/stderr copied to its output/error files; the task completes when it exits and both are flushed.</summary>
    /// <remarks><paramref name="append"/>: append to the output/error files rather than truncate them, so a restarted SERVICE process keeps its predecessor's last words.</remarks>
    public static (Process Process, Task Exit) Start(LocalCommand command, LocalNodeRun r, CancellationToken ct, bool append = false)
    {
        var psi = new ProcessStartInfo(command.Executable)
        {
            WorkingDirectory = command.WorkingDirectory,
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var a in command.Arguments) psi.ArgumentList.Add(a);
        foreach (var (k, v) in command.Environment) psi.Environment[k] = v;
        Stream Open(string? path)
        {
            if (path is null) return Stream.Null;
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            return new FileStream(path, append ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.ReadWrite, 1 << 14, FileOptions.Asynchronous);
        }
        var output = Open(command.Output);
        // condor_submit appends both streams to one file when output and error name the same file.
        var error = command.Error is not null && command.Error == command.Output ? output : Open(command.Error);
        var shared = ReferenceEquals(output, error) && output != Stream.Null ? new SemaphoreSlim(1, 1) : null;
        Process process;
        try { process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {command.Executable}"); }
        catch (System.ComponentModel.Win32Exception e)
        {
            output.Dispose();
            if (!ReferenceEquals(error, output)) error.Dispose();
            // On a pool the job would be held and the node fail; here the node fails without an exit code.
            throw new BadInputException($"{r.Node.Name}: cannot run {command.Executable}: {e.Message}");
        }
        var input = Task.Run(async () =>
        {
            try
            {
                if (command.Input is not null)
                {
                    await using var file = File.OpenRead(command.Input);
                    await file.CopyToAsync(process.StandardInput.BaseStream, ct).ConfigureAwait(false);
                }
            }
            catch (IOException) { /* the process closed its stdin */ }
            finally { try { process.StandardInput.Close(); } catch (IOException) { } }
        }, CancellationToken.None);
        var pumpOut = Pump(process.StandardOutput.BaseStream, output, shared);
        var pumpErr = Pump(process.StandardError.BaseStream, error, shared);
        async Task WaitAsync()
        {
            try { await process.WaitForExitAsync(ct).ConfigureAwait(false); }
            catch (OperationCanceledException) { Kill(process); throw; }
            finally
            {
                try { await Task.WhenAll(pumpOut, pumpErr, input).ConfigureAwait(false); }
                catch (IOException) { }
                await output.DisposeAsync().ConfigureAwait(false);
                if (!ReferenceEquals(error, output)) await error.DisposeAsync().ConfigureAwait(false);
            }
        }
        return (process, WaitAsync());
    }

    private static async Task Pump(Stream from, Stream to, SemaphoreSlim? shared)
    {
        var buffer = new byte[8192];
        int n;
        while ((n = await from.ReadAsync(buffer).ConfigureAwait(false)) > 0)
        {
            if (shared is not null) await shared.WaitAsync().ConfigureAwait(false);
            // Flushed as it comes, as a job's output file on a pool is: a SERVICE node's log is read while it runs (its published address and pid).
            try
            {
                await to.WriteAsync(buffer.AsMemory(0, n)).ConfigureAwait(false);
                await to.FlushAsync().ConfigureAwait(false);
            }
            finally { shared?.Release(); }
        }
        await to.FlushAsync().ConfigureAwait(false);
    }

    public static void Kill(Process process)
    {
        try { if (!process.HasExited) process.Kill(entireProcessTree: true); }
        catch (InvalidOperationException) { /* already gone */ }
    }
}
