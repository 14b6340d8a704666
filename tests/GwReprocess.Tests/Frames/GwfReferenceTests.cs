using System.Text.Json;
using GwReprocess.Frames.Gwf;

namespace GwReprocess.Tests.Frames;

/// <summary>Every real GWF file decodes to the independently obtained reference values.</summary>
public sealed class GwfReferenceTests
{
    public static TheoryData<string> Files => new(RealData.GwfFiles);

    private static GwfReadOptions OptionsFor(string file) =>
        // The FrameL 6.02 file carries a wrong checksum (PROVENANCE.md); v6 files have no per-structure CRCs anyway.
        GwfReadOptions.Default;

    [Theory]
    [MemberData(nameof(Files))]
    public async Task HeaderFramesAndClassesMatchReference(string relative)
    {
        var reference = RealData.Of(relative);
        await using var file = await GwfFile.OpenAsync(RealData.PathOf(relative), OptionsFor(relative));
        Assert.Equal(reference.GetProperty("format_version").GetInt32(), file.Header.Version);
        Assert.Equal(reference.GetProperty("library_minor_version_byte").GetInt32(), file.Header.LibraryMinorVersion);
        Assert.Equal(reference.GetProperty("byte_order").GetString() == "big", file.Header.IsBigEndian);
        Assert.Equal(reference.GetProperty("n_frames").GetInt32(), file.Frames.Count);
        Assert.Equal(reference.GetProperty("toc_present").GetBoolean(), file.HasTableOfContents);
        var frames = reference.GetProperty("frames");
        for (int i = 0; i < file.Frames.Count; i++)
        {
            var f = frames[i];
            Assert.Equal(f.GetProperty("GTimeS").GetInt64(), file.Frames[i].Start.Seconds);
            Assert.Equal(f.GetProperty("GTimeN").GetInt64(), file.Frames[i].Start.Nanoseconds);
            Assert.Equal(f.GetProperty("dt").GetDouble(), file.Frames[i].Duration.TotalSeconds);
            Assert.Equal(f.GetProperty("run").GetInt32(), file.Frames[i].Run);
            Assert.Equal(f.GetProperty("frame").GetUInt32(), file.Frames[i].FrameNumber);
            Assert.Equal(f.GetProperty("dataQuality").GetUInt32(), file.Frames[i].DataQuality);
        }
        foreach (var c in reference.GetProperty("classes").EnumerateObject())
        {
            if (c.Name is "FrSH" or "FrSE") continue;
            Assert.True(file.ClassNames.TryGetValue((ushort)c.Value.GetInt32(), out var name), $"class id {c.Value} ({c.Name}) unknown");
            Assert.Equal(c.Name, name);
        }
    }

    [Theory]
    [MemberData(nameof(Files))]
    public async Task EveryChannelMatchesReferenceBitForBit(string relative)
    {
        var reference = RealData.Of(relative);
        await using var file = await GwfFile.OpenAsync(RealData.PathOf(relative), OptionsFor(relative));
        var seen = new HashSet<string>();
        var channels = reference.GetProperty("channels").EnumerateArray().ToList();
        for (int ci = 0; ci < channels.Count; ci++)
        {
            var channel = channels[ci];
            string name = channel.GetProperty("name").GetString()!;
            // FrameL's TOC lists a duplicated name once, pointing at the last structure with it (format sheet §7.18).
            if (channels.FindLastIndex(c => c.GetProperty("name").GetString() == name) != ci) continue;
            Assert.True(seen.Add(name));
            var info = await file.GetChannelAsync(name);
            var vect = channel.GetProperty("vect");
            Assert.Equal(channel.GetProperty("kind").GetString(), info.Kind switch { GwfChannelKind.Adc => "FrAdcData", GwfChannelKind.Proc => "FrProcData", _ => "FrSimData" });
            Assert.Equal(vect.GetProperty("compress").GetInt32(), info.Vector.CompressCode);
            Assert.Equal(vect.GetProperty("type").GetInt32(), (int)info.Vector.Type);
            Assert.Equal(vect.GetProperty("nData").GetInt64(), info.Vector.NData);
            Assert.Equal(vect.GetProperty("nBytes").GetInt64(), info.Vector.NBytes);
            Assert.Equal(vect.GetProperty("dx")[0].GetDouble(), info.Vector.Dx[0]);
            Assert.Equal(vect.GetProperty("unitX")[0].GetString(), info.Vector.UnitX[0]);
            Assert.Equal(vect.GetProperty("unitY").GetString(), info.Vector.UnitY);
            Assert.Equal(channel.GetProperty("timeOffset").GetDouble(), info.TimeOffset);

            var stats = channel.GetProperty("stats_all_frames_concatenated");
            if (info.Vector.Type.IsComplex())
            {
                var (re, im) = await ReadComplexAsync(file, name);
                CheckFirstAndLast(stats, re, im);
                CheckStats(stats.GetProperty("real"), re);
                CheckStats(stats.GetProperty("imag"), im);
            }
            else
            {
                var series = await file.ReadAsync(name);
                Assert.Equal(file.Frames[0].Start + GwReprocess.Time.GpsDuration.FromSeconds(info.TimeOffset), series.T0);
                var values = series.Samples.ToArray();
                CheckFirstAndLast(stats, values, null);
                CheckStats(stats, values);
                if (channel.TryGetProperty("first5_per_frame", out var perFrame))
                {
                    int n = (int)channel.GetProperty("samples_per_frame").GetInt64();
                    for (int f = 0; f < file.Frames.Count; f++)
                        for (int k = 0; k < 5; k++)
                            Assert.Equal(RealData.Number(perFrame[f][k]), values[f * n + k]);
                }
            }
        }
    }

