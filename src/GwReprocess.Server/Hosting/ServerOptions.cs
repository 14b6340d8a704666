using GwReprocess.Server.Repository;

namespace GwReprocess.Server.Hosting;

/// <summary>Everything <c>gwrepro serve</c> takes; defaults are Triton's ports and a loopback-only listener.</summary>
public sealed record ServerOptions
{
    public required string ModelRepository { get; init; }

    /// <summary>Address to listen on (127.0.0.1 unless the operator opens it up).</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>gRPC port (HTTP/2); 0 picks a free port.</summary>
    public int GrpcPort { get; init; } = 8001;

    public int HttpPort { get; init; } = 8000;

    public int MetricsPort { get; init; } = 8002;

    /// <summary>Seconds between repository polls; 0 = no polling.</summary>
    public int RepositoryPollSeconds { get; init; }

    public ModelControlMode ModelControl { get; init; } = ModelControlMode.None;

    public string? TlsCertificate { get; init; }

    public string? TlsKey { get; init; }

    /// <summary>When set, every call must carry <c>authorization: Bearer &lt;token&gt;</c>.</summary>
    public string? Token { get; init; }

    public bool AllowCpuFallback { get; init; }

    public int IntraOpThreads { get; init; }

    public int InterOpThreads { get; init; }

    /// <summary>gRPC send/receive limit and HTTP body limit, bytes (Triton: INT32_MAX).</summary>
    public int MaxMessageBytes { get; init; } = int.MaxValue;

    /// <summary>Nice levels by which threads that do not run models are kept below the model threads (Linux; 0 = off).</summary>
    public int TransportNice { get; init; }

    /// <summary>Interval of the summary log line.</summary>
    public TimeSpan SummaryInterval { get; init; } = TimeSpan.FromMinutes(1);
}
