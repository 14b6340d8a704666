using System.Diagnostics;
using System.Text.RegularExpressions;
using GwReprocess.Tests.Cli;
using GwReprocess.Workflow;

namespace GwReprocess.Tests.Workflow;

/// <summary>
/// <c>gwrepro run</c> with its server killed (SIGKILL, as the OOM killer does) once it has published its address: the
/// SERVICE node is restarted in place (server.sub's max_retries), publishes again, and the clients find it through the
/// rendezvous; the run succeeds with the same bytes as an undisturbed one.
/// </summary>
public sealed partial class RunServerRestartTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("gwrepro-run-restart-");

    public void Dispose() => _dir.Delete(true);

    [GeneratedRegex(@"\(pid (\d+)\)")]
    private static partial Regex PublishedPid();

    [Fact]
    public async Task A_server_killed_mid_run_is_restarted_and_the_outputs_match_an_undisturbed_run()
    {
        string workflow = Path.Combine(_dir.FullName, "tiny.toml");
        File.WriteAllText(workflow, RunEndToEndTests.Workflow);
        string quiet = Path.Combine(_dir.FullName, "quiet"), killed = Path.Combine(_dir.FullName, "killed");
        var r = await GwreproProcess.RunAsync(["run", workflow, "--out", quiet, "--stop-grace", "10"], _dir.FullName, timeout: TimeSpan.FromMinutes(8));
        Assert.True(r.ExitCode == 0, r.StdOut + r.StdErr);

        var run = GwreproProcess.RunAsync(["run", workflow, "--out", killed, "--stop-grace", "10"], _dir.FullName, timeout: TimeSpan.FromMinutes(8));
        int pid = await PublishedServerPidAsync(Path.Combine(killed, "logs", "server_0.0.err"), run);
        using (var server = Process.GetProcessById(pid)) server.Kill(); // SIGKILL: no withdrawal, its stale address stays published
        r = await run;
        Assert.True(r.ExitCode == 0, r.StdOut + r.StdErr);
        Assert.Contains("server_0: restarted (its process exited with code 137; restart 1 of 3)", r.StdOut + r.StdErr);
        Assert.Contains("run: 2 of 2 client job(s) complete (2 run, 0 done before), 0 failed", r.StdOut);

        // DAGMan's records of a job the schedd reruns in place: one submit, evicted, executing again, then its clean stop.
        var log = JobstateLog.Read(Path.Combine(killed, "reprocess.jobstate.log"));
        Assert.Equal(["SUBMIT", "EXECUTE", "JOB_EVICTED", "EXECUTE", "JOB_TERMINATED", "JOB_SUCCESS"], log.Where(e => e.Node == "server_0").Select(e => e.Event));
        Assert.Equal(("DAGMAN_FINISHED", "0"), (log[^1].Event, log[^1].Id));
        // The replacement published under the same name, and its predecessor's log is kept above its own.
        string serverLog = File.ReadAllText(Path.Combine(killed, "logs", "server_0.0.err"));
        Assert.Equal(2, PublishedPid().Matches(serverLog).Count);

        // Byte-identical data products (metrics and the report carry timings).
        var products = Products(quiet);
        Assert.Equal(6, products.Count);
        Assert.Equal(products, Products(killed));
        foreach (var name in products)
            Assert.True(File.ReadAllBytes(Path.Combine(quiet, "out", name)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(killed, "out", name))), $"{name} differs");
    }

    private static List<string> Products(string run)
    {
        string outDir = Path.Combine(run, "out");
        return Directory.EnumerateFiles(outDir, "*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".gwf", StringComparison.Ordinal) || f.EndsWith(".h5", StringComparison.Ordinal))
            .Select(f => Path.GetRelativePath(outDir, f)).Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>The pid the server logs when it publishes its address (the run's first server process).</summary>
    private static async Task<int> PublishedServerPidAsync(string log, Task run)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromMinutes(4))
        {
            if (run.IsCompleted) Assert.Fail("the run ended before its server published");
            if (File.Exists(log))
            {
                string text;
                using (var f = new FileStream(log, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
                using (var reader = new StreamReader(f))
                    text = await reader.ReadToEndAsync();
                if (PublishedPid().Match(text) is { Success: true } m) return int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            }
            await Task.Delay(20);
        }
        Assert.Fail($"no published address in {log}");
        return 0;
    }
}
