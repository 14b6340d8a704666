using System.Globalization;
using GwReprocess.Inference;
using GwReprocess.Server.Tests;
using GwReprocess.Tests.Cli;
using Xunit.Abstractions;

namespace GwReprocess.Tests.Jobs;

/// <summary>A simulated run directory, a server, and the output of an undisturbed <c>gwrepro client</c> run to compare disturbed runs with.</summary>
public sealed class ClientFaultFixture : IAsyncLifetime
{
    /// <summary>96 s of job (twelve 8 s frames) in 112 s of H1+L1 data; 3 witnesses; windows at 16 Hz, 4 per request (0.25 s updates).</summary>
    /// <remarks>Twelve frames, because a loaded machine commits frames in bursts (three at once in one CI run): both kills must still land mid-job.</remarks>
    public static readonly ClientRunOptions Options = new(Seconds: 112, FrameLength: 8, Witnesses: 3, Stride: 256, Batch: 4, Retries: 20);

    public ClientRunDirectory Run { get; private set; } = null!;

    public GwreproBackground Server { get; private set; } = null!;

    public int Port { get; private set; }

    public long CoreStart => Options.Start + Options.FrameLength;

    public long CoreEnd => Options.Start + Options.Seconds - Options.FrameLength;

    public string Job => $"client-{CoreStart}";

    /// <summary>The undisturbed run's output prefix.</summary>
    public string Reference => Path.Combine(Run.Path, "out-reference");

    public string[] ClientArgs(string workflow, string server) =>
        ["client", "--workflow", workflow, "--start", CoreStart.ToString(CultureInfo.InvariantCulture), "--end", CoreEnd.ToString(CultureInfo.InvariantCulture), "--server", server];

    public async Task InitializeAsync()
    {
        Run = await ClientRunDirectory.CreateAsync(Options);
        Port = ClientRunDirectory.FreePort();
        Server = await Run.StartServerAsync(Port);
        var workflow = await Run.WriteWorkflowAsync("reference.toml", "out-reference");
        var r = await GwreproProcess.RunAsync(ClientArgs(workflow, $"127.0.0.1:{Port}"), Run.Path, null, TimeSpan.FromMinutes(5));
        if (r.ExitCode != 0) throw new InvalidOperationException($"undisturbed client run failed ({r.ExitCode}): {r.StdErr}");
    }

    /// <summary>Same cleaned frames and score files, byte for byte; the same progress markers; the job marked done.</summary>
    public void AssertSameAsReference(string outputs)
    {
        var expected = ClientRunDirectory.Files(Reference, "cleaned", "scores");
        var actual = ClientRunDirectory.Files(outputs, "cleaned", "scores");
        int frames = (int)((CoreEnd - CoreStart) / Options.FrameLength);
        Assert.Equal(3 * frames, expected.Count); // H1, L1 cleaned frames and one score file per frame
        Assert.Equal(expected.Keys, actual.Keys);  // nothing missing, nothing extra (a duplicate would be another span)
        foreach (var (name, bytes) in expected)
            Assert.True(bytes.AsSpan().SequenceEqual(actual[name]), $"{name} differs from the undisturbed run");
        Assert.Equal(Markers(Reference), Markers(outputs));
        Assert.Equal(frames, Markers(outputs).Length);
        Assert.True(File.Exists(Path.Combine(outputs, "done", Job)), "no done marker");
    }

    private string[] Markers(string outputs) =>
        [.. Directory.EnumerateFiles(Path.Combine(outputs, "progress", Job)).Select(Path.GetFileName).Order(StringComparer.Ordinal)!];

    public async Task DisposeAsync()
    {
        if (Server is not null) await Server.DisposeAsync();
        Run?.Dispose();
    }
}

/// <summary><c>gwrepro client</c> under faults: the server killed and restarted twice, 1 % of stream answers broken; output identical to an undisturbed run.</summary>
public sealed class ClientFaultTests(ClientFaultFixture f, ITestOutputHelper output) : IClassFixture<ClientFaultFixture>
{
    private static readonly TimeSpan Long = TimeSpan.FromMinutes(4);

    private static int Count(GwreproBackground p, string text) => p.Lines.Count(l => l.Contains(text, StringComparison.Ordinal));

    [Fact]
    public async Task ServerKilledAndRestartedTwiceMidRunGivesIdenticalOutput()
    {
        int port = ClientRunDirectory.FreePort();
        var workflow = await f.Run.WriteWorkflowAsync("kill.toml", "out-kill");
        var servers = new List<GwreproBackground> { await f.Run.StartServerAsync(port, label: "server #1") };
        try
        {
            await using var client = GwreproBackground.Start("client", f.ClientArgs(workflow, $"127.0.0.1:{port}"), f.Run.Path);
            for (int kill = 1; kill <= 2; kill++)
            {
                // Kill while the job is between its first and last frame: after the next frame commit.
                int committed = Count(client, "committed frame");
                await client.WaitForLineAsync("committed frame", Long, occurrence: committed + 1);
                await servers[^1].KillAsync();
                Assert.False(client.HasExited, "the client finished before the server was killed: make the job longer\n" + client.StdErr);
                await Task.Delay(TimeSpan.FromSeconds(1));
                servers.Add(await f.Run.StartServerAsync(port, label: $"server #{kill + 1}"));
            }
            int exit = await client.WaitForExitAsync(Long);
            Assert.True(exit == 0, client.StdErr);
            Assert.True(Count(client, "stream error") >= 2, client.StdErr);
            output.WriteLine(string.Join('\n', client.Lines.Where(l => l.Contains("stream error", StringComparison.Ordinal) || l.Contains("done:", StringComparison.Ordinal))));
        }
        finally
        {
            foreach (var s in servers) await s.DisposeAsync();
        }
        f.AssertSameAsReference(Path.Combine(f.Run.Path, "out-kill"));
    }

    [Fact]
    public async Task OnePercentRandomStreamErrorsGiveIdenticalOutput()
    {
        await using var proxy = await FaultProxy.StartAsync(new InferenceEndpoint($"127.0.0.1:{f.Port}"));
        proxy.InjectFaults(0.01, seed: 2026, FaultKind.Mixed);
        var workflow = await f.Run.WriteWorkflowAsync("faults.toml", "out-faults");
        var r = await GwreproProcess.RunAsync(f.ClientArgs(workflow, proxy.Address), f.Run.Path, null, Long);
        Assert.True(r.ExitCode == 0, r.StdErr);
        int retries = r.StdErr.Split('\n').Count(l => l.Contains("stream error", StringComparison.Ordinal));
        Assert.True(proxy.Faults >= 2, $"only {proxy.Faults} fault(s) injected in {proxy.Responses} answers: lengthen the job\n{r.StdErr}");
        Assert.InRange(retries, 2, (int)proxy.Faults);
        output.WriteLine($"{proxy.Faults} fault(s) injected in {proxy.Responses} forwarded answers over {proxy.Streams} stream(s); {retries} client retries");
        Assert.Contains("injected fault", r.StdErr);
        f.AssertSameAsReference(Path.Combine(f.Run.Path, "out-faults"));
    }
}
