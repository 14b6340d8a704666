using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Grpc.Core;
using Grpc.Core.Interceptors;
using GwReprocess.Server.Execution;
using GwReprocess.Server.Metrics;
using GwReprocess.Server.Protocol;
using GwReprocess.Server.Repository;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace GwReprocess.Server.Hosting;

/// <summary>The running server: models loaded, gRPC (HTTP/2), HTTP/REST and metrics listeners up, repository polling and the summary log going.</summary>
public sealed class InferenceServer : IAsyncDisposable
{
    private readonly WebApplication[] _apps;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _background;
    private readonly ModelManager _models;
    private readonly Action<string> _log;
    private readonly TransportPriority? _priority;

    private InferenceServer(InferenceCore core, WebApplication[] apps, int[] ports, string host, ServerOptions options, Action<string> log, TransportPriority? priority)
    {
        _priority = priority;
        Core = core;
        _models = core.Models;
        _apps = apps;
        GrpcPort = ports[0];
        HttpPort = ports[1];
        MetricsPort = ports[2];
        Host = host;
        _log = log;
        _background = Task.WhenAll(PollAsync(options.RepositoryPollSeconds), SummaryAsync(options.SummaryInterval));
    }

    public InferenceCore Core { get; }

    public string Host { get; }

    public int GrpcPort { get; }

    public int HttpPort { get; }

    public int MetricsPort { get; }

