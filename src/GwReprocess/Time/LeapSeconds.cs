using System.Globalization;

namespace GwReprocess.Time;

/// <summary>The UTC leap-second table since the GPS epoch, and conversions across it.</summary>
/// <remarks>
/// GPS has no leap seconds; UTC inserted one at the end of each listed day (23:59:60). The table
/// must be extended when the IERS announces a new one (none is scheduled as of 2026; GPS − UTC = 18 s).
/// </remarks>
public static class LeapSeconds
{
    /// <summary>UTC midnights that followed an inserted leap second.</summary>
    private static readonly DateTime[] After =
    [
        new(1981, 7, 1), new(1982, 7, 1), new(1983, 7, 1), new(1985, 7, 1), new(1988, 1, 1),
        new(1990, 1, 1), new(1991, 1, 1), new(1992, 7, 1), new(1993, 7, 1), new(1994, 7, 1),
        new(1996, 1, 1), new(1997, 7, 1), new(1999, 1, 1), new(2006, 1, 1), new(2009, 1, 1),
        new(2012, 7, 1), new(2015, 7, 1), new(2017, 1, 1),
    ];

    private static readonly DateTime GpsEpochUtc = new(1980, 1, 6, 0, 0, 0, DateTimeKind.Utc);

    private const long NanosPerSecond = 1_000_000_000L;

    /// <summary>GPS second at which each leap second began: midnight's GPS time minus one.</summary>
    private static readonly long[] LeapStartGps = BuildLeapStarts();

    private static long[] BuildLeapStarts()
    {
        var starts = new long[After.Length];
        for (int k = 0; k < After.Length; k++)
            starts[k] = (long)(After[k] - GpsEpochUtc.Date).TotalSeconds + k;
        return starts;
    }

    /// <summary>GPS − UTC in seconds at a GPS time (0 at the epoch, 18 since 2017).</summary>
    public static int OffsetAt(GpsTime gps)
    {
        long s = gps.Seconds;
        int n = 0;
        while (n < LeapStartGps.Length && LeapStartGps[n] < s) n++;
        // Inside a leap second the offset already counts it.
        if (n < LeapStartGps.Length && LeapStartGps[n] == s) n++;
        return n;
    }

    internal static DateTime GpsToUtc(GpsTime gps, out bool inLeapSecond)
    {
        long s = gps.Seconds;
        int passed = 0;
        inLeapSecond = false;
        foreach (long start in LeapStartGps)
        {
            if (s > start) passed++;
            else if (s == start) { inLeapSecond = true; break; }
            else break;
        }
        // During a leap second, report 23:59:59 of that day (DateTime cannot hold :60).
        long utcSeconds = s - passed - (inLeapSecond ? 1 : 0);
        long ticks = utcSeconds * TimeSpan.TicksPerSecond + gps.Nanoseconds / 100;
        return GpsEpochUtc.AddTicks(ticks);
    }

    internal static GpsTime UtcToGps(DateTime utc, bool leapSecond)
    {
        var u = DateTime.SpecifyKind(utc, DateTimeKind.Utc);
        int passed = 0;
        foreach (var after in After)
            if (u >= DateTime.SpecifyKind(after, DateTimeKind.Utc)) passed++;
        long ticks = (u - GpsEpochUtc).Ticks;
        long seconds = Math.DivRem(ticks, TimeSpan.TicksPerSecond, out long rem);
        if (rem < 0) { seconds--; rem += TimeSpan.TicksPerSecond; }
        long total = (seconds + passed) * NanosPerSecond + rem * 100;
        if (leapSecond) total += NanosPerSecond;
        return GpsTime.FromNanoseconds(total);
    }

    /// <summary>Parses "yyyy-MM-dd[ T]HH:mm:ss[.fffffffff][Z]", accepting :60 only on a real leap second.</summary>
    internal static bool TryParseUtc(string text, out GpsTime time)
    {
        time = default;
        string t = text.Trim().TrimEnd('Z', 'z').Replace('T', ' ');
        int dot = t.IndexOf('.');
        string main = dot < 0 ? t : t[..dot];
        string frac = dot < 0 ? "" : t[(dot + 1)..];
        if (frac.Length > 9 || !frac.All(char.IsAsciiDigit)) return false;
        bool leap = main.EndsWith(":60", StringComparison.Ordinal);
        if (leap) main = main[..^2] + "59";
        string[] formats = ["yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd HH:mm", "yyyy-MM-dd"];
        if (!DateTime.TryParseExact(main, formats, CultureInfo.InvariantCulture,
                DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var dt))
            return false;
        if (leap && !Array.Exists(After, a => a == dt.Date.AddDays(1) && dt.Hour == 23 && dt.Minute == 59))
            return false;
        var gps = UtcToGps(dt, leap);
        long fracNs = frac.Length == 0 ? 0 : long.Parse(frac.PadRight(9, '0'), CultureInfo.InvariantCulture);
        time = GpsTime.FromNanoseconds(gps.TotalNanoseconds + fracNs);
        return true;
    }
}
