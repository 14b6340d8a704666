using System.Diagnostics;
using GwReprocess.Jobs;
using GwReprocess.Tests.Cli;

namespace GwReprocess.Tests.Jobs;

/// <summary>gwrepro client when its server dies mid-run: reconnect, replay from the last committed frame, same bytes; or give up with exit 1.</summary>
[Collection(ClientRunCollection.Name)]
public sealed class ClientReconnectTests(ClientRunFixture run)
{
    /// <summary>Starts <c>gwrepro serve</c> on free ports publishing its address as <paramref name="name"/> in <paramref name="rendezvous"/>.</summary>
    private async Task<Process> StartServerAsync(string rendezvous, string name)
    {
        string published = Path.Combine(rendezvous, "servers", name);
        var before = File.Exists(published) ? File.ReadAllText(published) : null;
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in new[] { GwreproProcess.DllPath, "serve", "--model-repository", run.Repository, "--grpc-port", "0", "--http-port", "0", "--metrics-port", "0",
                     "--name", name, "--rendezvous", rendezvous, "--intra-op-threads", "1" })
            psi.ArgumentList.Add(a);
        var p = Process.Start(psi)!;
        p.OutputDataReceived += (_, _) => { };
        p.ErrorDataReceived += (_, _) => { };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(60) && !p.HasExited && (!File.Exists(published) || File.ReadAllText(published) == before))
            await Task.Delay(50);
        Assert.True(File.Exists(published) && !p.HasExited, "server did not publish its address");
        return p;
    }

    private static void AssertSameOutputs(string expectedDir, string actualDir)
    {
        foreach (var sub in new[] { "cleaned/H1", "cleaned/L1", "scores" })
        {
            var expected = Directory.EnumerateFiles(Path.Combine(expectedDir, sub)).Select(Path.GetFileName).Order().ToList();
            Assert.Equal(expected, Directory.EnumerateFiles(Path.Combine(actualDir, sub)).Select(Path.GetFileName).Order().ToList());
            foreach (var f in expected)
                Assert.True(File.ReadAllBytes(Path.Combine(expectedDir, sub, f!)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(actualDir, sub, f!))), $"{sub}/{f} differs");
        }
    }

    [Fact]
    public async Task A_stream_cut_mid_run_is_resumed_from_the_last_committed_frame_with_identical_bytes()
    {
        var reference = await run.ReferenceRunAsync();
        Assert.True(reference.Result.ExitCode == 0, reference.Result.StdErr);
        // The responses of the whole job are ~50 MB; the proxy resets every connection once 20 MB have come back.
        await using var proxy = CuttingProxy.Start(int.Parse(run.ServerAddress.Split(':')[1]), cutAfterBytes: 20_000_000);
        var (workflow, jobs, plan) = await run.RunDirectoryAsync("stream-cut", extra: "[cleaning]\nretries = 3");
        string outDir = Path.Combine(Path.GetDirectoryName(workflow)!, "out");
        var r = await GwreproProcess.RunAsync(["client", "--workflow", workflow, "--jobs", jobs, "--job", plan.Jobs[0].Name, "--server", $"127.0.0.1:{proxy.Port}"],
            timeout: TimeSpan.FromMinutes(4));
        Assert.True(r.ExitCode == 0, r.StdErr);
        Assert.True(proxy.Cut, "the proxy never cut the stream");
        Assert.True(r.StdErr.Contains("retry 1 of 3", StringComparison.Ordinal), r.StdErr);
        var committedBefore = r.StdErr.Split('\n').TakeWhile(l => !l.Contains("retry 1 of 3", StringComparison.Ordinal)).Count(l => l.Contains("committed frame", StringComparison.Ordinal));
        Assert.Contains($"from frame {committedBefore + 1} of 3", r.StdErr);
        Assert.Equal(3, r.StdErr.Split('\n').Count(l => l.Contains("committed frame", StringComparison.Ordinal)));
        AssertSameOutputs(reference.Out, outDir);
        var metrics = JobMetricsCsv.Read(Path.Combine(outDir, "metrics", plan.Jobs[0].Name + ".csv"));
        Assert.Equal(1, metrics.Sum(m => m.Retries));
        Assert.Equal(80, metrics.Sum(m => m.DataSeconds), 6);
    }

    [Fact]
    public async Task A_server_that_dies_and_comes_back_at_another_address_is_found_again_through_the_rendezvous()
    {
        var reference = await run.ReferenceRunAsync();
        Assert.True(reference.Result.ExitCode == 0, reference.Result.StdErr);
        // Two clients are expected at the barrier, so the client waits there (server found, layout learned) until the test
        // has killed its server, started another one on a new port and added the second ready marker.
        var (workflow, jobs, plan) = await run.RunDirectoryAsync("server-moved", extra: "[cleaning]\nretries = 3");
        File.WriteAllText(workflow, File.ReadAllText(workflow).Replace("barrier_timeout = 5", "barrier_timeout = 120\nbarrier_clients = 2", StringComparison.Ordinal));
        string outDir = Path.Combine(Path.GetDirectoryName(workflow)!, "out");
        string rendezvous = Path.Combine(outDir, "rendezvous");
        var first = await StartServerAsync(rendezvous, "server7");
        Process? second = null;
        try
        {
            var client = GwreproProcess.RunAsync(["client", "--workflow", workflow, "--jobs", jobs, "--job", plan.Jobs[0].Name, "--server", "server7"],
                timeout: TimeSpan.FromMinutes(4));
            string ready = Path.Combine(rendezvous, "ready", plan.Jobs[0].Name);
            var clock = Stopwatch.StartNew();
            while (!client.IsCompleted && clock.Elapsed < TimeSpan.FromMinutes(2) && !File.Exists(ready)) await Task.Delay(20);
            Assert.False(client.IsCompleted, "the client ended before its server could be killed");
            string old = File.ReadAllText(Path.Combine(rendezvous, "servers", "server7"));
            first.Kill(entireProcessTree: true);
            // Not WaitForExitAsync: it also waits for the end of the redirected output, which a child process may hold open.
            Assert.True(first.WaitForExit(30_000));
            second = await StartServerAsync(rendezvous, "server7");
            Assert.NotEqual(old, File.ReadAllText(Path.Combine(rendezvous, "servers", "server7")));
            File.WriteAllText(Path.Combine(rendezvous, "ready", "another-job"), "test");

            var r = await client;
            Assert.True(r.ExitCode == 0, r.StdErr);
            Assert.True(r.StdErr.Contains("retry 1 of 3", StringComparison.Ordinal), r.StdErr);
            Assert.Contains("server server7 is now at", r.StdErr);
            AssertSameOutputs(reference.Out, outDir);
            var metrics = JobMetricsCsv.Read(Path.Combine(outDir, "metrics", plan.Jobs[0].Name + ".csv"));
            Assert.True(metrics.Sum(m => m.BarrierWaitSeconds) > 0);
        }
        finally
        {
            foreach (var p in new[] { first, second })
            {
                if (p is null) continue;
                if (!p.HasExited) p.Kill(entireProcessTree: true);
                p.Dispose();
            }
        }
    }

    [Fact]
    public async Task A_job_that_first_reads_a_dead_servers_address_finds_its_replacement_through_the_rendezvous()
    {
        var reference = await run.ReferenceRunAsync();
        Assert.True(reference.Result.ExitCode == 0, reference.Result.StdErr);
        // What a job started (or retried) between a server's death and its restart reads: the old address, nobody behind it.
        var (workflow, jobs, plan) = await run.RunDirectoryAsync("stale-address");
        string outDir = Path.Combine(Path.GetDirectoryName(workflow)!, "out");
        string rendezvous = Path.Combine(outDir, "rendezvous");
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        int dead = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        Directory.CreateDirectory(Path.Combine(rendezvous, "servers"));
        File.WriteAllText(Path.Combine(rendezvous, "servers", "server8"), $"127.0.0.1:{dead}\n");
        var client = GwreproProcess.RunAsync(["client", "--workflow", workflow, "--jobs", jobs, "--job", plan.Jobs[0].Name, "--server", "server8", "--ready-timeout", "120"],
            timeout: TimeSpan.FromMinutes(4));
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.False(client.IsCompleted, "the client ended before the server came back");
        using var server = await StartServerAsync(rendezvous, "server8");
        try
        {
            var r = await client;
            Assert.True(r.ExitCode == 0, r.StdErr);
            Assert.Contains("server server8 is now at", r.StdErr);
            AssertSameOutputs(reference.Out, outDir);
        }
        finally
        {
            if (!server.HasExited) server.Kill(entireProcessTree: true);
        }
    }

    [Fact]
    public async Task A_server_that_never_comes_back_ends_the_job_with_exit_1_and_the_reason()
    {
        var (workflow, jobs, plan) = await run.RunDirectoryAsync("server-gone", extra: "[cleaning]\nretries = 1");
        // Nothing listens on this port: the first probe already fails, and the readiness deadline ends the job.
        var r = await GwreproProcess.RunAsync(["client", "--workflow", workflow, "--jobs", jobs, "--job", plan.Jobs[0].Name,
            "--server", "127.0.0.1:9", "--ready-timeout", "2"], timeout: TimeSpan.FromMinutes(1));
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("not ready with model 'gwe2e' within 2 s", r.StdErr);
        Assert.False(Directory.Exists(Path.Combine(Path.GetDirectoryName(workflow)!, "out", "cleaned")));
    }
}

