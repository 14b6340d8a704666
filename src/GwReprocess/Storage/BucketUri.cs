using System.Text;
using GwReprocess.IO;

namespace GwReprocess.Storage;

/// <summary>Where an object or a prefix lives: <c>file:///abs/path</c>, a plain path, <c>s3://bucket/key</c> or <c>gs://bucket/key</c>.</summary>
/// <remarks>
/// For object stores <see cref="Bucket"/> is the bucket name and <see cref="Key"/> the key or prefix
/// (no leading slash). For local paths the "bucket" is the filesystem: <see cref="Bucket"/> is empty and
/// <see cref="Key"/> is the absolute path without its leading slash, so keys and prefixes mean the same
/// thing on every store. A trailing slash is kept: it marks a directory-like prefix.
/// </remarks>
public readonly record struct BucketUri
{
    public BucketScheme Scheme { get; }

    private readonly string? _bucket;
    private readonly string? _key;

    /// <summary>The bucket name (empty for local paths).</summary>
    public string Bucket => _bucket ?? "";

    /// <summary>The object key or prefix inside the bucket; for local paths the absolute path without its leading '/'.</summary>
    public string Key => _key ?? "";

    private BucketUri(BucketScheme scheme, string bucket, string key)
    {
        Scheme = scheme;
        _bucket = bucket;
        _key = key;
    }

    /// <summary>True for <c>file://</c> URIs and plain paths.</summary>
    public bool IsLocal => Scheme == BucketScheme.File;

    /// <summary>The absolute local path (local URIs only).</summary>
    public string LocalPath => IsLocal ? "/" + Key : throw new InvalidOperationException($"{this} is not a local path");

    /// <summary>The URI of the bucket itself (empty key).</summary>
    public BucketUri Root => new(Scheme, Bucket, "");

    /// <summary>True when the key is empty or ends with '/', i.e. names a directory-like prefix rather than an object.</summary>
    public bool IsPrefix => Key.Length == 0 || Key[^1] == '/';

    /// <summary>The last path component of the key ("" for a prefix ending in '/').</summary>
    public string Name => Key[(Key.LastIndexOf('/') + 1)..];

    /// <summary>A local URI for an absolute or relative path.</summary>
    public static BucketUri ForLocalPath(string path)
    {
        string full = Path.GetFullPath(path);
        bool trailing = path.EndsWith('/') && !full.EndsWith('/');
        return new BucketUri(BucketScheme.File, "", full.TrimStart('/') + (trailing ? "/" : ""));
    }

    /// <summary>The same store with <paramref name="key"/> as the key.</summary>
    public BucketUri WithKey(string key) => new(Scheme, Bucket, key.TrimStart('/'));

    /// <summary>Appends a relative key, inserting '/' after a non-empty key that lacks one.</summary>
    public BucketUri Append(string relative) => new(Scheme, Bucket, AsPrefix(Key) + relative.TrimStart('/'));

    /// <summary>A key used as a folder-like prefix: empty stays empty (the bucket root), anything else ends with '/'.</summary>
    public static string AsPrefix(string key) => key.Length == 0 || key.EndsWith('/') ? key : key + "/";

    /// <summary>Parses a bucket URI or a plain local path; a malformed one is a <see cref="BadInputException"/> naming it.</summary>
    public static BucketUri Parse(string text)
    {
        if (TryParse(text, out var uri, out string? reason)) return uri;
        throw new BadInputException($"'{text}': {reason}");
    }

    /// <summary>Parses without throwing; <paramref name="reason"/> says why not.</summary>
    public static bool TryParse(string? text, out BucketUri uri, out string? reason)
    {
        uri = default;
        if (!Location.TryParse(text, out var location, out reason)) return false;
        switch (location.Scheme)
        {
            case "":
                uri = ForLocalPath(text!);
                return true;
            case "file":
                // A file:// URL on another host is a location, but no store of this machine holds it.
                if (location.LocalPath is not { } path)
                {
                    reason = $"file URI names host '{location.Authority}' (use file:///absolute/path)";
                    return false;
                }
                uri = ForLocalPath(path);
                return true;
            default: // s3 or gs, the only other schemes a Location has
            {
                string bucket = location.Authority, key = location.UrlPath;
                var kind = location.Scheme == "s3" ? BucketScheme.S3 : BucketScheme.Gs;
                if (!IsValidBucketName(bucket, kind, out reason)) return false;
                if (Encoding.UTF8.GetByteCount(key) > 1024) { reason = "key longer than 1024 bytes"; return false; }
                uri = new BucketUri(kind, bucket, key);
                return true;
            }
        }
    }

    // S3 and Cloud Storage naming rules; checking them here turns a typo into a clear message instead of a signature error.
    private static bool IsValidBucketName(string name, BucketScheme kind, out string? reason)
    {
        reason = null;
        if (name.Length == 0) { reason = "no bucket name"; return false; }
        int max = kind == BucketScheme.Gs && name.Contains('.') ? 222 : 63;
        if (name.Length < 3 || name.Length > max) { reason = $"bucket name '{name}' must be 3 to {max} characters"; return false; }
        foreach (char c in name)
        {
            bool ok = c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '.' || (kind == BucketScheme.Gs && c == '_');
            if (!ok) { reason = $"bucket name '{name}' may contain only lowercase letters, digits, '-' and '.'"; return false; }
        }
        if (!char.IsAsciiLetterOrDigit(name[0]) || !char.IsAsciiLetterOrDigit(name[^1]))
        {
            reason = $"bucket name '{name}' must start and end with a letter or digit";
            return false;
        }
        return true;
    }

    /// <summary>The canonical text: <c>s3://bucket/key</c>, <c>gs://bucket/key</c> or <c>file:///abs/path</c>.</summary>
    public override string ToString() => Scheme switch
    {
        BucketScheme.S3 => $"s3://{Bucket}/{Key}",
        BucketScheme.Gs => $"gs://{Bucket}/{Key}",
        _ => "file:///" + Key,
    };
}
