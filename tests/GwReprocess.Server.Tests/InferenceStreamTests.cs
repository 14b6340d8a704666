using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Grpc.Core;
using GwReprocess.Inference;
using GwReprocess.Models;
using GwReprocess.Server.Hosting;
using static GwReprocess.Server.Tests.SnapshotStream;

namespace GwReprocess.Server.Tests;

/// <summary>The client job's network side (GwReprocess.Inference) against the real bundled server on loopback, directly and through <see cref="FaultProxy"/>.</summary>
public sealed class InferenceStreamTests(SharedServer shared) : IClassFixture<SharedServer>
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);

    private InferenceEndpoint Endpoint => new($"127.0.0.1:{shared.Server.Server.GrpcPort}");

    private static InferenceStreamOptions Options(InferenceEndpoint ep, ulong sequence, int window, string model = ModelRepositoryBuilder.StreamSnapshotter) =>
        new(ep, model, "snapshot_update", ["witness"], sequence, window);

    private static async Task<List<InferenceResult>> SendAllAndReadAsync(InferenceStream stream, float[][] x, int n, long firstId = 0)
    {
        using var cts = new CancellationTokenSource(Limit);
        var results = new List<InferenceResult>();
        var reader = Task.Run(async () => { await foreach (var r in stream.ReadAllAsync(cts.Token)) results.Add(r); });
        for (int i = 0; i < n; i++) await stream.SendAsync(firstId + i, Update(x, i), C, B * S, i == 0, i == n - 1, cts.Token);
        await reader;
        return results;
    }

    private static async Task<InferenceStreamException> StreamFails(InferenceStream stream, float[][] x, int n)
    {
        return await Assert.ThrowsAsync<InferenceStreamException>(() => SendAllAndReadAsync(stream, x, n));
    }

    /// <summary>What a client does after a transient failure: the same sequence id again from START, on a new stream; also frees the server's slot.</summary>
    private async Task ReplayAsync(ulong sequence, float[][] x, int n)
    {
        await using var stream = await InferenceStream.OpenAsync(Options(Endpoint, sequence, 4), CancellationToken.None);
        var results = await SendAllAndReadAsync(stream, x, n);
        Assert.Equal(n, results.Count);
        for (int i = 0; i < n; i++) TestServer.Close(ExpectedWindows(x, i), results[i].Outputs["witness"], 0);
    }

    [Fact]
    public async Task WindowsReturnedEqualSlicingTheStream()
    {
        const int n = 40;
        var x = Signal(n, 1);
        await using var stream = await InferenceStream.OpenAsync(Options(Endpoint, 501, 4), CancellationToken.None);
        var results = await SendAllAndReadAsync(stream, x, n, firstId: 1000);

        Assert.Equal(Enumerable.Range(1000, n).Select(i => (long)i), results.Select(r => r.RequestId));
        for (int i = 0; i < n; i++)
        {
            Assert.Equal(["witness"], results[i].Outputs.Keys);
            TestServer.Close(ExpectedWindows(x, i), results[i].Outputs["witness"], 0);
            Assert.InRange(results[i].RoundTrip, TimeSpan.FromTicks(1), Limit);
        }
        // Bytes: exactly the serialized requests (+5-byte gRPC prefix each); answers carry B·C·K floats each.
        long expectedSent = Enumerable.Range(0, n).Sum(i => (long)InferRequests.InSequence(
            InferRequests.Fp32(ModelRepositoryBuilder.StreamSnapshotter, "snapshot_update", Update(x, i), [1, C, B * S], (1000 + i).ToString(), ["witness"]),
            501, i == 0, i == n - 1).CalculateSize() + 5);
        Assert.Equal(expectedSent, stream.BytesSent);
        Assert.InRange(stream.BytesReceived, n * (B * C * K * 4L), n * (B * C * K * 4L + 400));
        Assert.Equal(n, stream.RequestsSent);
        Assert.Equal(n, stream.Answered);
        Assert.Equal(0, stream.InFlight);
    }

    [Fact]
    public async Task InFlightWindowIsRespectedOnTheWire()
    {
        await using var proxy = await FaultProxy.StartAsync(Endpoint);
        var ep = new InferenceEndpoint(proxy.Address);
        const int window = 3, n = 5;
        var x = Signal(n, 2);
        await using (var stream = await InferenceStream.OpenAsync(Options(ep, 502, window), CancellationToken.None))
        {
            proxy.PauseResponses();
            var results = new List<InferenceResult>();
            var reader = Task.Run(async () => { await foreach (var r in stream.ReadAllAsync(CancellationToken.None)) results.Add(r); });
            var sender = Task.Run(async () =>
            {
                for (int i = 0; i < n; i++) await stream.SendAsync(i, Update(x, i), C, B * S, i == 0, i == n - 1, CancellationToken.None);
            });
            var clock = Stopwatch.StartNew();
            while (proxy.Requests < window && clock.Elapsed < Limit) await Task.Delay(20);
            await Task.Delay(500);
            // Answers held: exactly the window went out and the next SendAsync waits.
            Assert.Equal(window, proxy.Requests);
            Assert.Equal(window, stream.InFlight);
            Assert.False(sender.IsCompleted);
            proxy.ResumeResponses();
            await sender.WaitAsync(Limit);
            await reader.WaitAsync(Limit);
            Assert.Equal(n, results.Count);
            Assert.Equal(window, proxy.MaxOutstanding);
        }

        // Unpaused, a longer stream never has more than the window outstanding, and uses it.
        const int window2 = 4, n2 = 60;
        long before = proxy.Requests;
        var y = Signal(n2, 3);
        await using (var stream = await InferenceStream.OpenAsync(Options(ep, 503, window2), CancellationToken.None))
        {
            var results = await SendAllAndReadAsync(stream, y, n2);
            Assert.Equal(n2, results.Count);
            TestServer.Close(ExpectedWindows(y, n2 - 1), results[^1].Outputs["witness"], 0);
        }
        Assert.Equal(before + n2, proxy.Requests);
        Assert.InRange(proxy.MaxOutstanding, window, window2);
    }

    [Fact]
    public async Task UnknownModelAndBadShapeAreNotTransient()
    {
        var x = Signal(2, 4);
        await using (var stream = await InferenceStream.OpenAsync(Options(Endpoint, 504, 2, model: "no-such-model"), CancellationToken.None))
        {
            var e = await StreamFails(stream, x, 2);
            Assert.False(e.Transient);
            Assert.Equal(StatusCode.NotFound, e.Status);
            Assert.Contains("no-such-model", e.Message);
        }
        // The snapshotter-stream takes 3 channels; 4 is refused for good.
        await using (var stream = await InferenceStream.OpenAsync(Options(Endpoint, 505, 2), CancellationToken.None))
        {
            var e = await Assert.ThrowsAsync<InferenceStreamException>(async () =>
            {
                await stream.SendAsync(0, new float[4 * B * S], 4, B * S, true, true, CancellationToken.None);
                await foreach (var _ in stream.ReadAllAsync(CancellationToken.None)) { }
            });
            Assert.False(e.Transient);
            Assert.Equal(StatusCode.InvalidArgument, e.Status);
        }
        await ReplayAsync(505, x, 2);
    }

    [Fact]
    public async Task BearerTokenIsSentAndAMissingOneIsNotTransient()
    {
        await using var s = await TestServer.StartAsync(o => o with { Token = "stream-s3cret" }, edit: m => m.RemoveAll(r => r.Name != ModelRepositoryBuilder.StreamSnapshotter));
        var x = Signal(3, 5);
        var address = $"127.0.0.1:{s.Server.GrpcPort}";
        await ServerReadiness.WaitAsync(new InferenceEndpoint(address, "stream-s3cret"), ModelRepositoryBuilder.StreamSnapshotter, Limit, null, CancellationToken.None);
        await using (var stream = await InferenceStream.OpenAsync(Options(new InferenceEndpoint(address, "stream-s3cret"), 506, 2), CancellationToken.None))
            Assert.Equal(3, (await SendAllAndReadAsync(stream, x, 3)).Count);
        await using (var stream = await InferenceStream.OpenAsync(Options(new InferenceEndpoint(address), 507, 2), CancellationToken.None))
        {
            var e = await StreamFails(stream, x, 3);
            Assert.False(e.Transient);
            Assert.Equal(StatusCode.Unauthenticated, e.Status);
        }
        var r = await Assert.ThrowsAsync<InferenceStreamException>(() =>
            ServerReadiness.WaitAsync(new InferenceEndpoint(address, "wrong"), ModelRepositoryBuilder.StreamSnapshotter, Limit, null, CancellationToken.None));
        Assert.False(r.Transient);
    }

    [Fact]
    public async Task ServerStoppedMidStreamIsTransientAndAnswersBeforeItAreDelivered()
    {
        await using var s = await TestServer.StartAsync(edit: m => m.RemoveAll(r => r.Name != ModelRepositoryBuilder.StreamSnapshotter));
        const int n = 400;
        var x = Signal(n, 6);
        await using var stream = await InferenceStream.OpenAsync(Options(new InferenceEndpoint($"127.0.0.1:{s.Server.GrpcPort}"), 508, 4), CancellationToken.None);
        var results = new List<InferenceResult>();
        var reader = Task.Run(async () => { await foreach (var r in stream.ReadAllAsync(CancellationToken.None)) results.Add(r); });
        Task stopping = Task.CompletedTask;
        var e = await Assert.ThrowsAsync<InferenceStreamException>(async () =>
        {
            for (int i = 0; i < n; i++)
            {
                if (i == 20) stopping = s.Server.StopAsync(TimeSpan.FromMilliseconds(50));
                await stream.SendAsync(i, Update(x, i), C, B * S, i == 0, i == n - 1, CancellationToken.None);
            }
            await reader;
        });
        Assert.True(e.Transient, e.Message);
        await stopping;
        var readerFailure = await Assert.ThrowsAsync<InferenceStreamException>(() => reader);
        Assert.True(readerFailure.Transient);
        // What did arrive is right and in order.
        Assert.InRange(results.Count, 1, n - 1);
        for (int i = 0; i < results.Count; i++)
        {
            Assert.Equal(i, results[i].RequestId);
            TestServer.Close(ExpectedWindows(x, i), results[i].Outputs["witness"], 0);
        }
    }

    [Theory]
    [InlineData(FaultKind.InBandError)]
    [InlineData(FaultKind.Abort)]
    public async Task InjectedStreamFaultsAreTransient(FaultKind kind)
    {
        await using var proxy = await FaultProxy.StartAsync(Endpoint);
        proxy.InjectFaults(0.2, seed: 7, kind);
        var x = Signal(50, 7);
        await using var stream = await InferenceStream.OpenAsync(Options(new InferenceEndpoint(proxy.Address), 509, 3), CancellationToken.None);
        var e = await StreamFails(stream, x, 50);
        Assert.True(e.Transient, e.Message);
        Assert.Contains("injected fault", e.Message);
        // After an in-band error the answers still in flight may be rolled (and broken) too before the client lets go.
        Assert.InRange(proxy.Faults, 1, 3);
        await ReplayAsync(509, x, 50);
    }

    [Fact]
    public async Task DroppedConnectionIsTransient()
    {
        await using var proxy = await FaultProxy.StartAsync(Endpoint);
        var x = Signal(10, 8);
        await using var stream = await InferenceStream.OpenAsync(Options(new InferenceEndpoint(proxy.Address), 510, 2), CancellationToken.None);
        await stream.SendAsync(0, Update(x, 0), C, B * S, true, false, CancellationToken.None);
        var clock = Stopwatch.StartNew();
        while (proxy.Responses < 1 && clock.Elapsed < Limit) await Task.Delay(10);
        Assert.Equal(1, proxy.DropAll());
        var e = await Assert.ThrowsAsync<InferenceStreamException>(async () =>
        {
            for (int i = 1; i < 10; i++) await stream.SendAsync(i, Update(x, i), C, B * S, false, i == 9, CancellationToken.None);
            await foreach (var _ in stream.ReadAllAsync(CancellationToken.None)) { }
        });
        Assert.True(e.Transient, e.Message);
        await ReplayAsync(510, x, 10);
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    [Fact]
    public async Task ReadinessWaitsForAServerThatStartsLater()
    {
        int port = FreePort();
        var log = new List<string>();
        var progress = new Progress<string>(l => { lock (log) log.Add(l); });
        var clock = Stopwatch.StartNew();
        var wait = ServerReadiness.WaitAsync(new InferenceEndpoint($"127.0.0.1:{port}"), ModelRepositoryBuilder.StreamSnapshotter, Limit, progress, CancellationToken.None);
        await Task.Delay(1500);
        Assert.False(wait.IsCompleted);
        await using var s = await TestServer.StartAsync(o => o with { GrpcPort = port }, edit: m => m.RemoveAll(r => r.Name != ModelRepositoryBuilder.StreamSnapshotter));
        var started = clock.Elapsed;
        await wait.WaitAsync(Limit);
        Assert.True(clock.Elapsed >= started);
        // Backoff: a handful of probes in 1.5 s, not hundreds (on a loaded machine the first probe alone can take most of
        // the 1.5 s, so only one wait is certain); each wait logged with its reason.
        lock (log)
        {
            var waits = log.Where(l => l.Contains("not ready")).ToList();
            Assert.InRange(waits.Count, 1, 20);
            Assert.All(waits, l => Assert.Contains($"127.0.0.1:{port}", l));
        }
    }

    [Fact]
    public async Task ReadinessFailsCleanlyAtTheDeadline()
    {
        int port = FreePort();
        var clock = Stopwatch.StartNew();
        var e = await Assert.ThrowsAsync<TimeoutException>(() =>
            ServerReadiness.WaitAsync(new InferenceEndpoint($"127.0.0.1:{port}"), "gwe2e", TimeSpan.FromSeconds(1.5), null, CancellationToken.None));
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(8));
        Assert.Contains($"127.0.0.1:{port}", e.Message);
        Assert.Contains("gwe2e", e.Message);
        // The last probe's reason: refused (Unavailable), or, on a loaded machine, cut by the little time left (DeadlineExceeded).
        Assert.Matches("Unavailable|DeadlineExceeded", e.Message);
        // A ready server without the model: no point waiting.
        var unknown = await Assert.ThrowsAsync<InferenceStreamException>(() =>
            ServerReadiness.WaitAsync(Endpoint, "no-such-model", Limit, null, CancellationToken.None));
        Assert.False(unknown.Transient);
        Assert.Equal(StatusCode.NotFound, unknown.Status);
    }

    [Fact]
    public async Task ServerAddressPassesHostPortAndWaitsForANamedServer()
    {
        Assert.Equal("10.0.0.7:8001", await ServerAddress.ResolveAsync("10.0.0.7:8001", "/nonexistent", TimeSpan.Zero, CancellationToken.None));
        Assert.Equal("[::1]:8001", await ServerAddress.ResolveAsync("[::1]:8001", "/nonexistent", TimeSpan.Zero, CancellationToken.None));
        await Assert.ThrowsAsync<BadInputException>(() => ServerAddress.ResolveAsync("host:notaport", "/nonexistent", TimeSpan.Zero, CancellationToken.None));
        await Assert.ThrowsAsync<BadInputException>(() => ServerAddress.ResolveAsync("../server0", "/nonexistent", TimeSpan.Zero, CancellationToken.None));

        var dir = Path.Combine(Path.GetTempPath(), "gwrepro-rdv-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var resolve = ServerAddress.ResolveAsync("server3", dir, Limit, CancellationToken.None);
            await Task.Delay(400);
            Assert.False(resolve.IsCompleted);
            using (var rdv = Rendezvous.Open(dir)) await rdv.PublishAsync("server3", "127.0.0.1", 8123, CancellationToken.None);
            Assert.Equal("127.0.0.1:8123", await resolve.WaitAsync(Limit));

            var clock = Stopwatch.StartNew();
            var e = await Assert.ThrowsAsync<TimeoutException>(() => ServerAddress.ResolveAsync("server4", dir, TimeSpan.FromSeconds(0.5), CancellationToken.None));
            Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(5));
            Assert.Contains("servers/server4", e.Message);

            await File.WriteAllTextAsync(Path.Combine(dir, "servers", "server5"), "garbage\n");
            var bad = await Assert.ThrowsAsync<BadInputException>(() => ServerAddress.ResolveAsync("server5", dir, Limit, CancellationToken.None));
            Assert.Contains("servers/server5", bad.Message);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
