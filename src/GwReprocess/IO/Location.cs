namespace GwReprocess.IO;

/// <summary>Where a file or prefix lives: a local path (absolute or relative), or a <c>file://</c>, <c>s3://</c> or <c>gs://</c> URL.</summary>
/// <remarks>
/// <para>
/// The one place that decides "URL or path": any text containing <c>://</c> is a URL, and its scheme must be
/// <c>file</c>, <c>s3</c> or <c>gs</c> (case-insensitive); everything else is a path. Text that starts like a mistyped URL
/// (<c>s3:bucket</c>, <c>file:/x</c>) is refused rather than read as a relative path, so a typo fails here with a message
/// instead of creating a directory named <c>s3:bucket</c>.
/// </para>
/// <para>
/// The text is kept exactly as given: <see cref="ToString"/> returns it, equality compares it ordinally, and
/// <see cref="Resolve"/> only ever prepends a base directory. So <c>/data/x.gwf</c>, <c>file:///data/x.gwf</c> and
/// <c>file://localhost/data/x.gwf</c> are three different locations with the same <see cref="LocalPath"/>: a LAL cache
/// that says <c>file://localhost</c> keeps saying it. <c>file:///p</c> and <c>file://localhost/p</c> are both local;
/// a <c>file://</c> URL naming another host parses (LAL caches may hold one) but is not local.
/// </para>
/// <para>Only lexical checks are made here: whether an s3:// bucket name follows the store's naming rules is for Storage.</para>
/// </remarks>
public readonly record struct Location
{
    private const string Separator = "://";

    private readonly string? _text;

    // Where the URL's authority starts (just past "://"); 0 for a path, so default(Location) is the empty path.
    private readonly int _authorityStart;

    private Location(string text, int authorityStart)
    {
        _text = text;
        _authorityStart = authorityStart;
    }

    /// <summary>The URL scheme in lower case (<c>file</c>, <c>s3</c>, <c>gs</c>), or "" for a path.</summary>
    public string Scheme => IsUrl ? _text![..(_authorityStart - Separator.Length)].ToLowerInvariant() : "";

    /// <summary>True for a URL (<c>file://</c> included); false for a path.</summary>
    public bool IsUrl => _authorityStart > 0;

    /// <summary>True for an absolute path or a URL: what <see cref="Resolve"/> returns unchanged.</summary>
    public bool IsRooted => IsUrl || Path.IsPathRooted(_text);

    /// <summary>True for a path, <c>file:///p</c> or <c>file://localhost/p</c>: a file this machine opens directly.</summary>
    public bool IsLocal => LocalPath is not null;

    /// <summary>
    /// The local file path: a path as given (a relative one stays relative until <see cref="Resolve"/>d), or the
    /// percent-decoded path of <c>file:///p</c> and <c>file://localhost/p</c>; null for s3://, gs:// and a <c>file://</c>
    /// URL on another host, so that callers test with <c>is { } path</c> instead of catching.
    /// </summary>
    public string? LocalPath
    {
        get
        {
            if (!IsUrl) return _text ?? "";
            if (Scheme != "file" || !IsLocalHost(Authority)) return null;
            return Uri.UnescapeDataString(_text![(_authorityStart + Authority.Length)..]);
        }
    }

    /// <summary>
    /// The local path of <paramref name="text"/>, or null when it names something remote or is no location at all:
    /// a LAL cache may list osdf:// or http:// URLs, which only fail once something tries to open them.
    /// </summary>
    public static string? LocalPathOf(string? text) => TryParse(text, out var location, out _) ? location.LocalPath : null;

    /// <summary>The URL's host or bucket (<c>s3://bucket/key</c> → <c>bucket</c>, <c>file:///p</c> → ""), or "" for a path.</summary>
    public string Authority
    {
        get
        {
            if (!IsUrl) return "";
            int slash = _text!.IndexOf('/', _authorityStart);
            return slash < 0 ? _text[_authorityStart..] : _text[_authorityStart..slash];
        }
    }

    /// <summary>What follows a URL's authority, without its leading '/' (the object key of s3:// and gs://); "" for a path.</summary>
    public string UrlPath
    {
        get
        {
            if (!IsUrl) return "";
            int slash = _text!.IndexOf('/', _authorityStart);
            return slash < 0 ? "" : _text[(slash + 1)..];
        }
    }

    /// <summary>
    /// A relative path taken against <paramref name="baseDirectory"/> (joined with <see cref="Path.Combine(string, string)"/>,
    /// not normalised); absolute paths and URLs are returned unchanged.
    /// </summary>
    public Location Resolve(string baseDirectory)
    {
        ArgumentNullException.ThrowIfNull(baseDirectory);
        return IsRooted ? this : new Location(Path.Combine(baseDirectory, _text ?? ""), 0);
    }

    /// <summary>Parses a path or a file://, s3:// or gs:// URL.</summary>
    /// <exception cref="BadInputException">Empty, a control character, a mistyped or unsupported scheme, an s3:// or gs:// URL without a bucket, a file:// URL without a path; the message starts with the location in quotes.</exception>
    public static Location Parse(string text) =>
        TryParse(text, out var location, out string? reason) ? location : throw new BadInputException($"'{text}': {reason}");

    /// <summary>Parses without throwing; <paramref name="reason"/> says why not (the text of <see cref="Parse"/>'s message after the location).</summary>
    public static bool TryParse(string? text, out Location location, out string? reason)
    {
        location = default;
        reason = null;
        if (string.IsNullOrWhiteSpace(text)) { reason = "empty location"; return false; }
        foreach (char c in text)
            if (char.IsControl(c)) { reason = "control character in location"; return false; }
        int sep = text.IndexOf(Separator, StringComparison.Ordinal);
        if (sep < 0)
        {
            // "s3:bucket/key" and friends are mistyped URLs, not relative paths.
            foreach (string prefix in (string[])["s3:", "gs:", "file:"])
                if (text.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
                {
                    reason = $"malformed URI (expected {prefix}//...)";
                    return false;
                }
            location = new Location(text, 0);
            return true;
        }
        var url = new Location(text, sep + Separator.Length);
        string authority = url.Authority;
        bool hasPath = text.IndexOf('/', url._authorityStart) >= 0;
        switch (url.Scheme)
        {
            case "file":
                // "file://frames" is a host without a path, not a file: naming the host shows the missing slash.
                if (!hasPath && !IsLocalHost(authority))
                {
                    reason = $"file URI names host '{authority}' (use file:///absolute/path)";
                    return false;
                }
                if (!hasPath) { reason = "file URI has no path (use file:///absolute/path)"; return false; }
                break;
            case "s3":
            case "gs":
                if (authority.Length == 0) { reason = "no bucket name"; return false; }
                break;
            default:
                reason = $"unsupported scheme '{url.Scheme}://' (use file://, s3:// or gs://)";
                return false;
        }
        location = url;
        return true;
    }

    // RFC 8089: an empty host and "localhost" both mean this machine.
    private static bool IsLocalHost(string host) => host.Length == 0 || host.Equals("localhost", StringComparison.OrdinalIgnoreCase);

    /// <summary>The text as parsed (or as <see cref="Resolve"/> joined it), so <c>Parse(l.ToString()) == l</c>.</summary>
    public override string ToString() => _text ?? "";
}
