using System.Diagnostics;

namespace GwReprocess.Tests.Cli;

/// <summary>Runs the built <c>gwrepro</c> as a real process, so tests see real exit codes and output.</summary>
public static class GwreproProcess
{
    public sealed record Result(int ExitCode, string StdOut, string StdErr);

    public static string DllPath => Path.Combine(AppContext.BaseDirectory, "gwrepro.dll");

    public static async Task<Result> RunAsync(IEnumerable<string> args, string? workingDirectory = null,
        IReadOnlyDictionary<string, string?>? environment = null, TimeSpan? timeout = null)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        psi.ArgumentList.Add(DllPath);
        foreach (var a in args) psi.ArgumentList.Add(a);
        if (environment is not null)
            foreach (var (k, v) in environment) psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(2));
        try { await p.WaitForExitAsync(cts.Token).ConfigureAwait(false); }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            // What it had said by then is the only clue to where it hung.
            string said = await stdout.ConfigureAwait(false) + await stderr.ConfigureAwait(false);
            throw new TimeoutException($"gwrepro {string.Join(' ', args)} did not finish in time; its last output:\n{(said.Length > 6000 ? said[^6000..] : said)}");
        }
        return new Result(p.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false));
    }

    public static Task<Result> RunAsync(params string[] args) => RunAsync(args, null, null, null);

    /// <summary>The same, for tests that are not async.</summary>
    public static Result Run(string[] args, TimeSpan? timeout = null) => RunAsync(args, null, null, timeout).GetAwaiter().GetResult();
}
