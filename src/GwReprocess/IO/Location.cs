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

    private Location(string text) => _text = text;

    /// <summary>The URL scheme in lower case (<c>file</c>, <c>s3</c>, <c>gs</c>), or "" for a path.</summary>
    public string Scheme
    {
        get
        {
            string text = _text ?? "";
            int sep = text.IndexOf(Separator, StringComparison.Ordinal);
            return sep < 0 ? "" : text[..sep].ToLowerInvariant();
        }
    }

    /// <summary>True for a URL (any scheme, <c>file://</c> included); false for a path.</summary>
    public bool IsUrl => (_text ?? "").Contains(Separator, StringComparison.Ordinal);

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
            string text = _text ?? "";
            if (!IsUrl) return text;
            if (Scheme != "file") return null;
            string rest = text[(text.IndexOf(Separator, StringComparison.Ordinal) + Separator.Length)..];
            int slash = rest.IndexOf('/');
            string host = rest[..slash];
            return host.Length == 0 || host.Equals("localhost", StringComparison.OrdinalIgnoreCase) ? Uri.UnescapeDataString(rest[slash..]) : null;
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
            string text = _text!;
            string rest = text[(text.IndexOf(Separator, StringComparison.Ordinal) + Separator.Length)..];
            int slash = rest.IndexOf('/');
            return slash < 0 ? rest : rest[..slash];
        }
    }

    /// <summary>What follows the authority of a URL, without its leading '/' (the object key of s3:// and gs://); "" for a path.</summary>
    public string UrlPath
    {
        get
        {
            if (!IsUrl) return "";
            string text = _text!;
            string rest = text[(text.IndexOf(Separator, StringComparison.Ordinal) + Separator.Length)..];
            int slash = rest.IndexOf('/');
            return slash < 0 ? "" : rest[(slash + 1)..];
        }
    }

    /// <summary>
    /// A relative path taken against <paramref name="baseDirectory"/> (joined with <see cref="Path.Combine(string, string)"/>,
    /// not normalised); absolute paths and URLs are returned unchanged.
    /// </summary>
    public Location Resolve(string baseDirectory)
    {
        ArgumentNullException.ThrowIfNull(baseDirectory);
        return IsRooted ? this : new Location(Path.Combine(baseDirectory, _text ?? ""));
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
            location = new Location(text);
            return true;
        }
        string scheme = text[..sep].ToLowerInvariant();
        string rest = text[(sep + Separator.Length)..];
        int slash = rest.IndexOf('/');
        switch (scheme)
        {
            case "file":
                // "file://frames" is a host without a path, not a file: naming the host shows the missing slash.
                if (slash < 0 && rest.Length > 0 && !rest.Equals("localhost", StringComparison.OrdinalIgnoreCase))
                {
                    reason = $"file URI names host '{rest}' (use file:///absolute/path)";
                    return false;
                }
                if (slash < 0) { reason = "file URI has no path (use file:///absolute/path)"; return false; }
                break;
            case "s3":
            case "gs":
                if (slash == 0 || rest.Length == 0) { reason = "no bucket name"; return false; }
                break;
            default:
                reason = $"unsupported scheme '{scheme}://' (use file://, s3:// or gs://)";
                return false;
        }
        location = new Location(text);
        return true;
    }

    /// <summary>The text as parsed (or as <see cref="Resolve"/> joined it), so <c>Parse(l.ToString()) == l</c>.</summary>
    public override string ToString() => _text ?? "";
}
