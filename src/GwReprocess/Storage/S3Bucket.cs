using System.Buffers;
using System.Net;
using System.Security.Cryptography;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace GwReprocess.Storage;

/// <summary>An S3 bucket, or a Cloud Storage bucket through its S3-compatible XML API, as an <see cref="IBucket"/>.</summary>
/// <remarks>
/// Objects up to <see cref="BucketOptions.MultipartThreshold"/> go up in one PUT with a Content-MD5; larger ones as a
/// multipart upload that is aborted on any failure or cancellation, so nothing becomes visible before the final
/// CompleteMultipartUpload. Markers use conditional PUT (<c>If-None-Match: *</c> on S3,
/// <c>x-goog-if-generation-match: 0</c> on Cloud Storage). Whole-object reads are verified: by the SDK when the
/// store returns a full-object checksum, else against a single-part MD5 ETag.
/// </remarks>
public sealed class S3Bucket : IBucket
{
    private readonly IAmazonS3 _client;
    private readonly BucketOptions _options;
    private readonly RetryPolicy _retry;
    private readonly bool _gcs;

    /// <summary>Opens bucket <paramref name="bucketName"/> of <paramref name="scheme"/> (S3 or Gs) with <paramref name="options"/>.</summary>
    public S3Bucket(BucketScheme scheme, string bucketName, BucketOptions? options = null)
    {
        if (scheme == BucketScheme.File) throw new ArgumentException("S3Bucket serves s3:// and gs:// only", nameof(scheme));
        _options = options ?? new BucketOptions();
        _gcs = scheme == BucketScheme.Gs;
        Root = BucketUri.Parse($"{(_gcs ? "gs" : "s3")}://{bucketName}/");
        BucketName = bucketName;
        var env = _options.Environment;
        Endpoint = _options.Endpoint
            ?? (_gcs ? env("GWREPRO_GCS_ENDPOINT") ?? "https://storage.googleapis.com"
                     : NonEmpty(env("AWS_ENDPOINT_URL_S3")) ?? NonEmpty(env("AWS_ENDPOINT_URL")));
        if (Endpoint is not null && !(Uri.TryCreate(Endpoint, UriKind.Absolute, out var endpointUri) && endpointUri.Scheme is "http" or "https"))
            throw new BadInputException($"endpoint '{Endpoint}': not an http:// or https:// URL");
        Region = _options.Region ?? NonEmpty(env("AWS_REGION")) ?? NonEmpty(env("AWS_DEFAULT_REGION"))
            ?? (_gcs ? "auto" : S3Credentials.ProfileRegion(_options) ?? "us-east-1");
        var (credentials, source) = S3Credentials.Resolve(scheme, _options, Root.ToString());
        CredentialSource = source;

        var config = new AmazonS3Config
        {
            MaxErrorRetry = 0, // retries are ours (RetryPolicy), so they are jittered and visible
            IgnoreConfiguredEndpointUrls = true,
            // Cloud Storage rejects aws-chunked uploads with trailing checksums: send Content-MD5 instead and check MD5 ETags on read.
            RequestChecksumCalculation = _gcs ? RequestChecksumCalculation.WHEN_REQUIRED : RequestChecksumCalculation.WHEN_SUPPORTED,
            ResponseChecksumValidation = _gcs ? ResponseChecksumValidation.WHEN_REQUIRED : ResponseChecksumValidation.WHEN_SUPPORTED,
            Timeout = TimeSpan.FromMinutes(5),
        };
        if (Endpoint is not null)
        {
            config.ServiceURL = Endpoint;
            config.AuthenticationRegion = Region;
            config.ForcePathStyle = _options.PathStyle ?? !_gcs;
        }
        else
        {
            config.RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(Region);
            config.ForcePathStyle = _options.PathStyle ?? false;
        }
        PathStyle = config.ForcePathStyle;
        _client = new AmazonS3Client(credentials, config);
        _retry = new RetryPolicy(_options.MaxAttempts, _options.BaseRetryDelay, _options.MaxRetryDelay);
    }

