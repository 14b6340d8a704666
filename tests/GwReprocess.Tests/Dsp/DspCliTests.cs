using System.Globalization;
using GwReprocess.Data;
using GwReprocess.Frames.Gwf;
using GwReprocess.Time;

namespace GwReprocess.Tests.Dsp;

/// <summary>gwrepro asd and frames export --resample, run as a process on a GWF file holding SciPy's reference input.</summary>
public sealed class DspCliTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("gwrepro-dspcli-");
    private const string Channel = "X1:TEST-REFERENCE_INPUT";

    public void Dispose() => _dir.Delete(true);

    /// <summary>dsp-4096.h5's 16 s input written as two 8 s frames.</summary>
    private async Task<string> ReferenceGwfAsync()
    {
        var reference = ReferenceFile.Dsp4096;
        var t0 = GpsTime.FromSeconds(1238166018);
        var series = new TimeSeries(new ChannelName(Channel), t0, new SampleRate(4096), reference.Input, "strain");
        string path = Path.Combine(_dir.FullName, GwfWriter.FileName("X", "TEST", series.Span));
        var frames = GwfFrameData.Split([series], [Segment.FromStart(t0, GpsDuration.FromSeconds(8)), Segment.FromStart(t0 + GpsDuration.FromSeconds(8), GpsDuration.FromSeconds(8))]);
        await GwfWriter.WriteFileAsync(path, frames);
        return path;
    }

    [Theory]
    [InlineData("median", "asd_welch_median")]
    [InlineData("mean", "asd_welch_mean")]
    public async Task Asd_verb_reproduces_scipy_welch(string method, string dataset)
    {
        string gwf = await ReferenceGwfAsync();
        string csv = Path.Combine(_dir.FullName, "asd.csv");
        var r = await Cli.GwreproProcess.RunAsync("asd", gwf, "--channel", Channel, "--fftlength", "1", "--overlap", "0.5", "--method", method, "--out", csv);
        Assert.Equal(0, r.ExitCode);
        var lines = File.ReadAllLines(csv);
        Assert.Equal("frequency,asd", lines[0]);
        var expected = ReferenceFile.Dsp4096.Read(dataset);
        Assert.Equal(expected.Length, lines.Length - 1);
        for (int k = 0; k < expected.Length; k++)
        {
            var f = lines[k + 1].Split(',');
            Assert.Equal(k, double.Parse(f[0], CultureInfo.InvariantCulture));
            double v = double.Parse(f[1], CultureInfo.InvariantCulture);
            Assert.True(Math.Abs(v - expected[k]) <= 1e-6 * expected[k], $"{k} Hz: {v:E6} vs SciPy {expected[k]:E6}");
        }
    }

    [Fact]
    public async Task Export_with_resample_equals_scipy_resample_poly_in_every_format()
    {
        string gwf = await ReferenceGwfAsync();
        var expected = ReferenceFile.Dsp4096.Read("resample_poly_1_2");
        double tolerance = 1e-9 * ReferenceFile.MaxAbs(ReferenceFile.Dsp4096.Input);

        string csv = Path.Combine(_dir.FullName, "half.csv");
        var r = await Cli.GwreproProcess.RunAsync("frames", "export", gwf, "--channel", Channel, "--resample", "2048", "--out", csv);
        Assert.Equal(0, r.ExitCode);
        var rows = File.ReadAllLines(csv).Skip(1).Select(l => double.Parse(l.Split(',')[1], CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(expected.Length, rows.Length);
        Assert.True(ReferenceFile.MaxAbsDiff(rows, expected) <= tolerance);

        // .gwf output: resampled over the whole span (no filter edge at the 8 s frame boundary), cut back into two frames.
        string outGwf = Path.Combine(_dir.FullName, "X-TEST_2048-1238166018-16.gwf");
        r = await Cli.GwreproProcess.RunAsync("frames", "export", gwf, "--channel", Channel, "--resample", "2048", "--out", outGwf);
        Assert.Equal(0, r.ExitCode);
        await using var file = await GwfFile.OpenAsync(outGwf);
        Assert.Equal(2, file.Frames.Count);
        var series = await file.ReadAsync(Channel, new Segment(1238166018, 1238166034));
        Assert.Equal(2048, series.SampleRate.Hertz);
        Assert.True(ReferenceFile.MaxAbsDiff(series.Samples.ToArray(), expected) <= tolerance);
    }

    [Fact]
    public async Task Bad_asd_input_exits_2_naming_the_channel()
    {
        string gwf = await ReferenceGwfAsync();
        var r = await Cli.GwreproProcess.RunAsync("asd", gwf, "--channel", "X1:NOT-THERE");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("X1:NOT-THERE", r.StdErr);
        r = await Cli.GwreproProcess.RunAsync("asd", gwf, "--channel", Channel, "--fftlength", "100");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(Channel, r.StdErr);
    }
}
