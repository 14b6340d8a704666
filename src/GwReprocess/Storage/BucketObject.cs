namespace GwReprocess.Storage;

/// <summary>What a bucket knows about one object: key, size, modification time and, where the store provides one, a checksum.</summary>
public sealed record BucketObject(string Key, long Size, DateTimeOffset LastModified, ObjectChecksum? Checksum = null);

/// <summary>A content checksum as the store reports it: an algorithm name (MD5, CRC32, CRC32C, CRC64NVME, SHA256) and its value.</summary>
/// <remarks>MD5 is lowercase hex (as in an S3 ETag); the others are base64, as S3's checksum headers carry them.</remarks>
public readonly record struct ObjectChecksum(string Algorithm, string Value)
{
    /// <summary>An MD5 checksum from its 16 bytes.</summary>
    public static ObjectChecksum Md5(ReadOnlySpan<byte> digest) => new("MD5", Convert.ToHexStringLower(digest));

    public override string ToString() => $"{Algorithm.ToLowerInvariant()}:{Value}";
}

/// <summary>One page of a listing, sorted by key; <see cref="ContinuationToken"/> fetches the next page, null on the last.</summary>
public sealed record BucketListPage(IReadOnlyList<BucketObject> Objects, string? ContinuationToken);

/// <summary>A byte range to read: <paramref name="Offset"/> and, when given, <paramref name="Length"/> bytes (else to the end).</summary>
public readonly record struct ByteRange(long Offset, long? Length = null)
{
    public override string ToString() => Length is long n ? $"bytes {Offset}-{Offset + n - 1}" : $"bytes {Offset}-";
}

/// <summary>A missing object, bucket or directory; a bad-input error whose message names the location.</summary>
public sealed class BucketNotFoundException(string message) : BadInputException(message);

/// <summary>The store refused the credentials or the operation; a bad-input error naming the location (never the secret).</summary>
public sealed class BucketAccessDeniedException(string message) : BadInputException(message);

/// <summary>The bytes read do not match the checksum the store reported for them.</summary>
public sealed class BucketChecksumMismatchException(string message) : IOException(message);
