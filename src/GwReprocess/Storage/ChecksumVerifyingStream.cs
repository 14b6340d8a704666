using System.Security.Cryptography;

namespace GwReprocess.Storage;

/// <summary>Passes a download through while hashing it, and at the end compares the digest with the one the store reported.</summary>
/// <remarks>Only whole-object reads can be checked; a mismatch throws <see cref="BucketChecksumMismatchException"/> from the read that reaches the end, so a consumer never takes truncated or corrupted bytes as complete.</remarks>
public sealed class ChecksumVerifyingStream : Stream
{
    private readonly Stream _inner;
    private readonly IncrementalHash _hash;
    private readonly byte[] _expected;
    private readonly string _location;
    private readonly IDisposable? _owner;
    private long _read;
    private bool _verified;

    /// <summary>Verifies <paramref name="inner"/> against an MD5 digest; disposes <paramref name="owner"/> (e.g. the HTTP response) with the stream.</summary>
    public ChecksumVerifyingStream(Stream inner, ObjectChecksum expected, string location, IDisposable? owner = null)
    {
        if (expected.Algorithm != "MD5") throw new ArgumentException($"cannot verify {expected.Algorithm} here", nameof(expected));
        _inner = inner;
        _hash = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        _expected = Convert.FromHexString(expected.Value);
        _location = location;
        _owner = owner;
        Expected = expected;
    }

    /// <summary>The checksum the bytes are checked against.</summary>
    public ObjectChecksum Expected { get; }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => _inner.Length;
    public override long Position { get => _read; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int n = _inner.Read(buffer);
        Account(buffer[..n]);
        return n;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        int n = await _inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        Account(buffer.Span[..n]);
        return n;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    private void Account(ReadOnlySpan<byte> data)
    {
        if (data.Length > 0)
        {
            _hash.AppendData(data);
            _read += data.Length;
            return;
        }
        if (_verified) return;
        _verified = true;
        Span<byte> actual = stackalloc byte[16];
        _hash.GetHashAndReset(actual);
        if (!actual.SequenceEqual(_expected))
            throw new BucketChecksumMismatchException(
                $"{_location}: checksum mismatch after {_read} bytes (store says md5 {Expected.Value}, read {Convert.ToHexStringLower(actual)})");
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _inner.Dispose();
            _owner?.Dispose();
            _hash.Dispose();
        }
        base.Dispose(disposing);
    }

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
