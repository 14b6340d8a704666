using GwReprocess.Data;
using GwReprocess.Frames;
using GwReprocess.Frames.Gwf;
using GwReprocess.Frames.Hdf5;
using GwReprocess.Time;

namespace GwReprocess.Tests.Frames;

/// <summary>
/// Gaps inside the files (NaN/inf samples in any file; GWOSC seconds whose DQmask DATA bit is 0) are refused with one line
/// or filled with zeros and reported, as <c>[data] gaps</c> asks, on the read path a client job uses.
/// </summary>
public sealed class StrainGapsTests : IAsyncLifetime
{
    private const long Start = 1126259446;
    private static readonly Segment Sub = new(1126259450, 1126259470);
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("strain-gaps-");
    private TimeSeries _strain = null!;

    public async Task InitializeAsync() =>
        _strain = (await Hdf5TimeSeriesReader.ReadAsync(RealData.PathOf("gwosc/H-H1_LOSC_4_V2-1126259446-32.hdf5")))["H1:LOSC-STRAIN"];

    public Task DisposeAsync()
    {
        _dir.Delete(true);
        return Task.CompletedTask;
    }

    /// <summary>The real H1 strain with <paramref name="edit"/> applied, in a GWOSC-layout file named as GWOSC names it, in its own folder.</summary>
    private string GwoscFile(string name, Action<double[]> edit, uint[] dq)
    {
        var samples = _strain.Samples.ToArray();
        edit(samples);
        string path = Path.Combine(_dir.CreateSubdirectory(name).FullName, "H-H1_LOSC_4_V2-1126259446-32.hdf5");
        GwoscTestFile.Write(path, "H1", _strain.WithSamples(samples), dq);
        return path;
    }

    private static uint[] AllGood() => Enumerable.Repeat(127u, 32).ToArray();

    private static int Index(long gps) => (int)((gps - Start) * 4096);

    private static FrameSource Source(string path, GapPolicy policy) =>
        new(FrameCache.FromFiles([path]), new FrameSourceOptions { Gaps = policy });

    private static async Task<List<FrameChunk>> ChunksAsync(FrameSource source, string channel, Segment span)
    {
        var chunks = new List<FrameChunk>();
        await foreach (var c in source.ReadChunksAsync([channel], span)) chunks.Add(c);
        return chunks;
    }

