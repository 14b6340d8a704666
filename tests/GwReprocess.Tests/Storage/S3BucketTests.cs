using System.Net;
using System.Text;
using BasicAWSCredentials = Amazon.Runtime.BasicAWSCredentials;
using Amazon.S3;

using GwReprocess.Storage;
using RetryPolicy = GwReprocess.Storage.RetryPolicy;
using S3Bucket = GwReprocess.Storage.S3Bucket;

namespace GwReprocess.Tests.Storage;

/// <summary>The behavioural suite on a real S3 server (moto on loopback), plus what only an object store has.</summary>
[Collection(S3ServerCollection.Name)]
public sealed class S3BucketBehaviourTests(S3ServerFixture server) : BucketBehaviourTests
{
    protected override IBucket OpenBucket()
    {
        server.Require();
        return server.Open();
    }

    protected override async Task<IReadOnlyList<string>> LeftoversAsync(string prefix) =>
        await ((S3Bucket)Bucket).ListPendingUploadsAsync(prefix);

    private AmazonS3Client RawClient() => new(new BasicAWSCredentials("testing-access-key", "testing-secret-key"),
        new AmazonS3Config { ServiceURL = server.Endpoint, ForcePathStyle = true, AuthenticationRegion = "us-east-1" });

    [SkippableFact]
    public async Task ObjectsAboveTheThresholdGoUpInPartsAndBelowInOnePut()
    {
        server.Require();
        using var bucket = server.Open(server.Options() with { MultipartThreshold = 6 << 20, PartSize = 5 << 20 });
        var data = new byte[12 << 20];
        new Random(5).NextBytes(data);
        await bucket.WriteAllBytesAsync(Prefix + "parts.bin", data);
        await bucket.WriteAllBytesAsync(Prefix + "single.bin", data.AsMemory(0, 6 << 20));
        using var raw = RawClient();
        var parts = await raw.GetObjectMetadataAsync(S3ServerFixture.BucketName, Prefix + "parts.bin");
        var single = await raw.GetObjectMetadataAsync(S3ServerFixture.BucketName, Prefix + "single.bin");
        Assert.EndsWith("-3\"", parts.ETag);  // 5 + 5 + 2 MiB
        Assert.Equal(32 + 2, single.ETag.Length);
        Assert.Equal(data, await bucket.ReadAllBytesAsync(Prefix + "parts.bin"));
    }

    [SkippableFact]
    public async Task UnfinishedMultipartUploadsAreSeenByTheLeftoverCheck()
    {
        // The cancelled-write tests rely on this check; make sure it can see an upload left open.
        server.Require();
        using var raw = RawClient();
        var started = await raw.InitiateMultipartUploadAsync(S3ServerFixture.BucketName, Prefix + "open/x.bin");
        Assert.Equal([Prefix + "open/x.bin " + started.UploadId], await LeftoversAsync(Prefix + "open/"));
        await raw.AbortMultipartUploadAsync(S3ServerFixture.BucketName, Prefix + "open/x.bin", started.UploadId);
        Assert.Empty(await LeftoversAsync(Prefix + "open/"));
    }

