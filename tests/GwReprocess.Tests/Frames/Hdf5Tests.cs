using GwReprocess.Data;
using GwReprocess.Frames.Gwf;
using GwReprocess.Frames.Hdf5;
using GwReprocess.Time;
using PureHDF;

namespace GwReprocess.Tests.Frames;

/// <summary>The GWOSC and gwpy HDF5 files read to the reference values and equal their GWF twins; score files round-trip.</summary>
public sealed class Hdf5Tests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "hdf5-" + Guid.NewGuid().ToString("N")[..8]);

    public Hdf5Tests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task GwoscFileMatchesReferenceAndItsGwfTwin()
    {
        var h5 = await Hdf5TimeSeriesReader.ReadAsync(RealData.PathOf("gwosc/H-H1_LOSC_4_V2-1126259446-32.hdf5"));
        Assert.Equal(Hdf5Layout.Gwosc, h5.Layout);
        var datasets = RealData.Of("gwosc/H-H1_LOSC_4_V2-1126259446-32.hdf5").GetProperty("datasets");
        var strain = h5["H1:GWOSC-STRAIN"];
        Assert.Equal(GpsTime.FromSeconds(1126259446), strain.T0);
        Assert.Equal(4096, strain.SampleRate.Hertz);
        CheckStats(datasets.GetProperty("strain/Strain").GetProperty("stats"), strain.Samples.ToArray());
        Assert.Equal("H1", h5.Meta["Detector"]);
        Assert.Equal("1126259446", h5.Meta["GPSstart"]);
        Assert.Equal("32", h5.Meta["Duration"]);
        Assert.Equal("2015-09-14T09:50:29", h5.Meta["UTCstart"]);
        Assert.Equal("StrainTimeSeries", h5.Meta["Type"]);
        var dq = h5.Masks["DQmask"];
        Assert.Equal(["DATA", "CBC_CAT1", "CBC_CAT2", "CBC_CAT3", "BURST_CAT1", "BURST_CAT2", "BURST_CAT3"], dq.BitNames);
        Assert.All(dq.Series.Samples.ToArray(), v => Assert.Equal(127, v));
        Assert.Equal(["NO_CBC_HW_INJ", "NO_BURST_HW_INJ", "NO_DETCHAR_HW_INJ", "NO_CW_HW_INJ", "NO_STOCH_HW_INJ"], h5.Masks["Injmask"].BitNames);
        Assert.All(h5.Masks["Injmask"].Series.Samples.ToArray(), v => Assert.Equal(31, v));

        await using var gwf = await GwfFile.OpenAsync(RealData.PathOf("gwosc/H-H1_LOSC_4_V2-1126259446-32.gwf"));
        var twin = await gwf.ReadAsync("H1:LOSC-STRAIN");
        Assert.Equal(strain.T0, twin.T0);
        Assert.Equal(strain.SampleRate, twin.SampleRate);
        Assert.True(strain.Samples.Span.SequenceEqual(twin.Samples.Span));
        var gwfDq = await gwf.ReadAsync("H1:LOSC-DQMASK");
        var gwfInj = await gwf.ReadAsync("H1:LOSC-INJMASK");
        Assert.Equal(dq.Series.Samples.ToArray(), gwfDq.Samples.ToArray());
        Assert.Equal(h5.Masks["Injmask"].Series.Samples.ToArray(), gwfInj.Samples.ToArray());
    }

    [Fact]
    public async Task GwpyFileMatchesReferenceAndItsGwfTwin()
    {
        var h5 = await Hdf5TimeSeriesReader.ReadAsync(RealData.PathOf("gwpy/HLV-HW100916-968654552-1.hdf"));
        Assert.Equal(Hdf5Layout.Gwpy, h5.Layout);
        Assert.Equal(["H1:LDAS-STRAIN", "L1:LDAS-STRAIN", "V1:h_16384Hz"], h5.Series.Select(s => s.Channel.Value));
        var datasets = RealData.Of("gwpy/HLV-HW100916-968654552-1.hdf").GetProperty("datasets");
        await using var gwf = await GwfFile.OpenAsync(RealData.PathOf("gwpy/HLV-HW100916-968654552-1.gwf"));
        foreach (var s in h5.Series)
        {
            Assert.Equal(GpsTime.FromSeconds(968654552), s.T0);
            Assert.Equal(16384, s.SampleRate.Hertz);
            Assert.Equal("strain", s.Unit);
            CheckStats(datasets.GetProperty(s.Channel.Value).GetProperty("stats"), s.Samples.ToArray());
            var twin = await gwf.ReadAsync(s.Channel.Value);
            Assert.Equal(s.T0, twin.T0);
            Assert.Equal(s.Unit, twin.Unit);
            Assert.True(s.Samples.Span.SequenceEqual(twin.Samples.Span));
        }
    }

    [Fact]
    public async Task ScoreFileRoundTripsWithAttributes()
    {
        var t0 = GpsTime.FromNanoseconds(1_238_166_018_250_000_000);
        var scores = new double[1000];
        for (int i = 0; i < scores.Length; i++) scores[i] = Math.Sin(i * 0.1) * 1e3 + i;
        var series = new TimeSeries(new ChannelName("H1L1:BBHNET-SCORE"), t0, new SampleRate(16), scores, "");
        var other = new TimeSeries(new ChannelName("H1:STRAIN_DEEPCLEAN"), t0, new SampleRate(4096), new double[] { 1e-21, -2e-21, double.NaN }, "strain");
        string path = Path.Combine(_dir, "scores.h5");
        await Hdf5TimeSeriesWriter.WriteAsync(path, [series, other], new Dictionary<string, object> { ["model"] = "bbhnet" });
        Assert.Empty(Directory.GetFiles(_dir, ".*.tmp"));
        var back = await Hdf5TimeSeriesReader.ReadAsync(path);
        Assert.Equal(Hdf5Layout.TimeSeries, back.Layout);
        var s = back["H1L1:BBHNET-SCORE"];
        Assert.Equal(t0, s.T0);
        Assert.Equal(16, s.SampleRate.Hertz);
        Assert.Equal(scores, s.Samples.ToArray());
        var o = back["H1:STRAIN_DEEPCLEAN"];
        Assert.Equal("strain", o.Unit);
        Assert.Equal(BitConverter.DoubleToInt64Bits(double.NaN), BitConverter.DoubleToInt64Bits(o.Samples.Span[2]));
        // Attributes as other tools see them.
        using var file = H5File.OpenRead(path);
        var ds = file.Dataset("H1L1:BBHNET-SCORE");
        Assert.Equal(t0.TotalSeconds, ds.Attribute("t0").Read<double>());
        Assert.Equal(16.0, ds.Attribute("sample_rate").Read<double>());
        Assert.Equal("H1L1:BBHNET-SCORE", ds.Attribute("channel").Read<string>());
        Assert.Equal(1.0 / 16, ds.Attribute("dx").Read<double>());
        Assert.Equal("bbhnet", file.Attribute("model").Read<string>());
    }

    [Fact]
    public async Task NotHdf5IsOneClearError()
    {
        var e = await Assert.ThrowsAsync<Hdf5FormatException>(() => Hdf5TimeSeriesReader.ReadAsync(RealData.PathOf("framel/test.gwf")));
        Assert.Contains("test.gwf", e.Message);
        var missing = await Hdf5TimeSeriesReader.ReadAsync(RealData.PathOf("gwpy/HLV-HW100916-968654552-1.hdf"));
        var m = Assert.Throws<Hdf5FormatException>(() => missing["X1:NOPE"]);
        Assert.Contains("X1:NOPE", m.Message);
    }

    private static void CheckStats(System.Text.Json.JsonElement stats, double[] values)
    {
        Assert.Equal(stats.GetProperty("n").GetInt32(), values.Length);
        for (int k = 0; k < 5; k++) Assert.Equal(stats.GetProperty("first5")[k].GetDouble(), values[k]);
        Assert.Equal(stats.GetProperty("last1").GetDouble(), values[^1]);
        Assert.Equal(stats.GetProperty("min").GetDouble(), values.Min());
        Assert.Equal(stats.GetProperty("max").GetDouble(), values.Max());
        Assert.Equal(stats.GetProperty("mean").GetDouble(), RealData.Mean(values));
        Assert.Equal(stats.GetProperty("std").GetDouble(), RealData.Std(values));
    }
}