    /// <summary>The read equals the source sample for sample outside <paramref name="gap"/> and is exactly 0 inside it.</summary>
    private void AssertZeroFilled(TimeSeries read, Segment gap)
    {
        var source = _strain.Crop(read.T0, read.End).Samples.Span;
        var x = read.Samples.Span;
        Assert.Equal(source.Length, x.Length);
        int inGap = 0;
        for (int i = 0; i < x.Length; i++)
        {
            Assert.True(double.IsFinite(x[i]));
            if (gap.Contains(read.TimeAt(i))) { Assert.Equal(0.0, x[i]); inGap++; }
            else if (BitConverter.DoubleToInt64Bits(source[i]) != BitConverter.DoubleToInt64Bits(x[i])) Assert.Fail($"sample {i} changed");
        }
        Assert.Equal((int)(gap.Duration.TotalSeconds * 4096), inGap);
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    public void A_non_finite_sample_is_found_wherever_it_lies(double bad)
    {
        // 37 samples: whole vectors and a tail, whatever the vector width.
        var rate = new SampleRate(16);
        for (int at = 0; at < 37; at++)
        {
            var x = Enumerable.Range(0, 37).Select(i => i * 1e300).ToArray();
            x[at] = bad;
            var s = new TimeSeries(new ChannelName("X1:T"), GpsTime.FromSeconds(Start), rate, x);
            Assert.Equal(new SegmentList([new Segment(s.TimeAt(at), s.TimeAt(at + 1))]), StrainGaps.NonFinite(s));
        }
        var clean = new TimeSeries(new ChannelName("X1:T"), GpsTime.FromSeconds(Start), rate, Enumerable.Range(0, 37).Select(i => -i * 1e300).ToArray());
        Assert.Empty(StrainGaps.NonFinite(clean));
    }

    [Fact]
    public async Task NaN_seconds_in_a_GWOSC_file_are_refused_with_one_line()
    {
        string path = GwoscFile("nan", x => x.AsSpan(Index(Start + 10), 3 * 4096).Fill(double.NaN), AllGood());
        var e = await Assert.ThrowsAsync<FrameGapException>(() => ChunksAsync(Source(path, GapPolicy.Refuse), "H1:LOSC-STRAIN", Sub));
        Assert.IsAssignableFrom<BadInputException>(e);
        Assert.Equal(
            $"{path}: channel H1:LOSC-STRAIN: gap at [1126259456, 1126259459) (non-finite samples); 3 s of gaps in 1 span(s) of the [1126259450, 1126259470) read; " +
            "[data] gaps = \"zero\" would fill them with zeros", e.Message);
        Assert.Equal(new SegmentList([new Segment(1126259456, 1126259459)]), e.Gaps);
        // Chunk by chunk, the data before the gap is handed on first (a job stops at the gap, not before it).
        var before = new List<FrameChunk>();
        await Assert.ThrowsAsync<FrameGapException>(async () =>
        {
            await foreach (var c in Source(path, GapPolicy.Refuse).ReadChunksAsync(["H1:LOSC-STRAIN"], Sub)) before.Add(c);
        });
        var clean = Assert.Single(before);
        Assert.Equal(new Segment(1126259450, 1126259456), clean.Span);
        Assert.Equal(_strain.Crop(clean.Span.Start, clean.Span.End).Samples.ToArray(), clean.Channels[0].Samples.ToArray());
        // A span that misses the gap reads.
        Assert.Single(await ChunksAsync(Source(path, GapPolicy.Refuse), "H1:LOSC-STRAIN", new Segment(1126259460, 1126259470)));
    }

    [Fact]
    public async Task NaN_seconds_in_a_GWOSC_file_are_zero_filled_and_reported()
    {
        string path = GwoscFile("nan", x => x.AsSpan(Index(Start + 10), 3 * 4096).Fill(double.NaN), AllGood());
        var chunk = Assert.Single(await ChunksAsync(Source(path, GapPolicy.Zero), "H1:LOSC-STRAIN", Sub));
        var gap = new Segment(1126259456, 1126259459);
        AssertZeroFilled(chunk.Channels[0], gap);
        Assert.NotNull(chunk.Filled);
        Assert.Equal(new SegmentList([gap]), chunk.Filled!.Channels["H1:LOSC-STRAIN"]);
        Assert.Equal($"{path}: gaps filled with zeros ([data] gaps = \"zero\"): H1:LOSC-STRAIN 3 s in 1 span(s) [1126259456, 1126259459)", chunk.Filled.ToString());

        var whole = await Source(path, GapPolicy.Zero).ReadAsync(["H1:LOSC-STRAIN"], Sub);
        Assert.Equal(chunk.Channels[0].Samples.ToArray(), whole.Channels[0].Samples.ToArray());
        Assert.Equal(chunk.Filled.ToString(), Assert.Single(whole.Filled).ToString());
    }

    [Fact]
    public async Task A_DQmask_second_without_DATA_is_a_gap_even_where_the_samples_are_finite()
    {
        var dq = AllGood();
        dq[20] = 126; // DATA (bit 0) off at GPS 1126259466, the other bits on
        string path = GwoscFile("dq", _ => { }, dq);
        var e = await Assert.ThrowsAsync<FrameGapException>(() => ChunksAsync(Source(path, GapPolicy.Refuse), "H1:LOSC-STRAIN", Sub));
        Assert.Equal(
            $"{path}: channel H1:LOSC-STRAIN: gap at [1126259466, 1126259467) (DQmask DATA bit off); 1 s of gaps in 1 span(s) of the [1126259450, 1126259470) read; " +
            "[data] gaps = \"zero\" would fill them with zeros", e.Message);

        var chunk = Assert.Single(await ChunksAsync(Source(path, GapPolicy.Zero), "H1:GWOSC-4KHZ_R1_STRAIN", Sub));
        AssertZeroFilled(chunk.Channels[0], new Segment(1126259466, 1126259467));
        Assert.Contains("H1:GWOSC-4KHZ_R1_STRAIN 1 s in 1 span(s) [1126259466, 1126259467)", chunk.Filled!.ToString());

        // The mask applies to the strain only: the mask channel itself reads, and a span before the second is clean.
        var mask = Assert.Single(await ChunksAsync(Source(path, GapPolicy.Refuse), "H1:LOSC-DQMASK", Sub));
        Assert.Equal(126, mask.Channels[0].Samples.Span[16]);
        Assert.Null(Assert.Single(await ChunksAsync(Source(path, GapPolicy.Refuse), "H1:LOSC-STRAIN", new Segment(1126259450, 1126259466))).Filled);
    }

    [Fact]
    public async Task NaN_and_DATA_off_seconds_together_count_once()
    {
        // As GWOSC releases mark a missing second: NaN samples and the DATA bit off, over the same seconds.
        var dq = AllGood();
        dq[10] = dq[11] = 0;
        string path = GwoscFile("both", x => x.AsSpan(Index(Start + 10), 2 * 4096).Fill(double.NaN), dq);
        var e = await Assert.ThrowsAsync<FrameGapException>(() => ChunksAsync(Source(path, GapPolicy.Refuse), "H1:LOSC-STRAIN", Sub));
        Assert.Contains("gap at [1126259456, 1126259458) (non-finite samples and DQmask DATA bit off); 2 s of gaps in 1 span(s)", e.Message);
    }

    [Fact]
    public async Task A_GWOSC_file_whose_DQ_names_lack_DATA_is_refused_by_name()
    {
        string path = Path.Combine(_dir.CreateSubdirectory("names").FullName, "H-H1_LOSC_4_V2-1126259446-32.hdf5");
        GwoscTestFile.Write(path, "H1", _strain, AllGood(), ["CBC_CAT1", "CBC_CAT2"]);
        var e = await Assert.ThrowsAsync<Hdf5FormatException>(() => ChunksAsync(Source(path, GapPolicy.Zero), "H1:LOSC-STRAIN", Sub));
        Assert.Equal($"{path}: quality/simple/DQShortnames has no DATA bit (CBC_CAT1, CBC_CAT2), so the seconds without data cannot be told", e.Message);
    }

    [Fact]
    public async Task Non_finite_samples_in_a_GWF_file_are_refused_or_filled_and_reported_per_frame()
    {
        // Two 16 s frames in one file; an inf in the first frame and NaNs in the second, on a witness-like second channel too.
        var samples = _strain.Samples.ToArray();
        samples[Index(Start + 5) + 7] = double.PositiveInfinity;
        samples.AsSpan(Index(Start + 20), 4096 / 2).Fill(double.NaN);
        var strain = new TimeSeries(new ChannelName("H1:LOSC-STRAIN"), _strain.T0, _strain.SampleRate, samples);
        var other = new TimeSeries(new ChannelName("H1:PEM-TEST"), _strain.T0, new SampleRate(16), Enumerable.Range(0, 32 * 16).Select(i => i == 20 * 16 ? double.NaN : 1.0).ToArray());
        string path = Path.Combine(_dir.FullName, "H-H1_TEST-1126259446-32.gwf");
        var frames = new[] { new Segment(Start, Start + 16), new Segment(Start + 16, Start + 32) };
        await GwfWriter.WriteFileAsync(path, GwfFrameData.Split([strain, other], frames));
        var span = new Segment(Start, Start + 32);

        var e = await Assert.ThrowsAsync<FrameGapException>(() => ChunksAsync(Source(path, GapPolicy.Refuse), "H1:LOSC-STRAIN", span));
        var sample = GpsTime.FromSeconds(Start + 5) + TimeSeries.DurationOf(7, new SampleRate(4096));
        Assert.StartsWith($"{path}: channel H1:LOSC-STRAIN: gap at [{sample}, {sample + TimeSeries.DurationOf(1, new SampleRate(4096))}) (non-finite samples); 0.000244141 s of gaps in 1 span(s) of the [1126259446, 1126259462) read;", e.Message);

        var chunks = new List<FrameChunk>();
        await foreach (var c in Source(path, GapPolicy.Zero).ReadChunksAsync(["H1:LOSC-STRAIN", "H1:PEM-TEST"], span)) chunks.Add(c);
        Assert.Equal(2, chunks.Count);
        // One report per frame that had gaps, each naming the file and only its own seconds.
        Assert.Equal(new SegmentList([new Segment(sample, sample + TimeSeries.DurationOf(1, new SampleRate(4096)))]), chunks[0].Filled!.Channels["H1:LOSC-STRAIN"]);
        Assert.False(chunks[0].Filled!.Channels.ContainsKey("H1:PEM-TEST"));
        var filled = chunks[1].Filled!;
        Assert.Equal(new SegmentList([new Segment(GpsTime.FromSeconds(Start + 20), GpsTime.FromSeconds(Start + 20) + GpsDuration.FromNanoseconds(500_000_000))]),
            filled.Channels["H1:LOSC-STRAIN"]);
        Assert.Equal(new SegmentList([new Segment(GpsTime.FromSeconds(Start + 20), GpsTime.FromSeconds(Start + 20) + GpsDuration.FromNanoseconds(62_500_000))]), filled.Channels["H1:PEM-TEST"]);
        Assert.Equal(path, filled.File);
        Assert.Equal($"{path}: gaps filled with zeros ([data] gaps = \"zero\"): H1:LOSC-STRAIN 0.5 s in 1 span(s) [1126259466, 1126259466.5); H1:PEM-TEST 0.0625 s in 1 span(s) [1126259466, 1126259466.0625)", filled.ToString());
        var read = chunks[0].Channels[0].Samples.ToArray().Concat(chunks[1].Channels[0].Samples.ToArray()).ToArray();
        Assert.All(read, v => Assert.True(double.IsFinite(v)));
        Assert.Equal(0.0, read[Index(Start + 5) + 7]);
        Assert.Equal(samples[Index(Start + 5) + 6], read[Index(Start + 5) + 6]);
        Assert.All(read.AsSpan(Index(Start + 20), 2048).ToArray(), v => Assert.Equal(0.0, v));
        Assert.Equal(samples[Index(Start + 20) + 2048], read[Index(Start + 20) + 2048]);
        Assert.Equal(0.0, chunks[1].Channels[1].Samples.Span[4 * 16]);
    }
}