    [SkippableFact]
    public async Task MissingBucketIsNamedInOneLine()
    {
        server.Require();
        using var bucket = new S3Bucket(BucketScheme.S3, "no-such-bucket-here", server.Options());
        var e = await Assert.ThrowsAsync<BucketNotFoundException>(() => bucket.ListPageAsync(""));
        Assert.Contains("s3://no-such-bucket-here/: no such bucket", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [SkippableFact]
    public async Task DeniedCredentialsAreReportedWithoutTheSecret()
    {
        server.Require();
        string strict = await server.StrictEndpointAsync();
        using var bucket = new S3Bucket(BucketScheme.S3, "gwrepro-denied", server.Options(strict) with
        {
            AccessKeyId = "AKIAUNKNOWNKEY000000",
            SecretAccessKey = "very-secret-value-123",
        });
        var e = await Assert.ThrowsAsync<BucketAccessDeniedException>(() => bucket.ListPageAsync(""));
        Assert.Contains("access denied", e.Message);
        Assert.Contains("InvalidAccessKeyId", e.Message);
        Assert.DoesNotContain("very-secret-value-123", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.Equal(1, bucket.Retry.LastAttempts); // a denial is not retried
    }

    [SkippableFact]
    public async Task GsBucketsGoThroughTheXmlApiPathWithMd5Verification()
    {
        // Cloud Storage mode (no aws-chunked uploads, Content-MD5, MD5 ETag verification) against the same S3 server.
        server.Require();
        using var gs = new S3Bucket(BucketScheme.Gs, S3ServerFixture.BucketName, server.Options() with { PathStyle = true });
        Assert.Equal("gs://gwrepro-tests/", gs.Root.ToString());
        var data = Encoding.UTF8.GetBytes(new string('g', 10_000));
        await ((IBucket)gs).WriteAllBytesAsync(Prefix + "gs.txt", data);
        await using var s = await gs.OpenReadAsync(Prefix + "gs.txt");
        var verifying = Assert.IsType<ChecksumVerifyingStream>(s);
        var ms = new MemoryStream();
        await s.CopyToAsync(ms);
        Assert.Equal(data, ms.ToArray());
        Assert.Equal(ExpectedChecksum("MD5", data), verifying.Expected.Value);
    }

    [SkippableFact]
    public async Task DefaultsComeFromTheStandardEnvironment()
    {
        server.Require();
        var env = new Dictionary<string, string>
        {
            ["AWS_ENDPOINT_URL"] = "http://ignored.invalid:1",
            ["AWS_ENDPOINT_URL_S3"] = server.Endpoint,
            ["AWS_ACCESS_KEY_ID"] = "env-key",
            ["AWS_SECRET_ACCESS_KEY"] = "env-secret",
            ["AWS_REGION"] = "eu-west-1",
        };
        using var bucket = new S3Bucket(BucketScheme.S3, S3ServerFixture.BucketName, new BucketOptions { Environment = k => env.GetValueOrDefault(k) });
        Assert.Equal(server.Endpoint, bucket.Endpoint);
        Assert.Equal("eu-west-1", bucket.Region);
        Assert.True(bucket.PathStyle);
        Assert.Equal("AWS_ACCESS_KEY_ID", bucket.CredentialSource);
        Assert.DoesNotContain("env-secret", bucket.ToString());
        await ((IBucket)bucket).WriteAllBytesAsync(Prefix + "env.txt", "x"u8.ToArray());

        using var gs = new S3Bucket(BucketScheme.Gs, "some-gcs-bucket", new BucketOptions
        {
            Environment = k => k switch { "GWREPRO_GCS_HMAC_ACCESS_ID" => "GOOG1EXAMPLE", "GWREPRO_GCS_HMAC_SECRET" => "hmac-secret", _ => env.GetValueOrDefault(k) },
        });
        Assert.Equal("https://storage.googleapis.com", gs.Endpoint);
        Assert.Equal("GWREPRO_GCS_HMAC_ACCESS_ID", gs.CredentialSource);
        Assert.False(gs.PathStyle);

        var none = Assert.Throws<BucketAccessDeniedException>(() => new S3Bucket(BucketScheme.Gs, "some-gcs-bucket", new BucketOptions
        {
            Environment = k => k == "AWS_PROFILE" ? "gwrepro-no-such-profile" : null,
        }));
        Assert.Contains("GWREPRO_GCS_HMAC_ACCESS_ID", none.Message);
    }
}

/// <summary>What goes over the wire, against a loopback HTTP server that throttles, fails and records on purpose: retries, error lines, preconditions.</summary>
public sealed class S3ProtocolTests
{
    [Fact]
    public async Task ThrottlingAndServerErrorsAreRetriedThenTheAnswerIsUsed()
    {
        int requests = 0;
        await using var fake = await FakeS3.StartAsync(n =>
        {
            Interlocked.Increment(ref requests);
            return n switch
            {
                1 => (503, "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"),
                2 => (500, "<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>"),
                _ => (200, """<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b-retry</Name><Prefix></Prefix><KeyCount>1</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated><Contents><Key>H-H1_X-1-1.gwf</Key><LastModified>2026-01-01T00:00:00.000Z</LastModified><ETag>"0cc175b9c0f1b6a831c399e269772661"</ETag><Size>1</Size><StorageClass>STANDARD</StorageClass></Contents></ListBucketResult>"""),
            };
        });
        var retries = new List<TimeSpan>();
        using var bucket = new S3Bucket(BucketScheme.S3, "b-retry", new BucketOptions
        {
            Endpoint = fake.Endpoint, AccessKeyId = "k", SecretAccessKey = "s", Region = "us-east-1",
            MaxAttempts = 5, BaseRetryDelay = TimeSpan.FromMilliseconds(50), Environment = _ => null,
        });
        var page = await bucket.ListPageAsync("");
        Assert.Equal(3, requests);
        Assert.Equal(3, bucket.Retry.LastAttempts);
        Assert.Equal("H-H1_X-1-1.gwf", Assert.Single(page.Objects).Key);
        Assert.Equal(new ObjectChecksum("MD5", "0cc175b9c0f1b6a831c399e269772661"), page.Objects[0].Checksum);
    }

    [Fact]
    public async Task PersistentServerErrorsGiveUpAfterMaxAttemptsWithOneLine()
    {
        int requests = 0;
        await using var fake = await FakeS3.StartAsync(_ =>
        {
            Interlocked.Increment(ref requests);
            return (503, "<Error><Code>ServiceUnavailable</Code><Message>Service is unable to handle request.\nSecond line.</Message></Error>");
        });
        using var bucket = new S3Bucket(BucketScheme.S3, "b-down", new BucketOptions
        {
            Endpoint = fake.Endpoint, AccessKeyId = "k", SecretAccessKey = "s", Region = "us-east-1",
            MaxAttempts = 4, BaseRetryDelay = TimeSpan.FromMilliseconds(10), Environment = _ => null,
        });
        var e = await Assert.ThrowsAsync<IOException>(() => bucket.ListPageAsync("x/"));
        Assert.Equal(4, requests);
        Assert.Contains("ServiceUnavailable", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public async Task NotFoundIsNotRetried()
    {
        int requests = 0;
        await using var fake = await FakeS3.StartAsync(_ =>
        {
            Interlocked.Increment(ref requests);
            return (404, "<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>");
        });
        using var bucket = new S3Bucket(BucketScheme.S3, "b-nf", new BucketOptions
        {
            Endpoint = fake.Endpoint, AccessKeyId = "k", SecretAccessKey = "s", Region = "us-east-1", Environment = _ => null,
        });
        var e = await Assert.ThrowsAsync<BucketNotFoundException>(() => bucket.OpenReadAsync("a/b.gwf"));
        Assert.Equal("s3://b-nf/a/b.gwf: no such object", e.Message);
        Assert.Equal(1, requests);
    }

    [Theory]
    [InlineData("marker from job 17", true)]   // the lost-answer attempt was ours
    [InlineData("marker from job 42", false)]  // another writer's
    public async Task PutIfAbsentRetriedAfterALostAnswerRecognisesItsOwnObject(string stored, bool ours)
    {
        var methods = new List<string>();
        await using var fake = await FakeS3.StartAsync((int n, string method) =>
        {
            lock (methods) methods.Add(method);
            return n switch
            {
                1 => (500, "<Error><Code>InternalError</Code><Message>applied, but the answer is lost</Message></Error>"),
                2 => (412, "<Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message></Error>"),
                _ => (200, stored),
            };
        });
        using var bucket = new S3Bucket(BucketScheme.S3, "b-marker", new BucketOptions
        {
            Endpoint = fake.Endpoint, AccessKeyId = "k", SecretAccessKey = "s", Region = "us-east-1",
            BaseRetryDelay = TimeSpan.FromMilliseconds(5), Environment = _ => null,
        });
        Assert.Equal(ours, await bucket.PutIfAbsentAsync("done/job.marker", "marker from job 17"u8.ToArray()));
        Assert.Equal(["PUT", "PUT", "GET"], methods);
    }

    [Theory]
    [InlineData(BucketScheme.S3, "If-None-Match", "*")]
    [InlineData(BucketScheme.Gs, "x-goog-if-generation-match", "0")]
    public async Task PutIfAbsentSendsTheStoresCreateOnlyPrecondition(BucketScheme scheme, string header, string value)
    {
        // moto enforces S3's If-None-Match; Cloud Storage's XML API wants its own header, checked here on the wire.
        var seen = new List<(string? Precondition, string? ContentMd5, string? Encoding)>();
        await using var fake = await FakeS3.StartAsync((int _, HttpListenerRequest r) =>
        {
            lock (seen) seen.Add((r.Headers[header], r.Headers["Content-MD5"], r.Headers["Content-Encoding"]));
            return (200, "");
        });
        using var bucket = new S3Bucket(scheme, "b-precondition", new BucketOptions
        {
            Endpoint = fake.Endpoint, AccessKeyId = "k", SecretAccessKey = "s", PathStyle = true, Environment = _ => null,
        });
        Assert.True(await bucket.PutIfAbsentAsync("done/job-17.marker", "job 17"u8.ToArray()));
        var (precondition, md5, encoding) = Assert.Single(seen);
        Assert.Equal(value, precondition);
        Assert.Equal(Convert.ToBase64String(System.Security.Cryptography.MD5.HashData("job 17"u8.ToArray())), md5);
        Assert.Null(encoding); // no aws-chunked bodies: Cloud Storage does not accept them
    }

    [Fact]
    public async Task AFailedPartAbortsTheUploadAndIsTheErrorReported()
    {
        var calls = new List<string>();
        await using var fake = await FakeS3.StartAsync((int _, HttpListenerRequest r) =>
        {
            string call = r.HttpMethod + " " + (r.Url!.Query.Contains("uploads") ? "initiate" : r.Url.Query.Contains("partNumber") ? "part" : r.Url.Query.Contains("uploadId") ? "upload" : "object");
            lock (calls) calls.Add(call);
            return call switch
            {
                "POST initiate" => (200, "<InitiateMultipartUploadResult><Bucket>b-parts</Bucket><Key>k.gwf</Key><UploadId>up-1</UploadId></InitiateMultipartUploadResult>"),
                "PUT part" => (403, "<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"),
                "DELETE upload" => (204, ""),
                _ => (400, "<Error><Code>Unexpected</Code><Message>unexpected call</Message></Error>"),
            };
        });
        using var bucket = new S3Bucket(BucketScheme.S3, "b-parts", new BucketOptions
        {
            Endpoint = fake.Endpoint, AccessKeyId = "k", SecretAccessKey = "s", Environment = _ => null,
            MultipartThreshold = 5 << 20, PartSize = 5 << 20, UploadConcurrency = 2,
        });
        var e = await Assert.ThrowsAsync<BucketAccessDeniedException>(() => ((IBucket)bucket).WriteAllBytesAsync("k.gwf", new byte[11 << 20]));
        Assert.Contains("s3://b-parts/k.gwf: access denied", e.Message);
        Assert.Equal("POST initiate", calls[0]);
        lock (calls) Assert.Contains("DELETE upload", calls); // aborted
        Assert.DoesNotContain("POST upload", calls); // never completed
    }

    [Fact]
    public void DelaysAreJitteredWithinTheExponentialCap()
    {
        var policy = new RetryPolicy(6, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(1), new Random(1));
        for (int retry = 1; retry <= 6; retry++)
        {
            double cap = Math.Min(1000, 100 * Math.Pow(2, retry - 1));
            var delays = Enumerable.Range(0, 200).Select(_ => policy.DelayFor(retry).TotalMilliseconds).ToList();
            Assert.All(delays, d => Assert.InRange(d, 0, cap));
            Assert.True(delays.Max() > 0.8 * cap && delays.Min() < 0.2 * cap, $"retry {retry}: delays not spread over [0, {cap}]");
        }
    }

    /// <summary>A minimal HTTP server on 127.0.0.1 answering every request with the status and XML body a function gives for the n-th request.</summary>
    private sealed class FakeS3 : IAsyncDisposable
    {
        private readonly HttpListener _listener;
        private readonly Task _loop;

        private FakeS3(HttpListener listener, Task loop, string endpoint)
        {
            _listener = listener;
            _loop = loop;
            Endpoint = endpoint;
        }

        public string Endpoint { get; }

        public static Task<FakeS3> StartAsync(Func<int, (int Status, string Body)> answer) => StartAsync((int n, HttpListenerRequest _) => answer(n));

        public static Task<FakeS3> StartAsync(Func<int, string, (int Status, string Body)> answer) => StartAsync((int n, HttpListenerRequest r) => answer(n, r.HttpMethod));

        public static Task<FakeS3> StartAsync(Func<int, HttpListenerRequest, (int Status, string Body)> answer)
        {
            for (int attempt = 0; ; attempt++)
            {
                int port = Random.Shared.Next(20000, 60000);
                var listener = new HttpListener();
                listener.Prefixes.Add($"http://127.0.0.1:{port}/");
                try { listener.Start(); }
                catch (HttpListenerException) when (attempt < 10) { continue; }
                int n = 0;
                var loop = Task.Run(async () =>
                {
                    while (listener.IsListening)
                    {
                        HttpListenerContext context;
                        try { context = await listener.GetContextAsync(); }
                        catch (Exception) { return; }
                        // Each request on its own task, and a client that hangs up mid-body (a cancelled part) only ends its own request.
                        _ = Task.Run(async () =>
                        {
                            try
                            {
                                await context.Request.InputStream.CopyToAsync(Stream.Null);
                                var (status, body) = answer(Interlocked.Increment(ref n), context.Request);
                                byte[] bytes = Encoding.UTF8.GetBytes(body);
                                context.Response.StatusCode = status;
                                context.Response.ContentType = "application/xml";
                                context.Response.ContentLength64 = bytes.Length;
                                await context.Response.OutputStream.WriteAsync(bytes);
                                context.Response.Close();
                            }
                            catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException or InvalidOperationException)
                            {
                                context.Response.Abort();
                            }
                        });
                    }
                });
                return Task.FromResult(new FakeS3(listener, loop, $"http://127.0.0.1:{port}"));
            }
        }

        public async ValueTask DisposeAsync()
        {
            _listener.Stop();
            _listener.Close();
            await _loop;
        }
    }
}
