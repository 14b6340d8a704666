using System.Net.Http;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Grpc.Net.Client;

namespace GwReprocess.Inference;

/// <summary>Where an inference server listens: host:port, plus an optional bearer token and TLS.</summary>
/// <param name="Address">host:port of the gRPC endpoint (e.g. <c>127.0.0.1:8001</c>).</param>
/// <param name="Token">Sent as <c>authorization: Bearer &lt;token&gt;</c> on every call when set (gwrepro serve --token).</param>
/// <param name="Tls">https instead of plaintext HTTP/2 (the server certificate is checked against the system's trust store, or <see cref="TrustedCa"/>).</param>
public sealed record InferenceEndpoint(string Address, string? Token = null, bool Tls = false)
{
    /// <summary>With <see cref="Tls"/>: the CA certificates the server's chain must end in, instead of the system's trust store (a private CA); null uses the system store.</summary>
    public X509Certificate2Collection? TrustedCa { get; init; }

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
            SslOptions = new SslClientAuthenticationOptions { CertificateChainPolicy = ChainPolicy() },
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

    /// <summary>With <see cref="TrustedCa"/>: chain to those roots only (as grpc's root_certificates and curl --cacert do); the host name is still checked.</summary>
    private X509ChainPolicy? ChainPolicy()
    {
        if (TrustedCa is null) return null;
        var policy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
        policy.CustomTrustStore.AddRange(TrustedCa);
        return policy;
    }

    /// <summary>Reads a CA bundle: every <c>-----BEGIN CERTIFICATE-----</c> block of a PEM file.</summary>
    /// <exception cref="BadInputException">The file is missing, unreadable, or holds no PEM certificate (the message names it).</exception>
    public static X509Certificate2Collection ReadCaBundle(string path)
    {
        var bundle = new X509Certificate2Collection();
        try
        {
            bundle.ImportFromPemFile(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new BadInputException($"{path}: no such CA file", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BadInputException($"{path}: cannot read the CA file: {e.Message}", e);
        }
        catch (CryptographicException e)
        {
            throw new BadInputException($"{path}: not a PEM CA bundle: {e.Message.Split('\n')[0]}", e);
        }
        if (bundle.Count == 0) throw new BadInputException($"{path}: not a PEM CA bundle: no -----BEGIN CERTIFICATE----- block in it");
        return bundle;
    }

    /// <summary>Never prints the token.</summary>
    public override string ToString() => $"{Uri}{(Token is null ? "" : " (bearer token)")}{(TrustedCa is null ? "" : $" (trusting {TrustedCa.Count} given CA certificate(s))")}";
}
