using GwReprocess.Time;

namespace GwReprocess.Tests.Time;

public class GpsTimeTests
{
    [Fact]
    public void GW150914_converts_as_tconvert_does()
    {
        var t = GpsTime.Parse("1126259462.4");
        Assert.Equal(1126259462L, t.Seconds);
        Assert.Equal(400_000_000, t.Nanoseconds);
        Assert.Equal(new DateTime(2015, 9, 14, 9, 50, 45, 400, DateTimeKind.Utc), t.ToDateTimeUtc());
        Assert.Equal("2015-09-14T09:50:45.4Z", t.ToUtcString());
        Assert.Equal(t, GpsTime.Parse("2015-09-14 09:50:45.4"));
        Assert.Equal(t, GpsTime.FromUtc(new DateTime(2015, 9, 14, 9, 50, 45, 400, DateTimeKind.Utc)));
    }

    [Theory]
    // Values from LAL's XLALUTCToGPS / gwpy tconvert.
    [InlineData("1980-01-06 00:00:00", "0")]
    [InlineData("1981-07-01 00:00:00", "46828801")]
    [InlineData("2010-09-16 06:42:17", "968654552")]
    [InlineData("2017-01-01 00:00:00", "1167264018")]
    [InlineData("2019-04-01 15:00:00", "1238166018")]
    public void Utc_and_gps_agree_with_lal(string utc, string gps)
    {
        Assert.Equal(GpsTime.Parse(gps), GpsTime.Parse(utc));
        Assert.Equal(utc.Replace(' ', 'T') + "Z", GpsTime.Parse(gps).ToUtcString());
    }

    [Fact]
    public void The_2016_leap_second_is_counted_once()
    {
        var before = GpsTime.Parse("2016-12-31 23:59:59");
        var leap = GpsTime.Parse("2016-12-31 23:59:60");
        var after = GpsTime.Parse("2017-01-01 00:00:00");
        Assert.Equal(GpsTime.FromSeconds(1167264016), before);
        Assert.Equal(GpsTime.FromSeconds(1167264017), leap);
        Assert.Equal(GpsTime.FromSeconds(1167264018), after);
        Assert.Equal(1.0, (leap - before).TotalSeconds);
        Assert.Equal(1.0, (after - leap).TotalSeconds);

        Assert.True(leap.IsLeapSecond);
        Assert.False(before.IsLeapSecond);
        Assert.False(after.IsLeapSecond);
        Assert.Equal("2016-12-31T23:59:60Z", leap.ToUtcString());
        Assert.Equal("2016-12-31T23:59:60.25Z", (leap + GpsDuration.FromSeconds(0.25)).ToUtcString());
        // DateTime has no :60; inside the leap second it holds at 23:59:59 + fraction.
        Assert.Equal(new DateTime(2016, 12, 31, 23, 59, 59, DateTimeKind.Utc), leap.ToDateTimeUtc());
        Assert.Equal(17, LeapSeconds.OffsetAt(before));
        Assert.Equal(18, LeapSeconds.OffsetAt(leap));
        Assert.Equal(18, LeapSeconds.OffsetAt(after));
    }

    [Fact]
    public void Elapsed_utc_across_a_leap_second_is_one_second_longer()
    {
        var a = GpsTime.Parse("2016-12-31 12:00:00");
        var b = GpsTime.Parse("2017-01-01 12:00:00");
        Assert.Equal(86401.0, (b - a).TotalSeconds);
        var c = GpsTime.Parse("2017-12-31 12:00:00");
        var d = GpsTime.Parse("2018-01-01 12:00:00");
        Assert.Equal(86400.0, (d - c).TotalSeconds);
    }

    [Fact]
    public void A_leap_second_is_only_accepted_where_one_was_inserted()
    {
        Assert.False(GpsTime.TryParse("2018-12-31 23:59:60", out _));
        Assert.True(GpsTime.TryParse("2015-06-30T23:59:60Z", out var t));
        // 2017-01-01 is GPS 1167264018; 550 days and one leap second earlier, 2015-07-01 is 1119744017.
        Assert.Equal(GpsTime.FromSeconds(1119744016), t);
    }

    [Theory]
    [InlineData("1126259462", 1126259462L, 0)]
    [InlineData("1126259462.000000001", 1126259462L, 1)]
    [InlineData("0.5", 0L, 500_000_000)]
    [InlineData("-0.5", -1L, 500_000_000)]
    public void Decimal_gps_seconds_parse_exactly(string text, long seconds, int nanos)
    {
        var t = GpsTime.Parse(text);
        Assert.Equal(seconds, t.Seconds);
        Assert.Equal(nanos, t.Nanoseconds);
        Assert.Equal(text, t.ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("abc")]
    [InlineData("12.3.4")]
    [InlineData("1e9")]
    public void Garbage_does_not_parse(string text) => Assert.False(GpsTime.TryParse(text, out _));

    [FsCheck.Xunit.Property]
    public bool Utc_round_trip_is_exact_off_leap_seconds(uint seconds, uint nanos)
    {
        var t = GpsTime.FromSecondsAndNanoseconds(seconds % 2_000_000_000, nanos % 1_000_000_000 / 100 * 100);
        if (t.IsLeapSecond) return true;
        return GpsTime.FromUtc(t.ToDateTimeUtc()) == t && GpsTime.Parse(t.ToUtcString()) == t;
    }
}
