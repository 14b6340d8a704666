using System.Collections.Concurrent;
using System.Net;
using System.Runtime.CompilerServices;
using Grpc.Core;
using GwReprocess.Inference;
using Inference;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace GwReprocess.Server.Tests;

/// <summary>How the proxy breaks streams.</summary>
public enum FaultKind
{
    /// <summary>Replace the answer with an in-band <c>error_message</c> (Triton's default way of reporting a failed stream request).</summary>
    InBandError,
    /// <summary>End the stream with gRPC status Unavailable.</summary>
    Abort,
    /// <summary>Either, half and half.</summary>
    Mixed,
}

/// <summary>A loopback gRPC proxy for tests: forwards <c>inference.GRPCInferenceService</c> to a real server, counts what crosses it, and breaks streams on demand.</summary>
/// <remarks>
/// Faults are decided per answer with a seeded RNG, so a run's faults are reproducible. Each forwarded call dials the
/// upstream on a fresh channel, so a restarted server (same or new <see cref="Upstream"/>) is reached at once.
/// </remarks>
public sealed class FaultProxy : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<HttpContext, byte> _calls = new();
    private readonly ConcurrentDictionary<long, DateTimeOffset> _firstRequests = new();
    private readonly object _rngLock = new();
    private Random _rng = new(0);
    private double _faultRate;
    private FaultKind _faultKind;
    private TaskCompletionSource _gate = Completed();
    private long _requests, _responses, _faults, _maxOutstanding, _streams;

    private FaultProxy(WebApplication app, InferenceEndpoint upstream)
    {
        _app = app;
        Upstream = upstream;
    }

    /// <summary>Starts a proxy on 127.0.0.1 (a free port) in front of <paramref name="upstream"/>.</summary>
    public static async Task<FaultProxy> StartAsync(InferenceEndpoint upstream)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc(o => { o.MaxReceiveMessageSize = null; o.MaxSendMessageSize = null; });
        var owner = new StrongBox<FaultProxy>();
        builder.Services.AddSingleton(owner);
        var app = builder.Build();
        var proxy = owner.Value = new FaultProxy(app, upstream);
        app.MapGrpcService<ProxyService>();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        proxy.Port = new Uri(address).Port;
        return proxy;
    }

    /// <summary>The server the proxy forwards to; may be changed while running (a restarted server).</summary>
    public InferenceEndpoint Upstream { get; set; }

    /// <summary>The proxy's port on 127.0.0.1.</summary>
    public int Port { get; private set; }

    /// <summary>host:port of the proxy.</summary>
    public string Address => $"127.0.0.1:{Port}";

    /// <summary>Stream requests forwarded upstream.</summary>
    public long Requests => Interlocked.Read(ref _requests);

    /// <summary>Stream answers forwarded to the client (not counting injected faults).</summary>
    public long Responses => Interlocked.Read(ref _responses);

    /// <summary>Faults injected so far.</summary>
    public long Faults => Interlocked.Read(ref _faults);

    /// <summary>Stream calls seen.</summary>
    public long Streams => Interlocked.Read(ref _streams);

    /// <summary>The most requests any one stream had forwarded and not yet answered to the client.</summary>
    public long MaxOutstanding => Interlocked.Read(ref _maxOutstanding);

    /// <summary>When the first stream request of each sequence id (int64 <c>sequence_id</c>) reached the proxy: when its client began streaming.</summary>
    public IReadOnlyDictionary<long, DateTimeOffset> FirstRequests => _firstRequests;

    /// <summary>From now on, break each stream answer with probability <paramref name="rate"/> (RNG seeded with <paramref name="seed"/>).</summary>
    public void InjectFaults(double rate, int seed, FaultKind kind = FaultKind.Mixed)
    {
        lock (_rngLock)
        {
            _rng = new Random(seed);
            _faultRate = rate;
            _faultKind = kind;
        }
    }

    /// <summary>Holds every stream answer until <see cref="ResumeResponses"/>.</summary>
    public void PauseResponses() => Interlocked.CompareExchange(ref _gate, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), _gate);

    /// <summary>Lets held answers through.</summary>
    public void ResumeResponses() => Interlocked.Exchange(ref _gate, Completed()).TrySetResult();

    /// <summary>Drops every open call's connection (as a network partition or a dead proxy would).</summary>
    public int DropAll()
    {
        int n = 0;
        foreach (var c in _calls.Keys)
        {
            // A call can end (and Kestrel dispose its context) between the listing and the abort: it is gone already.
            try { c.Abort(); }
            catch (ObjectDisposedException) { continue; }
            n++;
        }
        return n;
    }

    public async ValueTask DisposeAsync()
    {
        ResumeResponses();
        DropAll();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private static TaskCompletionSource Completed()
    {
        var t = new TaskCompletionSource();
        t.SetResult();
        return t;
    }

    private FaultKind? Roll()
    {
        lock (_rngLock)
        {
            if (_faultRate <= 0 || _rng.NextDouble() >= _faultRate) return null;
            return _faultKind == FaultKind.Mixed ? (_rng.Next(2) == 0 ? FaultKind.InBandError : FaultKind.Abort) : _faultKind;
        }
    }

    private static readonly HashSet<string> HopHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "te", "content-type", "user-agent", "host", "grpc-accept-encoding", "grpc-encoding", "grpc-timeout", "accept-encoding",
    };

    private static Metadata Forwarded(Metadata incoming)
    {
        var m = new Metadata();
        foreach (var e in incoming)
            if (!e.Key.StartsWith(':') && !HopHeaders.Contains(e.Key)) m.Add(e);
        return m;
    }

    private async Task<T> UnaryAsync<T>(ServerCallContext context, Func<GRPCInferenceService.GRPCInferenceServiceClient, Metadata, CancellationToken, AsyncUnaryCall<T>> call)
    {
        var http = context.GetHttpContext();
        _calls[http] = 0;
        try
        {
            using var channel = Upstream.CreateChannel();
            try { return await call(new GRPCInferenceService.GRPCInferenceServiceClient(channel), Forwarded(context.RequestHeaders), context.CancellationToken); }
            catch (RpcException e) { throw new RpcException(e.Status); }
        }
        finally { _calls.TryRemove(http, out _); }
    }

    private async Task StreamAsync(IAsyncStreamReader<ModelInferRequest> requests, IServerStreamWriter<ModelStreamInferResponse> responses, ServerCallContext context)
    {
        Interlocked.Increment(ref _streams);
        var http = context.GetHttpContext();
        _calls[http] = 0;
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
        using var channel = Upstream.CreateChannel();
        using var call = new GRPCInferenceService.GRPCInferenceServiceClient(channel).ModelStreamInfer(Forwarded(context.RequestHeaders), cancellationToken: cts.Token);
        long outstanding = 0;
        var up = Task.Run(async () =>
        {
            await foreach (var r in requests.ReadAllAsync(cts.Token))
            {
                if (r.Parameters.TryGetValue("sequence_id", out var id) && id.ParameterChoiceCase == InferParameter.ParameterChoiceOneofCase.Int64Param)
                    _firstRequests.TryAdd(id.Int64Param, DateTimeOffset.UtcNow);
                await call.RequestStream.WriteAsync(r, cts.Token);
                Interlocked.Increment(ref _requests);
                long now = Interlocked.Increment(ref outstanding);
                long max;
                while (now > (max = Interlocked.Read(ref _maxOutstanding)) && Interlocked.CompareExchange(ref _maxOutstanding, now, max) != max) { }
            }
            await call.RequestStream.CompleteAsync();
        }, cts.Token);
        try
        {
            await foreach (var r in call.ResponseStream.ReadAllAsync(cts.Token))
            {
                await Volatile.Read(ref _gate).Task.WaitAsync(cts.Token);
                switch (Roll())
                {
                    case FaultKind.InBandError:
                        Interlocked.Increment(ref _faults);
                        await responses.WriteAsync(new ModelStreamInferResponse
                        {
                            ErrorMessage = "injected fault (FaultProxy): in-band error", InferResponse = new ModelInferResponse { Id = r.InferResponse?.Id ?? "" },
                        });
                        continue;
                    case FaultKind.Abort:
                        Interlocked.Increment(ref _faults);
                        throw new RpcException(new Status(StatusCode.Unavailable, "injected fault (FaultProxy): stream aborted"));
                }
                // Counted before it is forwarded: once the client has it, it may send its next request, which the
                // loop above counts at once (decrementing after the write could count that one as a fifth in flight).
                Interlocked.Increment(ref _responses);
                Interlocked.Decrement(ref outstanding);
                await responses.WriteAsync(r);
            }
            await up;
        }
        catch (RpcException e) when (!e.Status.Detail.StartsWith("injected fault", StringComparison.Ordinal))
        {
            throw new RpcException(e.Status);
        }
        finally
        {
            await cts.CancelAsync();
            try { await up; } catch (Exception) { /* the client or upstream went away; the status above says why */ }
            _calls.TryRemove(http, out _);
        }
    }

    /// <summary>The forwarding service; Kestrel creates it per call.</summary>
    private sealed class ProxyService(StrongBox<FaultProxy> owner) : GRPCInferenceService.GRPCInferenceServiceBase
    {
        private readonly FaultProxy _proxy = owner.Value!;

        public override Task<ServerLiveResponse> ServerLive(ServerLiveRequest request, ServerCallContext context) =>
            _proxy.UnaryAsync(context, (c, h, ct) => c.ServerLiveAsync(request, h, cancellationToken: ct));

        public override Task<ServerReadyResponse> ServerReady(ServerReadyRequest request, ServerCallContext context) =>
            _proxy.UnaryAsync(context, (c, h, ct) => c.ServerReadyAsync(request, h, cancellationToken: ct));

        public override Task<ModelReadyResponse> ModelReady(ModelReadyRequest request, ServerCallContext context) =>
            _proxy.UnaryAsync(context, (c, h, ct) => c.ModelReadyAsync(request, h, cancellationToken: ct));

        public override Task<ServerMetadataResponse> ServerMetadata(ServerMetadataRequest request, ServerCallContext context) =>
            _proxy.UnaryAsync(context, (c, h, ct) => c.ServerMetadataAsync(request, h, cancellationToken: ct));

        public override Task<RepositoryIndexResponse> RepositoryIndex(RepositoryIndexRequest request, ServerCallContext context) =>
            _proxy.UnaryAsync(context, (c, h, ct) => c.RepositoryIndexAsync(request, h, cancellationToken: ct));

        public override Task<ModelMetadataResponse> ModelMetadata(ModelMetadataRequest request, ServerCallContext context) =>
            _proxy.UnaryAsync(context, (c, h, ct) => c.ModelMetadataAsync(request, h, cancellationToken: ct));

        public override Task<ModelConfigResponse> ModelConfig(ModelConfigRequest request, ServerCallContext context) =>
            _proxy.UnaryAsync(context, (c, h, ct) => c.ModelConfigAsync(request, h, cancellationToken: ct));

        public override Task<ModelStatisticsResponse> ModelStatistics(ModelStatisticsRequest request, ServerCallContext context) =>
            _proxy.UnaryAsync(context, (c, h, ct) => c.ModelStatisticsAsync(request, h, cancellationToken: ct));

        public override Task<ModelInferResponse> ModelInfer(ModelInferRequest request, ServerCallContext context) =>
            _proxy.UnaryAsync(context, (c, h, ct) => c.ModelInferAsync(request, h, cancellationToken: ct));

        public override Task ModelStreamInfer(IAsyncStreamReader<ModelInferRequest> requestStream, IServerStreamWriter<ModelStreamInferResponse> responseStream, ServerCallContext context) =>
            _proxy.StreamAsync(requestStream, responseStream, context);
    }
}
