using GwReprocess.Analysis;
using GwReprocess.Dsp;
using GwReprocess.Jobs;

namespace GwReprocess.Tests.Analysis;

public class ThroughputTests
{
    // Two jobs on two servers, synchronized start at t0 = 1_700_000_000 (Unix s):
    //   job A (server_0): [t0, t0+100) processes 50 s of data, then [t0+100, t0+200) another 50 s;
    //   job B (server_1): [t0+50, t0+150) processes 200 s of data.
    private const double T0 = 1_700_000_000;

    private static readonly string[] Csv =
    [
        JobMetricsCsv.Header,
        "clean_H1L1_1000_100,server_0,0,1700000000.000000,1700000100.000000,1000,1050,50,400,400,3.5,7,9,1000,2000,0,0.5",
        "clean_H1L1_1000_100,server_0,0,1700000100.000000,1700000200.000000,1050,1100,50,400,398,3.6,7.5,10,1000,2000,1,0",
        "clean_H1L1_1100_200,server_1,1,1700000050.000000,1700000150.000000,1100,1300,200,1600,1600,2,4,5,4000,8000,0,0",
    ];

    private static Throughput Run() => new(JobMetricsCsv.Parse(Csv, "m.csv"), synchronizedStart: T0);

    [Fact]
    public void Run_level_throughput_is_data_over_wall_time()
    {
        var t = Run();
        Assert.Equal(300, t.DataSeconds);
        Assert.Equal(200, t.WallSeconds);
        Assert.Equal(1.5, t.DataSecondsPerSecond);
        Assert.Equal(["server_0", "server_1"], t.Servers.ToArray());
    }

    [Fact]
    public void Binned_series_spreads_each_interval_over_its_wall_time()
    {
        var series = Run().Series(50);
        // Bin [0,50): A 25 s → 0.5/s. [50,100): A 25 + B 100 → 2.5/s. [100,150): A 25 + B 100 → 2.5/s. [150,200): A 25 → 0.5/s.
        Assert.Equal([0.5, 2.5, 2.5, 0.5], series.Select(b => b.DataSecondsPerSecond).ToArray());
        Assert.Equal([0.5, 0.5, 0.5, 0.5], Run().Series(50, "server_0").Select(b => b.DataSecondsPerSecond).ToArray());
        Assert.Equal([0.0, 2.0, 2.0, 0.0], Run().Series(50, "server_1").Select(b => b.DataSecondsPerSecond).ToArray());
        // Integrating the series gives back all the data.
        Assert.Equal(300, Run().Series(30).Sum(b => b.DataSecondsPerSecond * (b.End - b.Start)), 9);
    }

    [Fact]
    public void Distribution_is_numpy_quartiles_of_full_bins()
    {
        var q = Run().Distribution(50);
        // np.percentile([0.5, 2.5, 2.5, 0.5], [25, 50, 75]) = [0.5, 1.5, 2.5]
        Assert.Equal(new Quartiles(0.5, 1.5, 2.5), q);
    }

    [Theory]
    [InlineData(new[] { 1.0, 2, 3, 4 }, 25, 1.75)]
    [InlineData(new[] { 1.0, 2, 3, 4 }, 50, 2.5)]
    [InlineData(new[] { 7.0 }, 90, 7.0)]
    [InlineData(new[] { 10.0, 0, 5 }, 75, 7.5)]
    public void Percentiles_match_numpy_linear(double[] values, double p, double expected) =>
        Assert.Equal(expected, Percentiles.Of(values, p), 12);

    [Fact]
    public void Metrics_csv_round_trips_and_bad_rows_name_the_line()
    {
        var rows = JobMetricsCsv.Parse(Csv, "m.csv");
        Assert.Equal(Csv.Skip(1).ToArray(), JobMetricsCsv.ToCsv(rows).TrimEnd('\n').Split('\n').Skip(1).ToArray());
        var bad = Csv.Take(2).Append("x,server_0,0,1,0,1,2,3,4,5,6,7,8,9,10,11,12").ToArray();
        var e = Assert.Throws<BadInputException>(() => JobMetricsCsv.Parse(bad, "m.csv"));
        Assert.Equal("m.csv:3: wall_end is before wall_start", e.Message);
    }
}
