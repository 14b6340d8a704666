using System.Globalization;

namespace GwReprocess.Time;

/// <summary>An instant on the GPS time scale: whole seconds since 1980-01-06 00:00:00 UTC plus nanoseconds, exact.</summary>
/// <remarks>
/// Stored as one 64-bit nanosecond count so that arithmetic and comparison are exact; that covers
/// GPS times up to about 9.2e9 s (year 2272), far past any detector archive.
/// </remarks>
public readonly record struct GpsTime : IComparable<GpsTime>
{
    private const long NanosPerSecond = 1_000_000_000L;

    /// <summary>Nanoseconds since the GPS epoch.</summary>
    public long TotalNanoseconds { get; }

    private GpsTime(long totalNanoseconds) => TotalNanoseconds = totalNanoseconds;

    /// <summary>The GPS epoch, 1980-01-06 00:00:00 UTC.</summary>
    public static GpsTime Epoch => default;

    public static GpsTime FromNanoseconds(long totalNanoseconds) => new(totalNanoseconds);

    /// <summary>From integer seconds and nanoseconds (0 ≤ nanoseconds &lt; 1e9), as GWF GTimeS/GTimeN.</summary>
    public static GpsTime FromSecondsAndNanoseconds(long seconds, long nanoseconds)
    {
        if (nanoseconds < 0 || nanoseconds >= NanosPerSecond)
            throw new ArgumentOutOfRangeException(nameof(nanoseconds), nanoseconds, "nanoseconds must be in [0, 1e9)");
        return new(checked(seconds * NanosPerSecond + nanoseconds));
    }

    public static GpsTime FromSeconds(long seconds) => new(checked(seconds * NanosPerSecond));

    /// <summary>Rounds to the nearest nanosecond; a double carries ~0.2 µs at current GPS times, so prefer exact forms.</summary>
    public static GpsTime FromSeconds(double seconds) => Epoch + GpsDuration.FromSeconds(seconds);

    /// <summary>Whole seconds (floor), as GWF's GTimeS.</summary>
    public long Seconds => Math.DivRem(TotalNanoseconds, NanosPerSecond, out long r) - (r < 0 ? 1 : 0);

    /// <summary>Nanoseconds past <see cref="Seconds"/>, in [0, 1e9), as GWF's GTimeN.</summary>
    public int Nanoseconds => (int)(TotalNanoseconds - Seconds * NanosPerSecond);

    public double TotalSeconds => TotalNanoseconds / (double)NanosPerSecond;

    public bool IsWholeSecond => Nanoseconds == 0;

    public static GpsTime operator +(GpsTime t, GpsDuration d) => new(checked(t.TotalNanoseconds + d.TotalNanoseconds));
    public static GpsTime operator -(GpsTime t, GpsDuration d) => new(checked(t.TotalNanoseconds - d.TotalNanoseconds));
    public static GpsDuration operator -(GpsTime a, GpsTime b) => GpsDuration.FromNanoseconds(checked(a.TotalNanoseconds - b.TotalNanoseconds));
    public static bool operator <(GpsTime a, GpsTime b) => a.TotalNanoseconds < b.TotalNanoseconds;
    public static bool operator >(GpsTime a, GpsTime b) => a.TotalNanoseconds > b.TotalNanoseconds;
    public static bool operator <=(GpsTime a, GpsTime b) => a.TotalNanoseconds <= b.TotalNanoseconds;
    public static bool operator >=(GpsTime a, GpsTime b) => a.TotalNanoseconds >= b.TotalNanoseconds;

    public static GpsTime Min(GpsTime a, GpsTime b) => a <= b ? a : b;
    public static GpsTime Max(GpsTime a, GpsTime b) => a >= b ? a : b;

    public int CompareTo(GpsTime other) => TotalNanoseconds.CompareTo(other.TotalNanoseconds);

    /// <summary>The UTC instant, as gwpy's <c>tconvert</c> gives it; a time inside a leap second maps onto 23:59:59 (see <see cref="IsLeapSecond"/>).</summary>
    public DateTime ToDateTimeUtc() => LeapSeconds.GpsToUtc(this, out _);

    /// <summary>True when this instant falls inside an inserted leap second (23:59:60 UTC).</summary>
    public bool IsLeapSecond
    {
        get
        {
            LeapSeconds.GpsToUtc(this, out bool leap);
            return leap;
        }
    }

    /// <summary>ISO-8601 UTC with up to nanosecond digits, writing a leap second as :60 (as LAL's XLALGPSToUTC does).</summary>
    public string ToUtcString()
    {
        var utc = LeapSeconds.GpsToUtc(this, out bool leap);
        string seconds = (leap ? 60 : utc.Second).ToString("00", CultureInfo.InvariantCulture);
        string fraction = Nanoseconds == 0 ? "" : "." + Nanoseconds.ToString("000000000", CultureInfo.InvariantCulture).TrimEnd('0');
        return utc.ToString("yyyy-MM-dd'T'HH:mm:", CultureInfo.InvariantCulture) + seconds + fraction + "Z";
    }

    /// <summary>The GPS instant of a UTC time (<see cref="DateTimeKind.Utc"/> or unspecified, read as UTC).</summary>
    public static GpsTime FromUtc(DateTime utc)
    {
        if (utc.Kind == DateTimeKind.Local) utc = utc.ToUniversalTime();
        return LeapSeconds.UtcToGps(utc, leapSecond: false);
    }

    /// <summary>
    /// Parses GPS seconds ("1126259462.4", exact to the nanosecond) or a UTC date-time
    /// ("2015-09-14 09:50:45.4", "2016-12-31T23:59:60Z").
    /// </summary>
    public static GpsTime Parse(string text) =>
        TryParse(text, out var t) ? t : throw new FormatException($"'{text}' is neither GPS seconds nor a UTC date-time");

    public static bool TryParse(string? text, out GpsTime time)
    {
        time = default;
        if (string.IsNullOrWhiteSpace(text)) return false;
        text = text.Trim();
        if (TryParseDecimalNanoseconds(text, allowNegative: true, out long ns))
        {
            time = new(ns);
            return true;
        }
        return LeapSeconds.TryParseUtc(text, out time);
    }

    /// <summary>GPS seconds as the shortest exact decimal.</summary>
    public override string ToString() => FormatDecimalNanoseconds(TotalNanoseconds);

    internal static string FormatDecimalNanoseconds(long ns)
    {
        bool negative = ns < 0;
        ulong magnitude = negative ? (ulong)(-(ns + 1)) + 1 : (ulong)ns;
        ulong whole = magnitude / NanosPerSecond, frac = magnitude % NanosPerSecond;
        string s = whole.ToString(CultureInfo.InvariantCulture);
        if (frac != 0) s += "." + frac.ToString("000000000", CultureInfo.InvariantCulture).TrimEnd('0');
        return negative ? "-" + s : s;
    }

    /// <summary>Parses "[-]digits[.digits]" (at most 9 fractional digits kept exactly; more are rounded) into nanoseconds.</summary>
    internal static bool TryParseDecimalNanoseconds(string? text, bool allowNegative, out long nanoseconds)
    {
        nanoseconds = 0;
        if (string.IsNullOrEmpty(text)) return false;
        ReadOnlySpan<char> s = text.AsSpan().Trim();
        bool negative = false;
        if (s.Length > 0 && (s[0] == '-' || s[0] == '+'))
        {
            negative = s[0] == '-';
            if (negative && !allowNegative) return false;
            s = s[1..];
        }
        int dot = s.IndexOf('.');
        ReadOnlySpan<char> whole = dot < 0 ? s : s[..dot];
        ReadOnlySpan<char> frac = dot < 0 ? ReadOnlySpan<char>.Empty : s[(dot + 1)..];
        if (whole.Length == 0 && frac.Length == 0) return false;
        foreach (char c in whole) if (c < '0' || c > '9') return false;
        foreach (char c in frac) if (c < '0' || c > '9') return false;
        if (whole.Length > 11) return false;
        long w = whole.Length == 0 ? 0 : long.Parse(whole, NumberStyles.None, CultureInfo.InvariantCulture);
        long f = 0;
        for (int i = 0; i < 9; i++) f = f * 10 + (i < frac.Length ? frac[i] - '0' : 0);
        if (frac.Length > 9 && frac[9] >= '5') f++;
        long total = w * NanosPerSecond + f;
        nanoseconds = negative ? -total : total;
        return true;
    }
}
