using GwReprocess.Frames.Gwf;

namespace GwReprocess.Tests.Frames;

/// <summary>Real files read, rewritten by <see cref="GwfWriter"/> and read back are identical, and the copies verify.</summary>
public sealed class GwfRoundTripTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "gwf-roundtrip-" + Guid.NewGuid().ToString("N")[..8]);

    public GwfRoundTripTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public static TheoryData<string, GwfCompression> Cases => new()
    {
        { "gwpy/HLV-HW100916-968654552-1.gwf", GwfCompression.Gzip },
        { "gwosc/H-H1_LOSC_4_V2-1126259446-32.gwf", GwfCompression.Gzip },
        { "gwosc/H-H1_LOSC_4_V2-1126259446-32.gwf", GwfCompression.DifferentialGzip },
        { "framel/test.gwf", GwfCompression.Gzip },
        { "framel/test.gwf", GwfCompression.DifferentialGzip },
        { "framel/test.gwf", GwfCompression.Raw },
        { "lalsuite/F-TEST-600000000-60.gwf", GwfCompression.DifferentialGzip },
    };

    /// <summary>Everything real-valued in a file, frame by frame, as writer input.</summary>
    internal static async Task<List<GwfFrameData>> ReadAllAsync(GwfFile file)
    {
        var frames = new List<GwfFrameData>();
        foreach (var frame in file.Frames)
        {
            var channels = new List<GwfChannelData>();
            foreach (var name in file.ChannelNames)
            {
                var s = await file.ReadFrameAsync(name, frame.Index);
                if (s.Imaginary is not null) continue;
                channels.Add(new GwfChannelData(name, s.Channel.Kind, s.Channel.SampleRate, s.Real, s.Channel.Vector.Type)
                {
                    Unit = s.Channel.Unit, TimeOffset = s.Channel.TimeOffset, Comment = s.Channel.Comment,
                });
            }
            frames.Add(new GwfFrameData(frame.Start, frame.Duration, channels) { Run = frame.Run, FrameNumber = frame.FrameNumber, DataQuality = frame.DataQuality });
        }
        return frames;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task RewrittenFileReadsBackIdenticalAndVerifies(string relative, GwfCompression compression)
    {
        await using var original = await GwfFile.OpenAsync(RealData.PathOf(relative));
        var frames = await ReadAllAsync(original);
        string path = Path.Combine(_dir, GwfWriter.FileName("X", "ROUNDTRIP", original.Span));
        await GwfWriter.WriteFileAsync(path, frames, new GwfWriteOptions { Compression = compression });
        Assert.Empty(Directory.GetFiles(_dir, ".*.tmp"));

        await using var copy = await GwfFile.OpenAsync(path);
        Assert.True(copy.HasTableOfContents);
        Assert.Equal(8, copy.Header.Version);
        Assert.Equal(original.Frames.Count, copy.Frames.Count);
        for (int f = 0; f < original.Frames.Count; f++)
        {
            var a = original.Frames[f];
            var b = copy.Frames[f];
            Assert.Equal((a.Start, a.Duration, a.Run, a.FrameNumber, a.DataQuality), (b.Start, b.Duration, b.Run, b.FrameNumber, b.DataQuality));
        }
        var written = frames[0].Channels.Select(c => c.Name).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(written, copy.ChannelNames.Order(StringComparer.Ordinal).ToList());
        foreach (var frame in frames)
        {
            int f = frames.IndexOf(frame);
            foreach (var expected in frame.Channels)
            {
                var got = await copy.ReadFrameAsync(expected.Name, f);
                Assert.Equal(expected.Kind, got.Channel.Kind);
                Assert.Equal(expected.Type, got.Channel.Vector.Type);
                Assert.Equal(expected.SampleRate, got.Channel.SampleRate);
                Assert.Equal(expected.Unit, got.Channel.Unit);
                Assert.Equal(expected.TimeOffset, got.Channel.TimeOffset);
                Assert.Equal(expected.Comment, got.Channel.Comment);
                var scheme = compression == GwfCompression.DifferentialGzip && !expected.Type.IsInteger() ? GwfCompression.Gzip : compression;
                Assert.Equal(scheme, got.Channel.Vector.Compression);
                Assert.Equal(expected.Samples.Length, got.Real.Length);
                var e = expected.Samples.Span;
                for (int i = 0; i < e.Length; i++)
                    Assert.True(BitConverter.DoubleToInt64Bits(e[i]) == BitConverter.DoubleToInt64Bits(got.Real[i]), $"{expected.Name} frame {f} sample {i}: {e[i]} != {got.Real[i]}");
            }
        }
        var verification = await copy.VerifyAsync();
        Assert.True(verification.IsValid, string.Join("; ", verification.Problems));
        Assert.True(verification.FileChecksumVerified);
        Assert.Equal(verification.Structures, verification.ChecksumsVerified);
    }

    [Fact]
    public async Task SplitWritesSeriesIntoGivenFrameSpans()
    {
        await using var original = await GwfFile.OpenAsync(RealData.PathOf("gwosc/H-H1_LOSC_4_V2-1126259446-32.gwf"));
        var strain = await original.ReadAsync("H1:LOSC-STRAIN");
        var start = strain.T0;
        var spans = Enumerable.Range(0, 4).Select(i => GwReprocess.Time.Segment.FromStart(start + GwReprocess.Time.GpsDuration.FromSeconds(8 * i), GwReprocess.Time.GpsDuration.FromSeconds(8))).ToList();
        var cleaned = strain.WithChannel(strain.Channel.WithSuffix("_DEEPCLEAN"));
        string path = Path.Combine(_dir, GwfWriter.FileName("H", "H1_CLEAN", original.Span));
        await GwfWriter.WriteFileAsync(path, GwfFrameData.Split([cleaned, strain], spans));
        await using var copy = await GwfFile.OpenAsync(path);
        Assert.Equal(spans, copy.Frames.Select(f => f.Span).ToList());
        var back = await copy.ReadAsync("H1:LOSC-STRAIN_DEEPCLEAN");
        Assert.Equal(strain.T0, back.T0);
        Assert.Equal(strain.Samples.ToArray(), back.Samples.ToArray());
        // A span that starts and ends inside frames.
        var inner = new GwReprocess.Time.Segment(start + GwReprocess.Time.GpsDuration.FromSeconds(5.5), start + GwReprocess.Time.GpsDuration.FromSeconds(20.25));
        var part = await copy.ReadAsync("H1:LOSC-STRAIN", inner);
        Assert.Equal(inner.Start, part.T0);
        Assert.Equal(strain.Crop(inner.Start, inner.End).Samples.ToArray(), part.Samples.ToArray());
        Assert.Equal("H-H1_CLEAN-1126259446-32.gwf", Path.GetFileName(path));
    }

    [Fact]
    public async Task FrHistoryRecordsAreWrittenAfterTheFrameHeaderAndReadBack()
    {
        var start = GwReprocess.Time.GpsTime.FromSeconds(1000000000L);
        var samples = Enumerable.Range(0, 64).Select(i => (double)i).ToArray();
        var frame = new GwfFrameData(start, GwReprocess.Time.GpsDuration.FromSeconds(4), [new GwfChannelData("H1:X", GwfChannelKind.Proc, 16, samples)])
        {
            History = [new GwfHistory("gwrepro", 1000000000, "samples [999999996, 1000000000) not cleaned"), new GwfHistory("gwrepro", 1000000000, "second")],
        };
        string path = Path.Combine(_dir, "H-H1_TEST-1000000000-4.gwf");
        await GwfWriter.WriteFileAsync(path, [frame]);
        await using var file = await GwfFile.OpenAsync(path);
        Assert.True((await file.VerifyAsync()).IsValid);
        Assert.Equal(frame.History, (await file.GetFrameDetailsAsync(0)).History);
        Assert.Equal(samples, (await file.ReadAsync("H1:X")).Samples.ToArray());
    }
}