    /// <summary>Loads the repository (unless explicit model control) and starts listening; ports 0 become free ports.</summary>
    public static async Task<InferenceServer> StartAsync(ServerOptions options, Action<string> log, CancellationToken cancellationToken)
    {
        // Before any thread is lowered: model threads are started by this spawner and take its priority.
        ModelThreads.EnsureStarted();
        if (TransportPriority.Check(options.TransportNice) is { } why) throw new BadInputException(why);
        var store = Store(options.ModelRepository);
        var nvml = NvmlGpuReadings.TryOpen();
        var gpus = GpuEnvironment.Detect(nvml);
        log($"{GpuEnvironment.BuildDescription()}; " + (gpus.GpusUsable
            ? $"GPUs: {string.Join(", ", gpus.Visible.Select((d, i) => $"{i} = {d.Uuid}{(d.Name.Length > 0 ? " " + d.Name : "")}"))} ({gpus.Visibility})"
            : $"no GPU: {gpus.Unusable ?? $"none visible ({gpus.Visibility})"}"));
        var models = new ModelManager(store, options.ModelControl,
            new OnnxSessionSettings(options.IntraOpThreads, options.InterOpThreads, options.AllowCpuFallback) { Gpus = gpus }, log);
        var core = new InferenceCore(models);
        if (options.ModelControl == ModelControlMode.None) await models.LoadAllAsync(cancellationToken).ConfigureAwait(false);
        var address = ParseHost(options.Host);
        X509Certificate2? certificate = null;
        if (options.TlsCertificate is not null || options.TlsKey is not null)
        {
            if (options.TlsCertificate is null || options.TlsKey is null) throw new BadInputException("--tls-cert and --tls-key go together");
            try { certificate = X509Certificate2.CreateFromPemFile(options.TlsCertificate, options.TlsKey); }
            catch (Exception e) when (e is CryptographicException or IOException)
            {
                throw new BadInputException($"{options.TlsCertificate}: cannot load the TLS certificate and key: {e.Message}", e);
            }
        }
        var metrics = new MetricsExporter(models, nvml, nvml is null ? null : CudaVisibleDevices.Apply(nvml.Devices, gpus.CudaVisibleDevicesValue));
        var apps = new List<WebApplication>();
        try
        {
            apps.Add(Build(options, address, options.GrpcPort, HttpProtocols.Http2, certificate, app =>
            {
                app.MapGrpcService<TritonGrpcService>();
                app.MapGrpcService<HealthService>();
            }, services =>
            {
                services.AddSingleton(core);
                services.AddSingleton(new TokenInterceptor(options.Token));
                services.AddGrpc(o =>
                {
                    o.MaxReceiveMessageSize = options.MaxMessageBytes;
                    o.MaxSendMessageSize = options.MaxMessageBytes;
                    o.EnableDetailedErrors = false;
                    o.Interceptors.Add<TokenInterceptor>();
                });
            }, requireToken: null, log));
            apps.Add(Build(options, address, options.HttpPort, HttpProtocols.Http1AndHttp2, certificate, app => HttpEndpoints.Map(app, core), _ => { }, options.Token, log));
            apps.Add(Build(options, address, options.MetricsPort, HttpProtocols.Http1AndHttp2, certificate, app =>
            {
                app.MapGet("/metrics", async (HttpContext ctx) =>
                {
                    ctx.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
                    await metrics.WriteAsync(ctx.Response.Body, ctx.RequestAborted).ConfigureAwait(false);
                });
            }, _ => { }, options.Token, log));
            var ports = new int[3];
            for (int i = 0; i < apps.Count; i++)
            {
                await apps[i].StartAsync(cancellationToken).ConfigureAwait(false);
                var addr = apps[i].Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
                ports[i] = new Uri(addr.Replace("[::]", "localhost", StringComparison.Ordinal)).Port;
            }
            TransportPriority? priority = null;
            if (options.TransportNice > 0)
            {
                priority = TransportPriority.Start(options.TransportNice, log);
                log($"transport threads kept at nice {priority.Target}, model threads ({InstanceThreadNames.Prefix}*) at nice {priority.Base}");
            }
            core.MarkReady(true);
            string scheme = certificate is null ? "" : " (TLS)";
            log($"listening on {address}: gRPC {ports[0]}, HTTP {ports[1]}, metrics {ports[2]}{scheme}; {models.ReadyModelCount} model(s) ready from {store.Location}" +
                (options.Token is null ? "" : "; bearer token required"));
            return new InferenceServer(core, [.. apps], ports, options.Host, options, log, priority);
        }
        catch
        {
            foreach (var a in apps) await a.DisposeAsync().ConfigureAwait(false);
            await models.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>A local directory or file:// URI, or a bucket prefix (s3://, gs://) read through the storage module.</summary>
    public static IModelRepositoryStore Store(string repository)
    {
        if (!GwReprocess.IO.Location.TryParse(repository, out var location, out _))
            throw new BadInputException($"{repository}: model repository must be a directory, file://, s3:// or gs:// location");
        if (location.Scheme is "s3" or "gs")
        {
            var (bucket, prefix) = GwReprocess.Storage.BucketFactory.Open(repository);
            return new BucketModelRepositoryStore(bucket, prefix);
        }
        repository = location.LocalPath ?? throw new BadInputException($"{repository}: a file:// URL on another host is not a local model repository");
        if (!Directory.Exists(repository)) throw new BadInputException($"{repository}: model repository directory does not exist");
        return new LocalModelRepositoryStore(repository);
    }

    private static IPAddress ParseHost(string host) => host switch
    {
        "localhost" => IPAddress.Loopback,
        "*" or "0.0.0.0" => IPAddress.Any,
        "::" => IPAddress.IPv6Any,
        _ => IPAddress.TryParse(host, out var a) ? a : throw new BadInputException($"--host {host}: not an IP address (use 127.0.0.1, 0.0.0.0 or an interface address)"),
    };

    /// <summary>Kestrel's buffers for every listener of the process.</summary>
    private static readonly LargeBlockMemoryPoolFactory BlockPools = new();

    private static WebApplication Build(ServerOptions options, IPAddress address, int port, HttpProtocols protocols, X509Certificate2? certificate,
        Action<WebApplication> map, Action<IServiceCollection> services, string? requireToken, Action<string> log)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(new ServerLogProvider(log)).SetMinimumLevel(LogLevel.Error);
        // gRPC is HTTP/2 only, where Kestrel starts every request on the thread pool and resumes handlers reading a body there too:
        // running the connection's frame loop inline on the thread that completed the socket read cannot put a handler (or an ONNX
        // Runtime run) on that thread, and saves two to three thread-pool hand-offs per 64 KiB of a tensor. HTTP/1.1 listeners
        // would run handlers inline, so they keep Kestrel's default.
        if (protocols == HttpProtocols.Http2)
            builder.WebHost.UseSockets(o => o.UnsafePreferInlineScheduling = true);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = options.MaxMessageBytes;
            // Large windows so a stream of multi-MB tensors is not throttled by HTTP/2 flow control.
            k.Limits.Http2.InitialConnectionWindowSize = 32 * 1024 * 1024;
            k.Limits.Http2.InitialStreamWindowSize = 16 * 1024 * 1024;
            k.Limits.Http2.MaxFrameSize = 1024 * 1024;
            k.Limits.Http2.MaxStreamsPerConnection = 1000;
            k.Listen(address, port, l =>
            {
                l.Protocols = protocols;
                if (certificate is not null) l.UseHttps(certificate);
            });
        });
        // Registered after UseKestrel's default (a TryAdd), so Kestrel's transport and HTTP/2 pipes take their buffers from it.
        builder.Services.AddSingleton<IMemoryPoolFactory<byte>>(BlockPools);
        services(builder.Services);
        var app = builder.Build();
        app.Use(async (ctx, next) =>
        {
            try { await next(ctx).ConfigureAwait(false); }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                log($"error on {ctx.Request.Method} {ctx.Request.Path}: {e.GetType().Name}: {e.Message}");
                throw;
            }
        });
        if (requireToken is not null)
            app.Use(async (ctx, next) =>
            {
                if (!TokenInterceptor.Matches(requireToken, ctx.Request.Headers.Authorization.ToString()))
                {
                    ctx.Response.StatusCode = 401;
                    ctx.Response.ContentType = "application/json";
                    await ctx.Response.WriteAsync("{\"error\":\"missing or wrong bearer token\"}").ConfigureAwait(false);
                    return;
                }
                await next(ctx).ConfigureAwait(false);
            });
        map(app);
        return app;
    }

    private async Task PollAsync(int seconds)
    {
        if (seconds <= 0) return;
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(seconds));
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                try { await _models.PollAsync(_stop.Token).ConfigureAwait(false); }
                catch (Exception e) when (e is BadInputException or IOException) { _log($"repository poll failed: {e.Message}"); }
            }
        }
        catch (OperationCanceledException) { }
    }

    private async Task SummaryAsync(TimeSpan interval)
    {
        long lastOk = 0, lastFail = 0, lastCount = 0;
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                long ok = 0, fail = 0, count = 0;
                foreach (var v in _models.ReadyVersions.Where(v => v is not Scheduling.EnsembleModelVersion))
                {
                    ok += v.Statistics.Success;
                    fail += v.Statistics.Failure;
                    count += v.Statistics.InferenceCount;
                }
                _log($"summary: {_models.ReadyModelCount} model(s) ready; last {interval.TotalSeconds:F0} s: {ok - lastOk} model requests ok, {fail - lastFail} failed, " +
                     $"{(count - lastCount) / interval.TotalSeconds:F1} inferences/s");
                (lastOk, lastFail, lastCount) = (ok, fail, count);
            }
        }
        catch (OperationCanceledException) { }
    }

    /// <summary>Stops accepting, lets in-flight calls finish (up to <paramref name="grace"/>), then unloads.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        Core.MarkReady(false);
        await _stop.CancelAsync().ConfigureAwait(false);
        using var cts = new CancellationTokenSource(grace);
        foreach (var a in _apps)
        {
            try { await a.StopAsync(cts.Token).ConfigureAwait(false); }
            catch (OperationCanceledException) { }
        }
        await _background.ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested) await StopAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        foreach (var a in _apps) await a.DisposeAsync().ConfigureAwait(false);
        await _models.DisposeAsync().ConfigureAwait(false);
        Core.SharedMemory.Dispose();
        if (_priority is not null) await _priority.DisposeAsync().ConfigureAwait(false);
        _stop.Dispose();
    }
}

/// <summary>Requires <c>authorization: Bearer &lt;token&gt;</c> on every gRPC call when a token is configured.</summary>
public sealed class TokenInterceptor(string? token) : Interceptor
{
    /// <summary>Constant-time comparison of the Authorization header with the expected bearer token.</summary>
    public static bool Matches(string? token, string? header)
    {
        if (token is null) return true;
        var expected = Encoding.UTF8.GetBytes("Bearer " + token);
        var given = Encoding.UTF8.GetBytes(header ?? "");
        return CryptographicOperations.FixedTimeEquals(expected, given);
    }

    private void Check(ServerCallContext context)
    {
        if (!Matches(token, context.RequestHeaders.GetValue("authorization")))
            throw new RpcException(new Status(StatusCode.Unauthenticated, "missing or wrong bearer token"));
    }

    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(request, context);
    }

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(requestStream, responseStream, context);
    }

    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context,
        ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(requestStream, context);
    }

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context,
        ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(request, responseStream, context);
    }
}