/// <summary>A loopback TCP relay in front of a server that resets every open connection once it has relayed a number of bytes back, then relays normally again.</summary>
internal sealed class CuttingProxy : IAsyncDisposable
{
    private readonly System.Net.Sockets.TcpListener _listener = new(System.Net.IPAddress.Loopback, 0);
    private readonly int _upstream;
    private readonly long _cutAfter;
    private readonly List<System.Net.Sockets.TcpClient> _open = new();
    private readonly CancellationTokenSource _stop = new();
    private long _relayed;
    private Task _accept = Task.CompletedTask;

    private CuttingProxy(int upstream, long cutAfter)
    {
        _upstream = upstream;
        _cutAfter = cutAfter;
    }

    public int Port => ((System.Net.IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>True once the connections were reset.</summary>
    public bool Cut { get; private set; }

    public static CuttingProxy Start(int upstream, long cutAfterBytes)
    {
        var p = new CuttingProxy(upstream, cutAfterBytes);
        p._listener.Start();
        p._accept = Task.Run(p.AcceptAsync);
        return p;
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            System.Net.Sockets.TcpClient down;
            try { down = await _listener.AcceptTcpClientAsync(_stop.Token); }
            catch (Exception) { return; }
            var up = new System.Net.Sockets.TcpClient();
            try { await up.ConnectAsync(System.Net.IPAddress.Loopback, _upstream); }
            catch (Exception) { down.Dispose(); up.Dispose(); continue; }
            lock (_open) { _open.Add(down); _open.Add(up); }
            _ = Pump(down.GetStream(), up.GetStream(), false);
            _ = Pump(up.GetStream(), down.GetStream(), true);
        }
    }

    private async Task Pump(System.Net.Sockets.NetworkStream from, System.Net.Sockets.NetworkStream to, bool counted)
    {
        var buffer = new byte[1 << 16];
        try
        {
            while (true)
            {
                int n = await from.ReadAsync(buffer, _stop.Token);
                if (n == 0) break;
                await to.WriteAsync(buffer.AsMemory(0, n), _stop.Token);
                if (counted && !Cut && Interlocked.Add(ref _relayed, n) >= _cutAfter) ResetAll();
            }
        }
        catch (Exception) { /* the other side went away, or we cut it */ }
        finally
        {
            try { to.Socket.Shutdown(System.Net.Sockets.SocketShutdown.Send); } catch (Exception) { }
        }
    }

    private void ResetAll()
    {
        Cut = true;
        lock (_open)
        {
            foreach (var c in _open)
            {
                try { c.Client.LingerState = new System.Net.Sockets.LingerOption(true, 0); c.Close(); } catch (Exception) { }
            }
            _open.Clear();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        try { await _accept; } catch (Exception) { }
        ResetAll();
    }
}
