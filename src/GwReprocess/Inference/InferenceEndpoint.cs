using System.Net.Http;
using Grpc.Core;
using Grpc.Net.Client;

namespace GwReprocess.Inference;

/// <summary>Where an inference server listens: host:port, plus an optional bearer token and TLS.</summary>
/// <param name="Address">host:port of the gRPC endpoint (e.g. <c>127.0.0.1:8001</c>).</param>
/// <param name="Token">Sent as <c>authorization: Bearer &lt;token&gt;</c> on every call when set (gwrepro serve --token).</param>
/// <param name="Tls">https instead of plaintext HTTP/2 (the server certificate is checked against the system's trust store).</param>
public sealed record InferenceEndpoint(string Address, string? Token = null, bool Tls = false)
{
    /// <summary>Triton's message limit in both directions (grpc::ChannelArguments set to INT32_MAX by Triton and tritonclient).</summary>
    public const int MaxMessageBytes = int.MaxValue;

    /// <summary>The endpoint as a URI (http:// or https://).</summary>
    public Uri Uri => new((Tls ? "https://" : "http://") + Address);

    /// <summary>A fresh channel: INT32_MAX message limits, HTTP/2 keep-alive pings so that a dead peer is noticed within seconds.</summary>
    /// <remarks>One channel per stream or readiness probe: a channel that has seen the server die backs off its reconnects for up to minutes, a new one dials at once.</remarks>
    public GrpcChannel CreateChannel() => GrpcChannel.ForAddress(Uri, new GrpcChannelOptions
    {
        MaxReceiveMessageSize = MaxMessageBytes,
        MaxSendMessageSize = MaxMessageBytes,
        HttpHandler = new SocketsHttpHandler
        {
            EnableMultipleHttp2Connections = true,
            ConnectTimeout = TimeSpan.FromSeconds(10),
            KeepAlivePingDelay = TimeSpan.FromSeconds(10),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(10),
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests,
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
        },
        DisposeHttpClient = true,
    });

    /// <summary>Call headers: the bearer token when one is set.</summary>
    public Metadata Headers()
    {
        var m = new Metadata();
        if (Token is not null) m.Add("authorization", "Bearer " + Token);
        return m;
    }

    /// <summary>Never prints the token.</summary>
    public override string ToString() => $"{Uri}{(Token is null ? "" : " (bearer token)")}";
}
