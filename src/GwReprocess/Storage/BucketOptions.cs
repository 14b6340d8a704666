namespace GwReprocess.Storage;

/// <summary>How to reach an S3-protocol store; every field is optional and falls back to the standard AWS environment.</summary>
/// <remarks>
/// Endpoint: <see cref="Endpoint"/>, else <c>AWS_ENDPOINT_URL_S3</c>, else <c>AWS_ENDPOINT_URL</c> (s3:// only), else AWS
/// (s3://) or <c>https://storage.googleapis.com</c> (gs://, or <c>GWREPRO_GCS_ENDPOINT</c>). Credentials: explicit keys, else for gs://
/// <c>GWREPRO_GCS_HMAC_ACCESS_ID</c>/<c>GWREPRO_GCS_HMAC_SECRET</c>, else <c>AWS_ACCESS_KEY_ID</c>/<c>AWS_SECRET_ACCESS_KEY</c>
/// (<c>AWS_SESSION_TOKEN</c>), else the shared profile (<c>AWS_PROFILE</c>, default "default").
/// </remarks>
public sealed record BucketOptions
{
    /// <summary>The service URL, e.g. <c>http://127.0.0.1:9000</c>; null takes it from the environment.</summary>
    public string? Endpoint { get; init; }

    /// <summary>The signing region; null takes <c>AWS_REGION</c>/<c>AWS_DEFAULT_REGION</c>/the profile's, else us-east-1 (s3) or auto (gs).</summary>
    public string? Region { get; init; }

    /// <summary>Path-style addressing (<c>endpoint/bucket/key</c>); null means on for custom endpoints, off for AWS and Cloud Storage.</summary>
    public bool? PathStyle { get; init; }

    /// <summary>Explicit access key id (tests, tools); null uses the credential chain.</summary>
    public string? AccessKeyId { get; init; }

    /// <summary>Explicit secret key; never printed.</summary>
    public string? SecretAccessKey { get; init; }

    /// <summary>Send unsigned requests (public buckets), like <c>aws --no-sign-request</c>.</summary>
    public bool Anonymous { get; init; }

    /// <summary>Objects larger than this go up as multipart uploads.</summary>
    public int MultipartThreshold { get; init; } = 16 << 20;

    /// <summary>Part size of multipart uploads (S3's minimum is 5 MiB except for the last part).</summary>
    public int PartSize { get; init; } = 8 << 20;

    /// <summary>Parts uploaded at once; memory in flight is about this times <see cref="PartSize"/>.</summary>
    public int UploadConcurrency { get; init; } = 8;

    /// <summary>Attempts per request, including the first, on throttling, 5xx and connection errors.</summary>
    public int MaxAttempts { get; init; } = 5;

    /// <summary>The first retry waits up to this long (full jitter), doubling each attempt up to <see cref="MaxRetryDelay"/>.</summary>
    public TimeSpan BaseRetryDelay { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>The cap of a single retry delay.</summary>
    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>Environment lookup; tests replace it to avoid touching the process environment.</summary>
    public Func<string, string?> Environment { get; init; } = System.Environment.GetEnvironmentVariable;

    public override string ToString() =>
        $"endpoint={Endpoint ?? "(environment)"}, region={Region ?? "(environment)"}, pathStyle={PathStyle?.ToString() ?? "auto"}";
}
