using GwReprocess.Frames.Gwf;
using GwReprocess.Time;

namespace GwReprocess.Tests.Frames;

/// <summary>Random multi-frame, multi-channel layouts written and read back: every sample, rate, offset and name survives.</summary>
public sealed class GwfWriterPropertyTests
{
    private static readonly GwfVectorType[] Types =
        [GwfVectorType.Float64, GwfVectorType.Float32, GwfVectorType.Int16, GwfVectorType.Int32, GwfVectorType.UInt16, GwfVectorType.Int8, GwfVectorType.UInt32];

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    public async Task RandomLayoutsRoundTrip(int seed)
    {
        var rng = new Random(seed);
        int nFrames = rng.Next(1, 5);
        int nChannels = rng.Next(1, 6);
        double frameSeconds = rng.Next(1, 5);
        var layout = Enumerable.Range(0, nChannels).Select(c => (
            Name: $"X{c}:TEST-CHANNEL_{rng.Next(1000)}_{c}",
            Kind: (GwfChannelKind)rng.Next(3),
            Rate: new[] { 16.0, 256, 1024, 4096 }[rng.Next(4)],
            Type: Types[rng.Next(Types.Length)],
            Compression: new[] { GwfCompression.Raw, GwfCompression.Gzip, GwfCompression.DifferentialGzip }[rng.Next(3)])).ToList();
        var start = GpsTime.FromSeconds(1_000_000_000L + rng.Next(1_000_000));
        var frames = new List<GwfFrameData>();
        for (int f = 0; f < nFrames; f++)
        {
            var channels = layout.Select(c =>
            {
                int n = (int)(c.Rate * frameSeconds);
                var x = new double[n];
                for (int i = 0; i < n; i++)
                    x[i] = c.Type switch
                    {
                        GwfVectorType.Float64 => rng.NextDouble() * 1e-18 - 5e-19,
                        GwfVectorType.Float32 => (float)(rng.NextDouble() * 100 - 50),
                        GwfVectorType.Int16 => rng.Next(short.MinValue, short.MaxValue + 1),
                        GwfVectorType.UInt16 => rng.Next(ushort.MaxValue + 1),
                        GwfVectorType.Int8 => rng.Next(-128, 128),
                        GwfVectorType.UInt32 => (uint)rng.NextInt64(uint.MaxValue),
                        _ => rng.Next(int.MinValue, int.MaxValue),
                    };
                return new GwfChannelData(c.Name, c.Kind, c.Rate, x, c.Type) { Compression = c.Compression, Unit = "u" + c.Name.Length };
            }).ToList();
            frames.Add(new GwfFrameData(start + GpsDuration.FromSeconds(f * frameSeconds), GpsDuration.FromSeconds(frameSeconds), channels) { FrameNumber = (uint)f });
        }
        using var ms = new MemoryStream();
        var writer = new GwfWriter(ms);
        foreach (var f in frames) await writer.WriteFrameAsync(f);
        await writer.CompleteAsync();
        ms.Position = 0;
        await using var file = await GwfFile.OpenAsync(ms, $"seed{seed}.gwf");
        Assert.Equal(nFrames, file.Frames.Count);
        Assert.Equal(layout.Select(c => c.Name).Order(StringComparer.Ordinal), file.ChannelNames.Order(StringComparer.Ordinal));
        foreach (var c in layout)
        {
            var series = await file.ReadAsync(c.Name);
            Assert.Equal(start, series.T0);
            Assert.Equal(c.Rate, series.SampleRate.Hertz);
            Assert.Equal("u" + c.Name.Length, series.Unit);
            var expected = frames.SelectMany(f => f.Channels.Single(x => x.Name == c.Name).Samples.ToArray()).ToArray();
            Assert.Equal(expected, series.Samples.ToArray());
            var info = await file.GetChannelAsync(c.Name);
            Assert.Equal((c.Kind, c.Type), (info.Kind, info.Vector.Type));
        }
        var verification = await file.VerifyAsync();
        Assert.True(verification.IsValid, string.Join("; ", verification.Problems));
    }
}
