using GwReprocess.Storage;

namespace GwReprocess.Tests.Storage;

/// <summary>One moto server for all S3 tests; records why it could not start instead of failing every test with the same error.</summary>
/// <remarks>
/// Tests call <see cref="Require"/>: without a server they are reported as skipped with the reason, except under
/// CI=true, where a missing S3 server is a failure (CI must not go green by skipping the storage tests).
/// </remarks>
public sealed class S3ServerFixture : IAsyncLifetime
{
    public const string BucketName = "gwrepro-tests";

    private MotoServer? _server;
    private MotoServer? _strict;
    private readonly SemaphoreSlim _strictGate = new(1, 1);

    /// <summary>Why no S3 server is available, or null when one is.</summary>
    public string? Unavailable { get; private set; }

    public string Endpoint => _server?.Endpoint ?? throw new InvalidOperationException("no S3 server");

    public static bool UnderCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    public async Task InitializeAsync()
    {
        try
        {
            _server = await MotoServer.StartAsync();
            using var bucket = (S3Bucket)Open();
            await bucket.CreateAsync();
        }
        catch (Exception e)
        {
            Unavailable = $"no S3 server: {e.Message}";
            _server?.Dispose();
            _server = null;
        }
    }

    /// <summary>Skips the calling test when no server runs (fails it under CI=true).</summary>
    public void Require()
    {
        if (Unavailable is null) return;
        if (UnderCi) throw new InvalidOperationException($"{Unavailable} (CI=true: the S3 tests must run; install moto[server] so moto_server is on PATH)");
        Skip.If(true, Unavailable);
    }

    /// <summary>Test credentials (moto accepts any) and no retries beyond a couple, so failures show quickly.</summary>
    public BucketOptions Options(string? endpoint = null) => new()
    {
        Endpoint = endpoint ?? Endpoint,
        Region = "us-east-1",
        AccessKeyId = "testing-access-key",
        SecretAccessKey = "testing-secret-key",
        MaxAttempts = 3,
        BaseRetryDelay = TimeSpan.FromMilliseconds(20),
        Environment = _ => null,
    };

    /// <summary>Opens the test bucket.</summary>
    public IBucket Open(BucketOptions? options = null) => new S3Bucket(BucketScheme.S3, BucketName, options ?? Options());

    /// <summary>A second moto that checks credentials (INITIAL_NO_AUTH_ACTION_COUNT=0), so unknown keys are denied as on a real store.</summary>
    public async Task<string> StrictEndpointAsync()
    {
        await _strictGate.WaitAsync();
        try
        {
            _strict ??= await MotoServer.StartAsync(new Dictionary<string, string> { ["INITIAL_NO_AUTH_ACTION_COUNT"] = "0" });
            return _strict.Endpoint;
        }
        finally { _strictGate.Release(); }
    }

    public Task DisposeAsync()
    {
        _server?.Dispose();
        _strict?.Dispose();
        return Task.CompletedTask;
    }
}

/// <summary>The xunit collection sharing one moto server.</summary>
[CollectionDefinition(Name)]
public sealed class S3ServerCollection : ICollectionFixture<S3ServerFixture>
{
    public const string Name = "S3 server";
}
