using System.Security.Cryptography;
using GwReprocess.Data;
using GwReprocess.Frames;
using GwReprocess.Frames.Hdf5;
using GwReprocess.Time;

namespace GwReprocess.Tests.Frames;

/// <summary>
/// A GWOSC HDF5 strain file answers to the channel names its GWF twin carries, so one workflow channel reads the same samples
/// from either file through a LAL cache, as a client job reads; an unknown channel is one line naming the file and what it has.
/// </summary>
public sealed class GwoscChannelNameTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("gwosc-names-");
    private static readonly Segment Sub = new(1126259450, 1126259470);

    public void Dispose() => _dir.Delete(true);

    private static string File(string ifo, string ext) => RealData.PathOf($"gwosc/{ifo[0]}-{ifo}_LOSC_4_V2-1126259446-32.{ext}");

    /// <summary>A LAL cache listing the one file, read back as a client job reads its workflow's cache.</summary>
    private FrameSource ThroughCache(string path, GapPolicy? gaps = GapPolicy.Refuse)
    {
        string cache = Path.Combine(_dir.FullName, Path.GetFileName(path) + ".lcf");
        System.IO.File.WriteAllText(cache, FrameCache.FromFiles([path]).Format());
        return new FrameSource(FrameCache.Read(cache), new FrameSourceOptions { Gaps = gaps });
    }

    private static async Task<FrameChunk> OneChunkAsync(FrameSource source, string channel, Segment span)
    {
        var chunks = new List<FrameChunk>();
        await foreach (var c in source.ReadChunksAsync([channel], span)) chunks.Add(c);
        return Assert.Single(chunks);
    }

    [Theory]
    [InlineData("gwosc/L-L1_LOSC_4_V2-1126259446-32.gwf")]
    [InlineData("gwosc/L-L1_LOSC_4_V2-1126259446-32.hdf5")]
    public void L1_files_are_the_bytes_their_provenance_names(string relative)
    {
        var reference = RealData.Of(relative);
        var bytes = System.IO.File.ReadAllBytes(RealData.PathOf(relative));
        Assert.Equal(reference.GetProperty("bytes").GetInt64(), bytes.LongLength);
        Assert.Equal(reference.GetProperty("sha256").GetString(), Convert.ToHexStringLower(SHA256.HashData(bytes)));
    }

    [Theory]
    [InlineData("H1")]
    [InlineData("L1")]
    public async Task The_twin_channel_name_reads_identical_samples_from_gwf_and_hdf5(string ifo)
    {
        string losc = $"{ifo}:LOSC-STRAIN";
        var fromGwf = await OneChunkAsync(ThroughCache(File(ifo, "gwf")), losc, Sub);
        var fromHdf5 = await OneChunkAsync(ThroughCache(File(ifo, "hdf5")), losc, Sub);
        foreach (var chunk in new[] { fromGwf, fromHdf5 })
        {
            var s = Assert.Single(chunk.Channels);
            Assert.Equal(losc, s.Channel.Value);
            Assert.Equal(Sub.Start, s.T0);
            Assert.Equal(4096, s.SampleRate.Hertz);
            Assert.Equal(20 * 4096, s.Length);
            Assert.Null(chunk.Filled);
        }
        Assert.True(fromGwf.Channels[0].Samples.Span.SequenceEqual(fromHdf5.Channels[0].Samples.Span));
        Assert.All(fromGwf.Channels[0].Samples.ToArray(), v => Assert.True(double.IsFinite(v) && v != 0));

        // The newer releases' name and this reader's own name give the same samples under the asked-for name.
        foreach (var name in new[] { $"{ifo}:GWOSC-4KHZ_R1_STRAIN", $"{ifo}:GWOSC-STRAIN" })
        {
            var s = Assert.Single((await OneChunkAsync(ThroughCache(File(ifo, "hdf5")), name, Sub)).Channels);
            Assert.Equal(name, s.Channel.Value);
            Assert.True(fromGwf.Channels[0].Samples.Span.SequenceEqual(s.Samples.Span));
        }

        // A gap-free read is the same with and without a gap policy.
        var unchecked_ = await OneChunkAsync(ThroughCache(File(ifo, "hdf5"), gaps: null), losc, Sub);
        Assert.True(unchecked_.Channels[0].Samples.Span.SequenceEqual(fromHdf5.Channels[0].Samples.Span));
        var zeroPolicy = await OneChunkAsync(ThroughCache(File(ifo, "gwf"), GapPolicy.Zero), losc, Sub);
        Assert.Null(zeroPolicy.Filled);
        Assert.True(zeroPolicy.Channels[0].Samples.Span.SequenceEqual(fromGwf.Channels[0].Samples.Span));

        // The masks answer to their GWF names too.
        var dqGwf = await OneChunkAsync(ThroughCache(File(ifo, "gwf")), $"{ifo}:LOSC-DQMASK", Sub);
        var dqHdf5 = await OneChunkAsync(ThroughCache(File(ifo, "hdf5")), $"{ifo}:LOSC-DQMASK", Sub);
        Assert.Equal(dqGwf.Channels[0].Samples.ToArray(), dqHdf5.Channels[0].Samples.ToArray());
        Assert.Equal(20, dqHdf5.Channels[0].Length);
    }

    [Fact]
    public async Task A_missing_channel_is_one_line_naming_the_file_and_the_channels_it_has()
    {
        string h5 = File("H1", "hdf5");
        var e = await Assert.ThrowsAsync<Hdf5FormatException>(() => ThroughCache(h5).ReadAsync(["H1:GDS-CALIB_STRAIN"], Sub));
        Assert.IsAssignableFrom<BadInputException>(e);
        Assert.DoesNotContain('\n', e.Message);
        Assert.StartsWith($"{h5}: channel H1:GDS-CALIB_STRAIN: no such channel (the file has H1:GWOSC-STRAIN (also H1:LOSC-STRAIN, H1:GWOSC-4KHZ_R1_STRAIN), H1:GWOSC-DQMASK (also H1:LOSC-DQMASK, H1:GWOSC-4KHZ_R1_DQMASK), ", e.Message);
        // The other detector's name is not an alias: the L1 file does not answer to H1's channel.
        var other = await Assert.ThrowsAsync<Hdf5FormatException>(() => ThroughCache(File("L1", "hdf5")).ReadAsync(["H1:LOSC-STRAIN"], Sub));
        Assert.Contains("L1:LOSC-STRAIN", other.Message);

        string gwf = File("H1", "gwf");
        var g = await Assert.ThrowsAnyAsync<BadInputException>(() => ThroughCache(gwf).ReadAsync(["H1:GWOSC-4KHZ_R1_STRAIN"], Sub));
        Assert.DoesNotContain('\n', g.Message);
        Assert.Contains(gwf, g.Message);
        Assert.Contains("H1:GWOSC-4KHZ_R1_STRAIN", g.Message);
        Assert.Contains("H1:LOSC-STRAIN", g.Message);
    }

    [Fact]
    public async Task A_16_kHz_file_answers_to_the_16KHZ_release_name_only()
    {
        var rate = new SampleRate(16384);
        var samples = new double[4 * 16384];
        for (int i = 0; i < samples.Length; i++) samples[i] = Math.Sin(i * 0.01) * 1e-21;
        var strain = new TimeSeries(new ChannelName("V1:X"), GpsTime.FromSeconds(1187008880), rate, samples);
        string path = Path.Combine(_dir.FullName, "V-V1_GWOSC_16KHZ_R1-1187008880-4.hdf5");
        GwoscTestFile.Write(path, "V1", strain, [1, 1, 1, 1]);
        var span = new Segment(1187008881, 1187008883);
        var s = Assert.Single((await OneChunkAsync(ThroughCache(path), "V1:GWOSC-16KHZ_R1_STRAIN", span)).Channels);
        Assert.Equal(samples.AsSpan(16384, 2 * 16384).ToArray(), s.Samples.ToArray());
        var e = await Assert.ThrowsAsync<Hdf5FormatException>(() => ThroughCache(path).ReadAsync(["V1:GWOSC-4KHZ_R1_STRAIN"], span));
        Assert.Contains("V1:GWOSC-16KHZ_R1_STRAIN", e.Message);
    }
}
