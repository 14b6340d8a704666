using System.Globalization;
using System.Text.RegularExpressions;
using GwReprocess.Time;

namespace GwReprocess.Data;

/// <summary>An IGWN frame file name, <c>OBS-TYPE-GPSSTART-DURATION.ext</c> (LIGO-T010150).</summary>
/// <example><c>H-H1_HOFT_C00-1238166018-4096.gwf</c>: observatory H, type H1_HOFT_C00, [1238166018, 1238170114).</example>
public sealed partial record FrameFileName(string Observatory, string FrameType, GpsTime Start, GpsDuration Duration, string Extension = "gwf")
{
    public Segment Span => Segment.FromStart(Start, Duration);

    /// <summary>Parses the last path component of a path or URL; returns null when it does not follow the convention.</summary>
    public static FrameFileName? TryParse(string pathOrUrl)
    {
        string name = pathOrUrl;
        int slash = name.LastIndexOfAny(['/', '\\']);
        if (slash >= 0) name = name[(slash + 1)..];
        var m = Pattern().Match(name);
        if (!m.Success) return null;
        if (!GpsTime.TryParseDecimalNanoseconds(m.Groups["start"].Value, false, out long start)) return null;
        if (!GpsDuration.TryParse(m.Groups["dur"].Value, out var duration) || duration <= GpsDuration.Zero) return null;
        return new FrameFileName(m.Groups["obs"].Value, m.Groups["type"].Value, GpsTime.FromNanoseconds(start), duration, m.Groups["ext"].Value);
    }

    /// <summary>The file name for a span of frames.</summary>
    public override string ToString() =>
        $"{Observatory}-{FrameType}-{Start}-{Duration}.{Extension}";

    // Observatory letters, a type without '-', integer (or decimal) GPS start and duration.
    [GeneratedRegex(@"^(?<obs>[A-Za-z0-9]+)-(?<type>[^-/\\]+)-(?<start>\d+(\.\d+)?)-(?<dur>\d+(\.\d+)?)\.(?<ext>[A-Za-z0-9.]+)$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
