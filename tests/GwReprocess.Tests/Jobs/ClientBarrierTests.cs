using System.Globalization;
using GwReprocess.Inference;
using GwReprocess.Server.Tests;
using GwReprocess.Tests.Cli;
using Xunit.Abstractions;

namespace GwReprocess.Tests.Jobs;

/// <summary>Eight one-frame jobs over 80 s of simulated H1+L1 data and one server holding eight streams.</summary>
public sealed class ClientBarrierFixture : IAsyncLifetime
{
    public const int Clients = 8, JobSeconds = 8;

    public static readonly ClientRunOptions Options = new(Seconds: 80, FrameLength: JobSeconds, Witnesses: 3, Stride: 256, Batch: 4, Streams: Clients, Padding: 5);

    public ClientRunDirectory Run { get; private set; } = null!;

    public GwreproBackground Server { get; private set; } = null!;

    public int Port { get; private set; }

    public async Task InitializeAsync()
    {
        Run = await ClientRunDirectory.CreateAsync(Options);
        long s = Options.Start + JobSeconds;
        await Run.WriteJobsAsync([.. Enumerable.Range(0, Clients).Select(i => (s + i * JobSeconds, s + (i + 1) * JobSeconds))]);
        Port = ClientRunDirectory.FreePort();
        Server = await Run.StartServerAsync(Port);
    }

    public async Task DisposeAsync()
    {
        if (Server is not null) await Server.DisposeAsync();
        Run?.Dispose();
    }
}

/// <summary>The start barrier with real <c>gwrepro client</c> processes started one after another.</summary>
[Collection(RunsAloneCollection.Name)]
public sealed class ClientBarrierTests(ClientBarrierFixture f, ITestOutputHelper output) : IClassFixture<ClientBarrierFixture>
{
    private static readonly TimeSpan Stagger = TimeSpan.FromMilliseconds(400);

    /// <summary>Starts clients for jobs 0..count-1, <see cref="Stagger"/> apart, through <paramref name="proxy"/>; waits for all; returns each one's log.</summary>
    private async Task<List<GwreproBackground>> RunClientsAsync(string workflow, int count, FaultProxy proxy)
    {
        var clients = new List<GwreproBackground>();
        try
        {
            for (int i = 0; i < count; i++)
            {
                if (i > 0) await Task.Delay(Stagger);
                clients.Add(GwreproBackground.Start($"client job{i:D3}",
                    ["client", "--workflow", workflow, "--jobs", f.Run.Jobs, "--job", $"job{i:D3}", "--server", proxy.Address], f.Run.Path));
            }
            foreach (var c in clients)
            {
                int exit = await c.WaitForExitAsync(TimeSpan.FromMinutes(4));
                Assert.True(exit == 0, $"{c.Label} exited {exit}:\n{c.StdErr}");
                output.WriteLine($"{c.Label}: started {c.StartedAt:F3}; " + string.Join(" | ", c.Lines.Where(l => l.Contains("barrier", StringComparison.Ordinal))));
            }
            return clients;
        }
        catch
        {
            foreach (var c in clients) await c.DisposeAsync();
            throw;
        }
    }

    /// <summary>When each job's first request reached the proxy in front of the server (Unix seconds): when it began streaming.</summary>
    private double[] StreamingStarts(FaultProxy proxy, int count)
    {
        var starts = Enumerable.Range(0, count).Select(i =>
        {
            Assert.True(proxy.FirstRequests.TryGetValue(1001 + i, out var t), $"job{i:D3} (sequence {1001 + i}) never streamed");
            return t.ToUnixTimeMilliseconds() / 1e3;
        }).ToArray();
        output.WriteLine($"first requests (Unix s): {string.Join(", ", starts.Select(s => s.ToString("F3", CultureInfo.InvariantCulture)))}; spread {starts.Max() - starts.Min():F3} s");
        return starts;
    }

    /// <summary>When each client process was started (Unix seconds).</summary>
    private static double[] Launches(IEnumerable<GwreproBackground> clients) => [.. clients.Select(c => c.StartedAt)];

    [Fact]
    public async Task EightStaggeredClientsBeginStreamingWithinOneSecond()
    {
        var workflow = await f.Run.WriteWorkflowAsync("barrier-all.toml", "out-all",
            "barrier = \"all\"\nbarrier_clients = 8\nbarrier_timeout = 180");
        await using var proxy = await FaultProxy.StartAsync(new InferenceEndpoint($"127.0.0.1:{f.Port}"));
        var clients = await RunClientsAsync(workflow, ClientBarrierFixture.Clients, proxy);
        try
        {
            var starts = StreamingStarts(proxy, ClientBarrierFixture.Clients);
            var launches = Launches(clients);
            // The clients really came up apart (start-up on shared cores only spreads them further)...
            Assert.True(launches.Max() - launches.Min() >= 0.9 * 7 * Stagger.TotalSeconds, $"launches spread over only {launches.Max() - launches.Min():F2} s");
            // ...and began streaming together, after the last one was up.
            Assert.True(starts.Max() - starts.Min() <= 1.0, $"first requests spread over {starts.Max() - starts.Min():F3} s: {string.Join(", ", starts.Select(s => s.ToString("F3", CultureInfo.InvariantCulture)))}");
            Assert.True(starts.Min() >= launches.Max(), "a client streamed before the last one had started");
            Assert.All(clients, c => Assert.Contains("all 8 clients ready", c.StdErr));
            Assert.Equal(ClientBarrierFixture.Clients, Directory.EnumerateFiles(Path.Combine(f.Run.Path, "out-all", "done")).Count());
        }
        finally
        {
            foreach (var c in clients) await c.DisposeAsync();
        }
    }

    [Fact]
    public async Task QuorumProceedsAfterTheTimeoutWithOneClientMissingAndSaysSo()
    {
        const double timeout = 8;
        var workflow = await f.Run.WriteWorkflowAsync("barrier-quorum.toml", "out-quorum",
            $"barrier = \"quorum\"\nbarrier_clients = 8\nbarrier_quorum = 0.75\nbarrier_timeout = {timeout.ToString(CultureInfo.InvariantCulture)}");
        await using var proxy = await FaultProxy.StartAsync(new InferenceEndpoint($"127.0.0.1:{f.Port}"));
        var clients = await RunClientsAsync(workflow, ClientBarrierFixture.Clients - 1, proxy);
        try
        {
            var starts = StreamingStarts(proxy, ClientBarrierFixture.Clients - 1);
            var launches = Launches(clients);
            Assert.True(starts.Max() - starts.Min() <= 1.0, $"first requests spread over {starts.Max() - starts.Min():F3} s");
            // Nobody went before the first client's timeout ran out.
            Assert.True(starts.Min() >= launches.Min() + timeout, $"streaming began {starts.Min() - launches.Min():F2} s after the first launch, before the {timeout} s timeout");
            Assert.All(clients, c => Assert.Contains("quorum: 7 of 8 clients ready", c.StdErr));
            Assert.Equal(ClientBarrierFixture.Clients - 1, Directory.EnumerateFiles(Path.Combine(f.Run.Path, "out-quorum", "done")).Count());
        }
        finally
        {
            foreach (var c in clients) await c.DisposeAsync();
        }
    }
}