    [Fact]
    public async Task FrameDetailsMatchProvenance()
    {
        await using (var gwosc = await GwfFile.OpenAsync(RealData.PathOf("gwosc/H-H1_LOSC_4_V2-1126259446-32.gwf")))
        {
            var d = await gwosc.GetFrameDetailsAsync(0);
            Assert.Equal("LIGO", d.Name);
            var det = Assert.Single(d.Detectors);
            Assert.Equal(("LHO_4k", "H1"), (det.Name, det.Prefix));
            Assert.Equal(-2.08406, det.Longitude, 5);
            Assert.Equal(0.810795, det.Latitude, 6);
            Assert.Equal(142.554, det.Elevation, 3);
            Assert.Equal(1997.54, det.ArmXMidpoint, 2);
        }
        await using (var gwpy = await GwfFile.OpenAsync(RealData.PathOf("gwpy/HLV-HW100916-968654552-1.gwf")))
        {
            var d = await gwpy.GetFrameDetailsAsync(0);
            Assert.Equal("V1:h_16384Hz", d.Name);
            var det = Assert.Single(d.Detectors);
            Assert.Equal(("V1:h_16384Hz", "", -21600), (det.Name, det.Prefix, det.LocalTime));
            Assert.Contains(d.History, h => h.Comment == "FrameLib:8.20 (Sep 25, 13) ");
        }
        await using (var test = await GwfFile.OpenAsync(RealData.PathOf("framel/test.gwf")))
        {
            var d = await test.GetFrameDetailsAsync(9);
            Assert.Equal("demo", d.Name);
            Assert.Contains(d.History, h => h.Comment.Contains("FrameLib:8.02"));
        }
    }

    [Fact]
    public async Task ReadsIntoACallerBuffer()
    {
        await using var file = await GwfFile.OpenAsync(RealData.PathOf("gwosc/H-H1_LOSC_4_V2-1126259446-32.gwf"));
        var whole = await file.ReadAsync("H1:LOSC-STRAIN");
        var buffer = new double[200_000];
        var span = new GwReprocess.Time.Segment(GwReprocess.Time.GpsTime.FromSeconds(1126259447.5), GwReprocess.Time.GpsTime.FromSeconds(1126259450));
        var series = await file.ReadAsync("H1:LOSC-STRAIN", span, buffer);
        Assert.Equal(10240, series.Length);
        Assert.True(System.Runtime.InteropServices.MemoryMarshal.TryGetArray(series.Samples, out var segment) && segment.Array == buffer);
        Assert.Equal(whole.Crop(span.Start, span.End).Samples.ToArray(), series.Samples.ToArray());
        await Assert.ThrowsAsync<ArgumentException>(() => file.ReadAsync("H1:LOSC-STRAIN", span, new double[100]));
    }

    private static async Task<(double[] Re, double[] Im)> ReadComplexAsync(GwfFile file, string name)
    {
        var re = new List<double>();
        var im = new List<double>();
        for (int f = 0; f < file.Frames.Count; f++)
        {
            var s = await file.ReadFrameAsync(name, f);
            re.AddRange(s.Real);
            im.AddRange(s.Imaginary!);
        }
        return (re.ToArray(), im.ToArray());
    }

    private static void CheckFirstAndLast(JsonElement stats, double[] values, double[]? imaginary)
    {
        Assert.Equal(stats.GetProperty("n").GetInt64(), values.Length);
        var first5 = stats.GetProperty("first5");
        for (int k = 0; k < 5; k++)
        {
            if (imaginary is null) Assert.Equal(RealData.Number(first5[k]), values[k]);
            else
            {
                Assert.Equal(RealData.Number(first5[k][0]), values[k]);
                Assert.Equal(RealData.Number(first5[k][1]), imaginary[k]);
            }
        }
        var last = stats.GetProperty("last1");
        if (imaginary is null) Assert.Equal(RealData.Number(last), values[^1]);
        else
        {
            Assert.Equal(RealData.Number(last[0]), values[^1]);
            Assert.Equal(RealData.Number(last[1]), imaginary[^1]);
        }
    }

    private static void CheckStats(JsonElement stats, double[] values)
    {
        var finite = stats.TryGetProperty("stats_over_finite_only", out var f) && f.GetBoolean()
            ? values.Where(double.IsFinite).ToArray()
            : values;
        if (stats.TryGetProperty("n_nonfinite", out var nonFinite))
            Assert.Equal(nonFinite.GetInt32(), values.Length - finite.Length);
        Assert.Equal(stats.GetProperty("min").GetDouble(), finite.Min());
        Assert.Equal(stats.GetProperty("max").GetDouble(), finite.Max());
        Assert.Equal(stats.GetProperty("mean").GetDouble(), RealData.Mean(finite));
        Assert.Equal(stats.GetProperty("std").GetDouble(), RealData.Std(finite));
    }
}
