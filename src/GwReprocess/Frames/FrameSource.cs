using System.Runtime.CompilerServices;
using GwReprocess.Data;
using GwReprocess.Frames.Gwf;
using GwReprocess.Frames.Hdf5;
using GwReprocess.IO;
using GwReprocess.Time;

namespace GwReprocess.Frames;

/// <summary>Opens the frame file at a location (local path or URL) as a readable stream; the storage layer plugs in s3:// and gs:// here.</summary>
public delegate Task<Stream> FrameFileOpener(string location, CancellationToken cancellationToken);

/// <summary>Options of <see cref="FrameSource"/>.</summary>
public sealed record FrameSourceOptions
{
    /// <summary>Opens each file's location; the default opens local paths and <c>file://</c> URLs only.</summary>
    public FrameFileOpener Opener { get; init; } = FrameSource.OpenLocalAsync;

    /// <summary>GWF reading options (checksum verification).</summary>
    public GwfReadOptions Gwf { get; init; } = GwfReadOptions.Default;

    /// <summary>When true, <see cref="FrameSource.ReadAsync"/> fills gaps with <see cref="FillValue"/> instead of failing.</summary>
    public bool FillGaps { get; init; }

    /// <summary>The value gaps are filled with when <see cref="FillGaps"/> is set.</summary>
    public double FillValue { get; init; }

    /// <summary>GWF files opened ahead of the one being read (0: none), so a remote file's fetch overlaps the decoding of the one before.</summary>
    public int PrefetchFiles { get; init; }

    /// <summary>
    /// What to do with gaps inside the files (non-finite samples; GWOSC strain seconds with the DQmask DATA bit off), see
    /// <see cref="StrainGaps"/>; null hands the samples on as stored. Not to be confused with <see cref="FillGaps"/>, which is about spans no file covers.
    /// </summary>
    public GapPolicy? Gaps { get; init; }
}

/// <summary>The channels of one frame (or one HDF5 file) inside the requested span, in the requested channel order.</summary>
public sealed record FrameChunk(Segment Span, IReadOnlyList<TimeSeries> Channels, string Location, int FrameIndex)
{
    /// <summary>The gaps in this chunk that <see cref="GapPolicy.Zero"/> filled (null: none), for the job's log: one line per HDF5 file or GWF frame with gaps.</summary>
    public FilledGaps? Filled { get; init; }
}

/// <summary>Channels over a span, stitched across files; <see cref="Gaps"/> lists what no file covered (filled only when asked).</summary>
public sealed record FrameSpanData(Segment Span, IReadOnlyList<TimeSeries> Channels, SegmentList Gaps)
{
    /// <summary>Per chunk (HDF5 file or GWF frame), the gaps inside it that <see cref="GapPolicy.Zero"/> filled.</summary>
    public IReadOnlyList<FilledGaps> Filled { get; init; } = [];

    /// <summary>The series of <paramref name="channel"/>.</summary>
    public TimeSeries this[string channel] => Channels.First(c => c.Channel.Value == channel);
}

/// <summary>Data missing from a requested span; names the channels and the missing GPS spans.</summary>
public sealed class FrameGapException(string message, SegmentList gaps) : BadInputException(message)
{
    public SegmentList Gaps { get; } = gaps;
}

/// <summary>Reads channels over a GPS span from the frame files of a cache (GWF, or GWOSC/gwpy HDF5), frame by frame or as whole series.</summary>
/// <remarks>Files are read in time order; where files overlap, the earlier file's data is kept. Only the requested channels are decoded.</remarks>
public sealed class FrameSource(FrameCache cache, FrameSourceOptions? options = null)
{
    private readonly FrameSourceOptions _options = options ?? new FrameSourceOptions();

    public FrameCache Cache { get; } = cache;

    /// <summary>A source over files named by the IGWN convention; other names are opened to learn their span.</summary>
    public static async Task<FrameSource> FromFilesAsync(IEnumerable<string> pathsOrUrls, FrameSourceOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new FrameSourceOptions();
        var entries = new List<FrameCacheEntry>();
        foreach (var p in pathsOrUrls)
        {
            if (FrameFileName.TryParse(p) is { } name)
            {
                entries.AddRange(FrameCache.FromFiles([p]).Entries);
                continue;
            }
            var span = await ProbeSpanAsync(p, options, cancellationToken).ConfigureAwait(false);
            entries.Add(new FrameCacheEntry("X", "UNKNOWN", span, Location.Parse(p).IsUrl ? p : Path.GetFullPath(p)));
        }
        return new FrameSource(new FrameCache(entries), options);
    }

