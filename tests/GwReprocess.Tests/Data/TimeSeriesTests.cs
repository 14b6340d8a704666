using GwReprocess.Data;
using GwReprocess.Time;

namespace GwReprocess.Tests.Data;

public class TimeSeriesTests
{
    [Fact]
    public void Span_and_crop_follow_the_samples()
    {
        var samples = new double[16384 * 4];
        for (int i = 0; i < samples.Length; i++) samples[i] = i;
        var ts = new TimeSeries(new ChannelName("H1:GDS-CALIB_STRAIN"), GpsTime.FromSeconds(1238166018), new SampleRate(16384), samples, "strain");
        Assert.Equal(new Segment(1238166018, 1238166022), ts.Span);
        Assert.Equal("H1", ts.Channel.Ifo);
        Assert.Equal("GDS-CALIB_STRAIN", ts.Channel.Name);

        var crop = ts.Crop(GpsTime.Parse("1238166019.5"), GpsTime.FromSeconds(1238166020));
        Assert.Equal(8192, crop.Length);
        Assert.Equal(16384 * 1.5, crop.Samples.Span[0]);
        Assert.Equal(GpsTime.Parse("1238166019.5"), crop.T0);
        Assert.Equal(GpsTime.Parse("1238166018.00006103515625".Substring(0, 20)), ts.TimeAt(1)); // 61035.15625 ns rounds to 61035 ns

        var e = Assert.Throws<BadInputException>(() => ts.Crop(GpsTime.FromSeconds(1238166021), GpsTime.FromSeconds(1238166023)));
        Assert.Contains("H1:GDS-CALIB_STRAIN", e.Message);
        Assert.Equal("H1:GDS-CALIB_STRAIN_DEEPCLEAN", ts.WithChannel(ts.Channel.WithSuffix("_DEEPCLEAN")).Channel.Value);
    }
}
