using GwReprocess.Data;
using GwReprocess.Frames;
using GwReprocess.Frames.Gwf;
using GwReprocess.Time;

namespace GwReprocess.Tests.Frames;

/// <summary>Spans stitched across several frame files, gaps reported or filled, frame-by-frame chunks, the opener seam.</summary>
public sealed class FrameSourceTests : IAsyncLifetime
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "framesource-" + Guid.NewGuid().ToString("N")[..8]);
    private TimeSeries _strain = null!;
    private TimeSeries _dq = null!;
    private readonly List<string> _files = [];
    private const long Start = 1126259446;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_dir);
        await using var gwosc = await GwfFile.OpenAsync(RealData.PathOf("gwosc/H-H1_LOSC_4_V2-1126259446-32.gwf"));
        _strain = await gwosc.ReadAsync("H1:LOSC-STRAIN");
        _dq = await gwosc.ReadAsync("H1:LOSC-DQMASK");
        // Four 8 s files of two 4 s frames each; the third file is left out to make a gap [Start+16, Start+24).
        for (int f = 0; f < 4; f++)
        {
            var spans = Enumerable.Range(0, 2).Select(k => Segment.FromStart(GpsTime.FromSeconds(Start + 8 * f + 4 * k), GpsDuration.FromSeconds(4))).ToList();
            string path = Path.Combine(_dir, GwfWriter.FileName("H", "H1_TEST", new Segment(spans[0].Start, spans[1].End)));
            if (f == 2) continue;
            await GwfWriter.WriteFileAsync(path, GwfFrameData.Split([_strain, _dq], spans));
            _files.Add(path);
        }
    }

    public Task DisposeAsync()
    {
        Directory.Delete(_dir, recursive: true);
        return Task.CompletedTask;
    }

    private static Segment Span(double start, double end) => new(GpsTime.FromSeconds(Start + start), GpsTime.FromSeconds(Start + end));

    [Fact]
    public async Task ReadsAcrossFilesWithSpanInsideFrames()
    {
        var source = new FrameSource(FrameCache.FromFiles(_files));
        var span = Span(1.5, 15.75);
        var data = await source.ReadAsync(["H1:LOSC-STRAIN", "H1:LOSC-DQMASK"], span);
        Assert.Empty(data.Gaps);
        var strain = data["H1:LOSC-STRAIN"];
        Assert.Equal(span.Start, strain.T0);
        Assert.Equal(_strain.Crop(span.Start, span.End).Samples.ToArray(), strain.Samples.ToArray());
        var dq = data["H1:LOSC-DQMASK"];
        Assert.Equal(GpsTime.FromSeconds(Start + 2), dq.T0); // 1 Hz samples: the first at or after the span start
        Assert.Equal(14, dq.Length);
    }

    [Fact]
    public async Task GapIsReportedNotZeroFilled()
    {
        var source = new FrameSource(FrameCache.FromFiles(_files));
        var e = await Assert.ThrowsAsync<FrameGapException>(() => source.ReadAsync(["H1:LOSC-STRAIN"], Span(10, 30)));
        Assert.Equal(new SegmentList([Span(16, 24)]), e.Gaps);
        Assert.Contains("H1:LOSC-STRAIN", e.Message);
        Assert.Contains("1126259462", e.Message);
    }

    [Fact]
    public async Task GapIsFilledOnlyWhenAsked()
    {
        var source = new FrameSource(FrameCache.FromFiles(_files), new FrameSourceOptions { FillGaps = true, FillValue = double.NaN });
        var data = await source.ReadAsync(["H1:LOSC-STRAIN"], Span(10, 30));
        Assert.Equal(new SegmentList([Span(16, 24)]), data.Gaps);
        var s = data.Channels[0];
        Assert.Equal(20 * 4096, s.Length);
        var values = s.Samples.Span;
        Assert.True(double.IsNaN(values[6 * 4096]) && double.IsNaN(values[14 * 4096 - 1]));
        Assert.Equal(_strain.Samples.Span[24 * 4096], values[14 * 4096]);
        Assert.Equal(_strain.Samples.Span[10 * 4096], values[0]);
    }

    [Fact]
    public async Task ChunksComeFrameByFrameInTimeOrder()
    {
        var opened = new List<string>();
        var source = new FrameSource(FrameCache.FromFiles(_files), new FrameSourceOptions
        {
            // A non-seekable stream, as a remote object store would give.
            Opener = async (location, ct) =>
            {
                opened.Add(location);
                return new NonSeekable(await FrameSource.OpenLocalAsync(location, ct));
            },
        });
        var chunks = new List<FrameChunk>();
        await foreach (var c in source.ReadChunksAsync(["H1:LOSC-STRAIN"], Span(2, 32))) chunks.Add(c);
        Assert.Equal([Span(2, 4), Span(4, 8), Span(8, 12), Span(12, 16), Span(24, 28), Span(28, 32)], chunks.Select(c => c.Span));
        Assert.Equal(3, opened.Count);
        Assert.All(chunks, c => Assert.Equal(c.Span.Start, c.Channels[0].T0));
        Assert.Equal(_strain.Crop(Span(24, 28).Start, Span(24, 28).End).Samples.ToArray(), chunks[4].Channels[0].Samples.ToArray());
    }

    [Fact]
    public async Task PrefetchOpensTheNextFileWhileTheCurrentOneIsReadAndClosesWhatWasNotRead()
    {
        var opened = new List<string>();
        var closed = new List<string>();
        var source = new FrameSource(FrameCache.FromFiles(_files), new FrameSourceOptions
        {
            PrefetchFiles = 1,
            Opener = async (location, ct) =>
            {
                lock (opened) opened.Add(Path.GetFileName(location));
                return new NonSeekable(await FrameSource.OpenLocalAsync(location, ct), () => { lock (closed) closed.Add(Path.GetFileName(location)); });
            },
        });
        await using (var chunks = source.ReadChunksAsync(["H1:LOSC-STRAIN"], Span(2, 32)).GetAsyncEnumerator())
        {
            Assert.True(await chunks.MoveNextAsync());
            Assert.Equal(Span(2, 4), chunks.Current.Span);
            // While the caller holds the first frame of the first file, the second file is being opened too.
            for (int i = 0; i < 100 && opened.Count < 2; i++) await Task.Delay(10);
            lock (opened) Assert.Equal(["H-H1_TEST-1126259446-8.gwf", "H-H1_TEST-1126259454-8.gwf"], opened);
            Assert.True(await chunks.MoveNextAsync());
            Assert.True(await chunks.MoveNextAsync());
            Assert.Equal(Span(8, 12), chunks.Current.Span);
            // The caller stops in the second file: the third, opened ahead and never read, is closed with the enumeration.
            for (int i = 0; i < 100 && opened.Count < 3; i++) await Task.Delay(10);
        }
        lock (opened) Assert.Equal(3, opened.Count);
        lock (closed) Assert.Equal(opened.Order(StringComparer.Ordinal), closed.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task MissingChannelIsBadInput()
    {
        var source = new FrameSource(FrameCache.FromFiles(_files));
        var e = await Assert.ThrowsAsync<GwfFormatException>(() => source.ReadAsync(["H1:NOPE"], Span(0, 4)));
        Assert.Equal("H1:NOPE", e.Channel);
    }

    [Fact]
    public async Task OddlyNamedFilesAndHdf5AreProbed()
    {
        var source = await FrameSource.FromFilesAsync([RealData.PathOf("framel/test.gwf")]);
        Assert.Equal(new Segment(925484675, 925484685), source.Cache.Entries[0].Span);
        var data = await source.ReadAsync(["Adc3"], new Segment(925484676, 925484678));
        Assert.Equal(400, data.Channels[0].Length);
        Assert.Equal(15878, data.Channels[0].Samples.Span[0]);

        var h5 = await FrameSource.FromFilesAsync([RealData.PathOf("gwosc/H-H1_LOSC_4_V2-1126259446-32.hdf5")]);
        var strain = await h5.ReadAsync(["H1:GWOSC-STRAIN"], Span(3, 5));
        Assert.Equal(_strain.Crop(Span(3, 5).Start, Span(3, 5).End).Samples.ToArray(), strain.Channels[0].Samples.ToArray());
    }

    private sealed class NonSeekable(Stream inner, Action? disposed = null) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
                disposed?.Invoke();
            }
            base.Dispose(disposing);
        }
    }
}