    private static async Task<Segment> ProbeSpanAsync(string location, FrameSourceOptions options, CancellationToken ct)
    {
        if (IsHdf5(location))
        {
            var h5 = await ReadHdf5Async(location, options, ct).ConfigureAwait(false);
            var first = h5.Series[0];
            return first.Span;
        }
        await using var gwf = await GwfFile.OpenAsync(await options.Opener(location, ct).ConfigureAwait(false), location, options.Gwf, cancellationToken: ct).ConfigureAwait(false);
        return gwf.Span;
    }

    /// <summary>The default opener: local paths, <c>file://localhost/...</c> and <c>file:///...</c>.</summary>
    public static Task<Stream> OpenLocalAsync(string location, CancellationToken cancellationToken)
    {
        string? path = Location.LocalPathOf(location);
        if (path is null) throw new BadInputException($"{location}: no reader for this kind of URL (only local files here)");
        try
        {
            return Task.FromResult<Stream>(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.RandomAccess));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new BadInputException($"{location}: no such frame file", e);
        }
    }

    /// <summary>
    /// Reads the span frame by frame: one chunk per frame of each file (per HDF5 file), cropped to the span,
    /// in time order. A client job can process each chunk as it arrives instead of holding the whole span.
    /// </summary>
    public async IAsyncEnumerable<FrameChunk> ReadChunksAsync(IReadOnlyList<string> channels, Segment span, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (channels.Count == 0) throw new ArgumentException("no channels requested");
        var cursor = span.Start;
        var entries = Cache.Select(span).ToList();
        var opening = new Dictionary<int, Task<Stream>>();
        try
        {
            for (int e = 0; e < entries.Count; e++)
            {
                var entry = entries[e];
                if (entry.Span.End <= cursor) // fully covered by an earlier file
                {
                    if (opening.Remove(e, out var unread)) await CloseQuietlyAsync(unread).ConfigureAwait(false);
                    continue;
                }
                // Open the next files while this one is read; one opened ahead that turns out to be covered already is closed unread.
                for (int ahead = e; ahead < entries.Count && ahead <= e + _options.PrefetchFiles; ahead++)
                    if (!opening.ContainsKey(ahead) && !IsHdf5(entries[ahead].Location))
                    {
                        string location = entries[ahead].Location;
                        opening[ahead] = ahead == e ? _options.Opener(location, cancellationToken) : Task.Run(() => _options.Opener(location, cancellationToken), cancellationToken);
                    }
                if (IsHdf5(entry.Location))
                {
                    var h5 = await ReadHdf5Async(entry.Location, _options, cancellationToken).ConfigureAwait(false);
                    var want = Clip(h5.Series[0].Span, span, cursor);
                    if (want is not { } w) continue;
                    var series = new TimeSeries[channels.Count];
                    for (int i = 0; i < channels.Count; i++)
                        series[i] = h5[channels[i]].Crop(w.Start, w.End);
                    var (filledH5, refusedH5) = CheckGaps(series, entry.LocalPath ?? entry.Location, channel => StrainGaps.DataOff(h5, channel));
                    if (refusedH5 is not null)
                    {
                        if (StrainGaps.BeforeGap(w, refusedH5) is { } clean) yield return new FrameChunk(clean, Crop(series, clean), entry.Location, 0);
                        throw refusedH5;
                    }
                    cursor = w.End;
                    yield return new FrameChunk(w, series, entry.Location, 0) { Filled = filledH5 };
                    continue;
                }
                var stream = await opening[e].ConfigureAwait(false);
                opening.Remove(e);
                await using var file = await GwfFile.OpenAsync(stream, entry.LocalPath ?? entry.Location, _options.Gwf, cancellationToken: cancellationToken).ConfigureAwait(false);
                var wanted = new List<(int Frame, Segment Span)>();
                foreach (var frame in file.Frames)
                {
                    if (Clip(frame.Span, span, cursor) is not { } w) continue;
                    wanted.Add((frame.Index, w));
                    cursor = w.End;
                }
                if (wanted.Count == 0) continue;
                async Task<(TimeSeries[] Series, FilledGaps? Filled, FrameGapException? Refused)> ReadFrameAsync((int Frame, Segment Span) f)
                {
                    var series = new TimeSeries[channels.Count];
                    for (int i = 0; i < channels.Count; i++)
                        series[i] = await file.ReadAsync(channels[i], f.Span, cancellationToken).ConfigureAwait(false);
                    var (filled, refused) = CheckGaps(series, entry.LocalPath ?? entry.Location, null);
                    return (series, filled, refused);
                }
                // While the caller works on one frame, the next one is read and decoded in the background.
                Task<(TimeSeries[] Series, FilledGaps? Filled, FrameGapException? Refused)>? next = Task.Run(() => ReadFrameAsync(wanted[0]), cancellationToken);
                try
                {
                    for (int k = 0; k < wanted.Count; k++)
                    {
                        var (series, filled, refused) = await next!.ConfigureAwait(false);
                        if (k + 1 < wanted.Count)
                        {
                            var following = wanted[k + 1];
                            next = Task.Run(() => ReadFrameAsync(following), cancellationToken);
                        }
                        else next = null;
                        if (refused is not null)
                        {
                            if (StrainGaps.BeforeGap(wanted[k].Span, refused) is { } clean)
                                yield return new FrameChunk(clean, Crop(series, clean), entry.Location, wanted[k].Frame);
                            throw refused;
                        }
                        // Each frame's fills go with its own chunk: a reader that stops early still has reported every fill it handed on.
                        yield return new FrameChunk(wanted[k].Span, series, entry.Location, wanted[k].Frame) { Filled = filled };
                    }
                }
                finally
                {
                    if (next is not null)
                    {
                        try { await next.ConfigureAwait(false); }
                        catch (Exception) { /* abandoned read-ahead; the caller stopped or an earlier error is propagating */ }
                    }
                }
            }
        }
        finally
        {
            foreach (var pending in opening.Values) await CloseQuietlyAsync(pending).ConfigureAwait(false);
        }
    }

    /// <summary>Applies <see cref="FrameSourceOptions.Gaps"/> to one chunk's series; a refusal is returned, not thrown, so the reader can first hand on the data before the gap.</summary>
    private (FilledGaps? Filled, FrameGapException? Refused) CheckGaps(TimeSeries[] series, string file, Func<string, SegmentList>? dataOff)
    {
        if (_options.Gaps is not { } policy) return (null, null);
        try { return (StrainGaps.Apply(series, policy, file, dataOff), null); }
        catch (FrameGapException e) { return (null, e); }
    }

    private static TimeSeries[] Crop(TimeSeries[] series, Segment span)
    {
        var cropped = new TimeSeries[series.Length];
        for (int i = 0; i < series.Length; i++)
        {
            // A slow channel's first sample may lie after the span start; keep within its data.
            var s = series[i];
            var start = GpsTime.Max(s.T0, span.Start);
            cropped[i] = s.Crop(start, GpsTime.Max(start, GpsTime.Min(s.End, span.End)));
        }
        return cropped;
    }

    private static async Task CloseQuietlyAsync(Task<Stream> opened)
    {
        try { await (await opened.ConfigureAwait(false)).DisposeAsync().ConfigureAwait(false); }
        catch (Exception) { /* a file opened ahead and never read: its failure does not matter now */ }
    }

    private static Segment? Clip(Segment available, Segment span, GpsTime cursor)
    {
        var start = GpsTime.Max(GpsTime.Max(available.Start, span.Start), cursor);
        var end = GpsTime.Min(available.End, span.End);
        return end > start ? new Segment(start, end) : null;
    }

    /// <summary>Reads the channels over the whole span as one series each; fails with <see cref="FrameGapException"/> on gaps unless <see cref="FrameSourceOptions.FillGaps"/>.</summary>
    public async Task<FrameSpanData> ReadAsync(IReadOnlyList<string> channels, Segment span, CancellationToken cancellationToken = default)
    {
        var chunks = new List<FrameChunk>();
        await foreach (var chunk in ReadChunksAsync(channels, span, cancellationToken).ConfigureAwait(false))
            chunks.Add(chunk);
        var gaps = new SegmentList(chunks.Select(c => c.Span)).Coalesce().Complement(span);
        if (gaps.Count > 0 && !_options.FillGaps)
            throw new FrameGapException(
                $"{string.Join(", ", channels)}: no data for {gaps.Count} part(s) of {span}: {string.Join(" ", gaps.Take(5))}{(gaps.Count > 5 ? " ..." : "")}" +
                (chunks.Count == 0 ? " (no frame file covers the span)" : ""), gaps);
        if (chunks.Count == 0)
            throw new FrameGapException($"{string.Join(", ", channels)}: no frame file covers {span}, so the sample rate is unknown and nothing can be filled", gaps);
        var result = new TimeSeries[channels.Count];
        for (int i = 0; i < channels.Count; i++)
            result[i] = Stitch(chunks, i, span);
        var filled = new List<FilledGaps>();
        foreach (var c in chunks)
            if (c.Filled is { } f) filled.Add(f);
        return new FrameSpanData(span, result, gaps) { Filled = filled };
    }

    private TimeSeries Stitch(List<FrameChunk> chunks, int channel, Segment span)
    {
        var first = chunks[0].Channels[channel];
        var rate = first.SampleRate;
        if (chunks.Count == 1 && first.Span == span) return first;
        // The output grid is the channel's own sample grid, starting at the first sample at or after the span start.
        long back = (long)Math.Floor((first.T0 - span.Start).TotalNanoseconds * rate.Hertz / 1e9 + 1e-6);
        var t0 = first.T0 - TimeSeries.DurationOf(back, rate);
        long total = (long)Math.Ceiling((span.End - t0).TotalNanoseconds * rate.Hertz / 1e9 - 1e-6);
        if (total > Array.MaxLength) throw new BadInputException($"{first.Channel}: {total} samples over {span} do not fit in one array; read in chunks");
        var samples = GC.AllocateUninitializedArray<double>((int)total);
        samples.AsSpan().Fill(_options.FillValue);
        foreach (var chunk in chunks)
        {
            var s = chunk.Channels[channel];
            if (s.SampleRate != rate)
                throw new BadInputException($"{s.Channel}: sample rate changes from {rate} to {s.SampleRate} at {s.T0} ({chunk.Location})");
            long at = (long)Math.Round((s.T0 - t0).TotalNanoseconds * rate.Hertz / 1e9);
            long n = Math.Min(s.Length, total - at);
            if (at < 0 || n <= 0) continue;
            s.Samples.Span[..(int)n].CopyTo(samples.AsSpan((int)at, (int)n));
        }
        return new TimeSeries(first.Channel, t0, rate, samples, first.Unit);
    }

    private static bool IsHdf5(string location) =>
        location.EndsWith(".h5", StringComparison.OrdinalIgnoreCase) || location.EndsWith(".hdf5", StringComparison.OrdinalIgnoreCase)
        || location.EndsWith(".hdf", StringComparison.OrdinalIgnoreCase);

    private static async Task<Hdf5TimeSeriesFile> ReadHdf5Async(string location, FrameSourceOptions options, CancellationToken ct)
    {
        string? local = Location.LocalPathOf(location);
        if (local is not null) return await Hdf5TimeSeriesReader.ReadAsync(local, ct).ConfigureAwait(false);
        // Remote HDF5: PureHDF needs a seekable file, so stage it locally first.
        string temp = Path.Combine(Path.GetTempPath(), "gwrepro-" + Guid.NewGuid().ToString("N")[..12] + Path.GetExtension(location));
        try
        {
            await using (var source = await options.Opener(location, ct).ConfigureAwait(false))
            await using (var target = File.Create(temp))
                await source.CopyToAsync(target, ct).ConfigureAwait(false);
            var file = await Hdf5TimeSeriesReader.ReadAsync(temp, ct).ConfigureAwait(false);
            return file with { Path = location };
        }
        finally
        {
            File.Delete(temp);
        }
    }
}
