using System.Globalization;

namespace GwReprocess.Time;

/// <summary>An exact length of time in nanoseconds, the difference of two <see cref="GpsTime"/>s.</summary>
public readonly record struct GpsDuration : IComparable<GpsDuration>
{
    private const long NanosPerSecond = 1_000_000_000L;

    /// <summary>Total length in nanoseconds.</summary>
    public long TotalNanoseconds { get; }

    private GpsDuration(long nanoseconds) => TotalNanoseconds = nanoseconds;

    public static GpsDuration Zero => default;

    public static GpsDuration FromNanoseconds(long nanoseconds) => new(nanoseconds);

    public static GpsDuration FromSeconds(long seconds) => new(checked(seconds * NanosPerSecond));

    /// <summary>Rounds to the nearest nanosecond; use the integer overload where seconds are whole.</summary>
    public static GpsDuration FromSeconds(double seconds)
    {
        if (!double.IsFinite(seconds) || Math.Abs(seconds) > long.MaxValue / (double)NanosPerSecond)
            throw new ArgumentOutOfRangeException(nameof(seconds), seconds, "duration out of range");
        return new((long)Math.Round(seconds * NanosPerSecond, MidpointRounding.AwayFromZero));
    }

    public double TotalSeconds => TotalNanoseconds / (double)NanosPerSecond;

    public bool IsWholeSeconds => TotalNanoseconds % NanosPerSecond == 0;

    /// <summary>Parses a decimal number of seconds ("4096", "0.25") exactly.</summary>
    public static GpsDuration Parse(string text) =>
        TryParse(text, out var d) ? d : throw new FormatException($"'{text}' is not a duration in seconds");

    public static bool TryParse(string? text, out GpsDuration duration)
    {
        duration = default;
        if (!GpsTime.TryParseDecimalNanoseconds(text, allowNegative: true, out long ns)) return false;
        duration = new(ns);
        return true;
    }

    public static GpsDuration operator +(GpsDuration a, GpsDuration b) => new(checked(a.TotalNanoseconds + b.TotalNanoseconds));
    public static GpsDuration operator -(GpsDuration a, GpsDuration b) => new(checked(a.TotalNanoseconds - b.TotalNanoseconds));
    public static GpsDuration operator -(GpsDuration a) => new(-a.TotalNanoseconds);
    public static GpsDuration operator *(GpsDuration a, long k) => new(checked(a.TotalNanoseconds * k));
    public static long operator /(GpsDuration a, GpsDuration b) => a.TotalNanoseconds / b.TotalNanoseconds;
    public static GpsDuration operator %(GpsDuration a, GpsDuration b) => new(a.TotalNanoseconds % b.TotalNanoseconds);
    public static bool operator <(GpsDuration a, GpsDuration b) => a.TotalNanoseconds < b.TotalNanoseconds;
    public static bool operator >(GpsDuration a, GpsDuration b) => a.TotalNanoseconds > b.TotalNanoseconds;
    public static bool operator <=(GpsDuration a, GpsDuration b) => a.TotalNanoseconds <= b.TotalNanoseconds;
    public static bool operator >=(GpsDuration a, GpsDuration b) => a.TotalNanoseconds >= b.TotalNanoseconds;

    public int CompareTo(GpsDuration other) => TotalNanoseconds.CompareTo(other.TotalNanoseconds);

    /// <summary>Seconds as the shortest exact decimal ("4096", "0.25").</summary>
    public override string ToString() => GpsTime.FormatDecimalNanoseconds(TotalNanoseconds);
}