    public BucketUri Root { get; }

    /// <summary>How long aborting a failed or cancelled multipart upload may take, retries included.</summary>
    public static readonly TimeSpan AbortTimeout = TimeSpan.FromSeconds(60);

    /// <summary>The bucket's name.</summary>
    public string BucketName { get; }

    /// <summary>The service URL in use; null for AWS's regional endpoint.</summary>
    public string? Endpoint { get; }

    /// <summary>The signing region.</summary>
    public string Region { get; }

    /// <summary>Whether requests use path-style addressing.</summary>
    public bool PathStyle { get; }

    /// <summary>Where the credentials came from ("AWS_ACCESS_KEY_ID", "profile 'x'", ...); never the secret.</summary>
    public string CredentialSource { get; }

    /// <summary>The retry policy (its <see cref="RetryPolicy.LastAttempts"/> tells how many attempts the last request took).</summary>
    public RetryPolicy Retry => _retry;

    private static string? NonEmpty(string? s) => string.IsNullOrWhiteSpace(s) ? null : s;

    private BucketUri UriOf(string key) => Root.Append(key);

    public async Task<BucketListPage> ListPageAsync(string prefix, string? continuationToken = null, int pageSize = 1000, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pageSize, 1);
        var response = await Call(prefix, ct => _client.ListObjectsV2Async(new ListObjectsV2Request
        {
            BucketName = BucketName,
            Prefix = prefix.TrimStart('/'),
            ContinuationToken = continuationToken,
            MaxKeys = Math.Min(pageSize, 1000),
        }, ct), cancellationToken).ConfigureAwait(false);
        var objects = new List<BucketObject>(response.S3Objects?.Count ?? 0);
        foreach (var o in response.S3Objects ?? [])
            objects.Add(new BucketObject(o.Key, o.Size ?? 0, ToOffset(o.LastModified), ChecksumFromETag(o.ETag)));
        // Listings are in UTF-8 byte order on S3; a store that does not promise it still gets sorted pages.
        objects.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        return new BucketListPage(objects, response.IsTruncated == true ? response.NextContinuationToken : null);
    }

    public async Task<BucketObject?> StatAsync(string key, CancellationToken cancellationToken = default)
    {
        CheckObjectKey(key);
        try
        {
            var m = await _retry.ExecuteAsync(ct => _client.GetObjectMetadataAsync(new GetObjectMetadataRequest
            {
                BucketName = BucketName,
                Key = key,
                ChecksumMode = _gcs ? null : ChecksumMode.ENABLED,
            }, ct), cancellationToken).ConfigureAwait(false);
            return new BucketObject(key, m.ContentLength, ToOffset(m.LastModified), FullObjectChecksum(m.ChecksumCRC32, m.ChecksumCRC32C, m.ChecksumCRC64NVME, m.ChecksumSHA256) ?? ChecksumFromETag(m.ETag, m.ServerSideEncryptionMethod));
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            if (e.ErrorCode == "NoSuchBucket") throw Translate(e, key);
            return null;
        }
        catch (Exception e) when (e is AmazonServiceException or AmazonClientException or HttpRequestException)
        {
            throw Translate(e, key);
        }
    }

    public async Task<Stream> OpenReadAsync(string key, ByteRange? range = null, CancellationToken cancellationToken = default)
    {
        CheckObjectKey(key);
        var request = new GetObjectRequest { BucketName = BucketName, Key = key };
        if (range is ByteRange r)
        {
            if (r.Length == 0) return new MemoryStream([], writable: false);
            request.ByteRange = r.Length is long n ? new Amazon.S3.Model.ByteRange(r.Offset, r.Offset + n - 1) : new Amazon.S3.Model.ByteRange($"bytes={r.Offset}-");
        }
        else if (!_gcs) request.ChecksumMode = ChecksumMode.ENABLED;
        GetObjectResponse response;
        try
        {
            response = await Call(key, ct => _client.GetObjectAsync(request, ct), cancellationToken).ConfigureAwait(false);
        }
        catch (IOException) when (range is ByteRange rr && rr.Offset > 0)
        {
            // 416: the range starts at or past the end; S3 refuses, a file would read nothing.
            if (await StatAsync(key, cancellationToken).ConfigureAwait(false) is { } o && rr.Offset >= o.Size) return new MemoryStream([], writable: false);
            throw;
        }
        if (range is null
            && FullObjectChecksum(response.ChecksumCRC32, response.ChecksumCRC32C, response.ChecksumCRC64NVME, response.ChecksumSHA256) is null
            && ChecksumFromETag(response.ETag, response.ServerSideEncryptionMethod) is { } md5)
            return new ChecksumVerifyingStream(response.ResponseStream, md5, UriOf(key).ToString(), response);
        // Either a range (no whole-object checksum applies), or the SDK verifies the returned full-object checksum as the stream is read.
        return new OwningStream(response.ResponseStream, response);
    }

    public async Task<BucketObject> WriteAsync(string key, Stream content, CancellationToken cancellationToken = default)
    {
        CheckObjectKey(key);
        int threshold = Math.Max(_options.MultipartThreshold, 0);
        int limit = threshold + 1;
        // Read one byte past the threshold: if it is there, the object is large and goes up in parts. The buffer grows
        // as data arrives, so a marker does not borrow a threshold-sized array.
        int initial = content.CanSeek
            ? (int)Math.Clamp(content.Length - content.Position + 1, 1, limit)
            : Math.Min(limit, 64 << 10);
        byte[] head = ArrayPool<byte>.Shared.Rent(initial);
        try
        {
            int n = 0;
            while (n < limit)
            {
                if (n == head.Length)
                {
                    byte[] larger = ArrayPool<byte>.Shared.Rent((int)Math.Min(limit, 2L * head.Length));
                    head.AsSpan(0, n).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(head);
                    head = larger;
                }
                int r = await content.ReadAsync(head.AsMemory(n, Math.Min(head.Length, limit) - n), cancellationToken).ConfigureAwait(false);
                if (r == 0) break;
                n += r;
            }
            if (n <= threshold) return await PutSingleAsync(key, head.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
            return await PutMultipartAsync(key, head.AsMemory(0, n), content, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(head);
        }
    }

    private async Task<BucketObject> PutSingleAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        byte[] md5 = MD5.HashData(data.Span);
        var response = await Call(key, ct => _client.PutObjectAsync(NewPut(key, data, md5), ct), cancellationToken).ConfigureAwait(false);
        return new BucketObject(key, data.Length, DateTimeOffset.UtcNow, ObjectChecksum.Md5(md5));
    }

    private PutObjectRequest NewPut(string key, ReadOnlyMemory<byte> data, byte[] md5) => new()
    {
        BucketName = BucketName,
        Key = key,
        InputStream = new ReadOnlyMemoryStream(data),
        AutoCloseStream = false,
        MD5Digest = Convert.ToBase64String(md5),
        UseChunkEncoding = false,
        ChecksumAlgorithm = _gcs ? null : ChecksumAlgorithm.CRC32,
    };

    private async Task<BucketObject> PutMultipartAsync(string key, ReadOnlyMemory<byte> head, Stream rest, CancellationToken cancellationToken)
    {
        int partSize = Math.Max(_options.PartSize, 5 << 20);
        var initiated = await Call(key, ct => _client.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest
        {
            BucketName = BucketName,
            Key = key,
            ChecksumAlgorithm = _gcs ? null : ChecksumAlgorithm.CRC32,
        }, ct), cancellationToken).ConfigureAwait(false);
        string uploadId = initiated.UploadId;
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var gate = new SemaphoreSlim(Math.Max(1, _options.UploadConcurrency));
        var uploads = new List<Task<PartETag>>();
        long total = 0;
        try
        {
            int headUsed = 0, partNumber = 0;
            while (true)
            {
                await gate.WaitAsync(failed.Token).ConfigureAwait(false);
                byte[] buffer = ArrayPool<byte>.Shared.Rent(partSize);
                int filled;
                try
                {
                    filled = Math.Min(partSize, head.Length - headUsed);
                    head.Slice(headUsed, filled).CopyTo(buffer);
                    headUsed += filled;
                    if (filled < partSize)
                        filled += await rest.ReadAtLeastAsync(buffer.AsMemory(filled, partSize - filled), partSize - filled, throwOnEndOfStream: false, failed.Token).ConfigureAwait(false);
                }
                catch
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    gate.Release();
                    throw;
                }
                if (filled == 0 && partNumber > 0)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    gate.Release();
                    break;
                }
                total += filled;
                int number = ++partNumber;
                uploads.Add(UploadPartAsync(key, uploadId, number, buffer, filled, gate, failed));
                if (filled < partSize) break;
            }
            var parts = await Task.WhenAll(uploads).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            await Call(key, ct => _client.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
            {
                BucketName = BucketName,
                Key = key,
                UploadId = uploadId,
                PartETags = [.. parts],
            }, ct), cancellationToken).ConfigureAwait(false);
            return new BucketObject(key, total, DateTimeOffset.UtcNow);
        }
        catch (Exception first)
        {
            failed.Cancel();
            Exception? partError = null;
            try { await Task.WhenAll(uploads).ConfigureAwait(false); }
            catch
            {
                foreach (var t in uploads)
                    if (t.IsFaulted && t.Exception?.InnerException is { } inner && inner is not OperationCanceledException) { partError = inner; break; }
            }
            try
            {
                // Not tied to the caller's token: a cancelled write must still remove its parts, or they linger (and cost)
                // on the store. Bounded, so an unresponsive store cannot hold a cancelled job for long.
                using var abortTimeout = new CancellationTokenSource(AbortTimeout);
                await _retry.ExecuteAsync(ct => _client.AbortMultipartUploadAsync(new AbortMultipartUploadRequest
                {
                    BucketName = BucketName,
                    Key = key,
                    UploadId = uploadId,
                }, ct), abortTimeout.Token).ConfigureAwait(false);
            }
            catch (Exception abortError) when (abortError is AmazonServiceException or AmazonClientException or HttpRequestException or OperationCanceledException)
            {
                throw new IOException($"{UriOf(key)}: upload failed ({FirstLine((partError ?? first).Message)}) and aborting upload {uploadId} failed too: {FirstLine(abortError.Message)}", partError ?? first);
            }
            // The reader stopped because a part failed: report that failure, not the cancellation it caused.
            if (first is OperationCanceledException && !cancellationToken.IsCancellationRequested && partError is not null)
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(partError);
            throw;
        }
    }

    private async Task<PartETag> UploadPartAsync(string key, string uploadId, int number, byte[] buffer, int length, SemaphoreSlim gate, CancellationTokenSource failed)
    {
        try
        {
            // S3 checks the SDK's CRC32 of each part; Cloud Storage (no flexible checksums) gets a Content-MD5 instead.
            string? md5 = _gcs ? Convert.ToBase64String(MD5.HashData(buffer.AsSpan(0, length))) : null;
            var response = await Call(key, ct => _client.UploadPartAsync(new UploadPartRequest
            {
                BucketName = BucketName,
                Key = key,
                UploadId = uploadId,
                PartNumber = number,
                InputStream = new MemoryStream(buffer, 0, length, writable: false),
                PartSize = length,
                MD5Digest = md5,
                UseChunkEncoding = false,
                ChecksumAlgorithm = _gcs ? null : ChecksumAlgorithm.CRC32,
            }, ct), failed.Token).ConfigureAwait(false);
            return new PartETag { PartNumber = number, ETag = response.ETag, ChecksumCRC32 = response.ChecksumCRC32 };
        }
        catch
        {
            failed.Cancel();
            throw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            gate.Release();
        }
    }

    public async Task<bool> PutIfAbsentAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        CheckObjectKey(key);
        byte[] md5 = MD5.HashData(content.Span);
        int attempts = 0;
        try
        {
            await Call(key, ct =>
            {
                attempts++;
                var put = NewPut(key, content, md5);
                if (_gcs) put.Headers["x-goog-if-generation-match"] = "0"; // Cloud Storage's create-only precondition
                else put.IfNoneMatch = "*";
                return _client.PutObjectAsync(put, ct);
            }, cancellationToken, translate: false).ConfigureAwait(false);
            return true;
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.PreconditionFailed)
        {
            // After a retry the object may be our own earlier attempt, which the store applied but whose answer was lost.
            if (attempts > 1 && await ((IBucket)this).ReadAllBytesAsync(key, cancellationToken).ConfigureAwait(false) is { } existing)
                return existing.AsSpan().SequenceEqual(content.Span);
            return false;
        }
        catch (Exception e) when (e is AmazonServiceException or AmazonClientException or HttpRequestException)
        {
            throw Translate(e, key);
        }
    }

    public async Task DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        CheckObjectKey(key);
        await Call(key, ct => _client.DeleteObjectAsync(new DeleteObjectRequest { BucketName = BucketName, Key = key }, ct), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Multipart uploads started under <paramref name="prefix"/> and neither completed nor aborted (tests, cleanup).</summary>
    public async Task<IReadOnlyList<string>> ListPendingUploadsAsync(string prefix, CancellationToken cancellationToken = default)
    {
        var r = await Call(prefix, ct => _client.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = BucketName, Prefix = prefix }, ct), cancellationToken).ConfigureAwait(false);
        return (r.MultipartUploads ?? []).Select(u => u.Key + " " + u.UploadId).ToList();
    }

    /// <summary>Creates the bucket (tests and benchmarks against a local server); an existing bucket of ours is fine.</summary>
    public async Task CreateAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            await Call("", ct => _client.PutBucketAsync(new PutBucketRequest { BucketName = BucketName }, ct), cancellationToken, translate: false).ConfigureAwait(false);
        }
        catch (AmazonS3Exception e) when (e.ErrorCode is "BucketAlreadyOwnedByYou") { }
        catch (Exception e) when (e is AmazonServiceException or AmazonClientException or HttpRequestException)
        {
            throw Translate(e, "");
        }
    }

    private async Task<T> Call<T>(string key, Func<CancellationToken, Task<T>> operation, CancellationToken cancellationToken, bool translate = true)
    {
        try
        {
            return await _retry.ExecuteAsync(operation, cancellationToken).ConfigureAwait(false);
        }
        // A service error is the store's answer, whatever happened to the token meanwhile (a sibling part failing
        // cancels the others, and their own 403s must still read as one line); transport errors during a
        // cancellation are the cancellation's doing and stay as they are.
        catch (Exception e) when (translate && (e is AmazonServiceException
            || (!cancellationToken.IsCancellationRequested && e is AmazonClientException or HttpRequestException)))
        {
            throw Translate(e, key);
        }
    }

    /// <summary>Turns a store error into a one-line message naming the location; codes, never credentials.</summary>
    private Exception Translate(Exception e, string key)
    {
        var where = UriOf(key);
        switch (e)
        {
            case AmazonServiceException s:
                string code = s.ErrorCode ?? "";
                int status = (int)s.StatusCode;
                if (code == "NoSuchBucket") return new BucketNotFoundException($"{Root}: no such bucket{At()}");
                if (code is "NoSuchKey" or "NoSuchUpload" || status == 404) return new BucketNotFoundException($"{where}: no such object");
                if (code is "InvalidAccessKeyId" or "SignatureDoesNotMatch" or "AccessDenied" or "AllAccessDisabled" or "ExpiredToken"
                    or "InvalidToken" or "InvalidSecurity" or "AccountProblem" || status is 401 or 403)
                    return new BucketAccessDeniedException($"{where}: access denied{At()} ({(code.Length > 0 ? code : "HTTP " + status)}; credentials from {CredentialSource})");
                return new IOException($"{where}: {(code.Length > 0 ? code : "error")} (HTTP {status}){At()}: {FirstLine(s.Message)}", e);
            default:
                return new IOException($"{where}: cannot reach {Endpoint ?? "AWS S3 (" + Region + ")"}: {FirstLine(Innermost(e).Message)}", e);
        }
    }

    private string At() => Endpoint is null ? "" : $" at {Endpoint}";

    private static Exception Innermost(Exception e)
    {
        while (e.InnerException is not null) e = e.InnerException;
        return e;
    }

    private static string FirstLine(string message)
    {
        int nl = message.IndexOfAny(['\r', '\n']);
        return nl < 0 ? message : message[..nl];
    }

    private void CheckObjectKey(string key)
    {
        if (key.Length == 0 || key[^1] == '/') throw new BadInputException($"{UriOf(key)}: not an object key (empty or ends with '/')");
    }

    private static DateTimeOffset ToOffset(DateTime? t) =>
        t is DateTime d ? new DateTimeOffset(d.Kind == DateTimeKind.Unspecified ? DateTime.SpecifyKind(d, DateTimeKind.Utc) : d.ToUniversalTime()) : DateTimeOffset.MinValue;

    /// <summary>A full-object checksum header (a composite "xxx-N" of a multipart upload does not describe the bytes).</summary>
    private static ObjectChecksum? FullObjectChecksum(string? crc32, string? crc32c, string? crc64, string? sha256)
    {
        static bool Full(string? v) => !string.IsNullOrEmpty(v) && !v.Contains('-');
        if (Full(crc64)) return new ObjectChecksum("CRC64NVME", crc64!);
        if (Full(crc32c)) return new ObjectChecksum("CRC32C", crc32c!);
        if (Full(crc32)) return new ObjectChecksum("CRC32", crc32!);
        if (Full(sha256)) return new ObjectChecksum("SHA256", sha256!);
        return null;
    }

    /// <summary>The MD5 an ETag carries for a single-part, non-KMS object; null for multipart ("-N") or encrypted objects.</summary>
    internal static ObjectChecksum? ChecksumFromETag(string? etag, ServerSideEncryptionMethod? sse = null)
    {
        if (etag is null) return null;
        string v = etag.Trim('"');
        if (v.Length != 32) return null;
        foreach (char c in v)
            if (!char.IsAsciiHexDigit(c)) return null;
        if (sse is not null && (sse == ServerSideEncryptionMethod.AWSKMS || sse == ServerSideEncryptionMethod.AWSKMSDSSE)) return null;
        return new ObjectChecksum("MD5", v.ToLowerInvariant());
    }

    public void Dispose() => _client.Dispose();

    public override string ToString() => $"{Root} ({(Endpoint ?? "AWS " + Region)}, {(PathStyle ? "path-style" : "virtual-host")}, credentials from {CredentialSource})";
}

/// <summary>A response body that disposes the response it came with.</summary>
internal sealed class OwningStream(Stream inner, IDisposable owner) : Stream
{
    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => inner.Length;
    public override long Position { get => inner.Position; set => throw new NotSupportedException(); }
    public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
    public override int Read(Span<byte> buffer) => inner.Read(buffer);
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(buffer, cancellationToken);
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => inner.ReadAsync(buffer, offset, count, cancellationToken);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
            owner.Dispose();
        }
        base.Dispose(disposing);
    }

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
