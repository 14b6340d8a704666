using System.Buffers;
using System.Buffers.Binary;
using GwReprocess.Data;
using GwReprocess.Time;

namespace GwReprocess.Frames.Gwf;

/// <summary>An open GWF frame file (versions 6 and 8, either byte order): its frames, channels and samples.</summary>
/// <remarks>
/// Opening reads the header, the FrEndOfFile and the FrTOC (or, without a TOC, scans the structure
/// headers); reading a channel then seeks straight to its structures in the frames it needs, so
/// other channels are never decoded. Not thread-safe for concurrent reads (one stream position).
/// </remarks>
public sealed class GwfFile : IAsyncDisposable, IDisposable
{
    private const int HeaderBytes = 40;
    private const int CommonHeaderBytes = 14;

    private readonly Stream _stream;
    private readonly bool _leaveOpen;
    private readonly long _length;
    private readonly Dictionary<ushort, string> _classNames = new() { [1] = "FrSH", [2] = "FrSE" };
    private readonly List<GwfFrameInfo> _frames = [];
    private readonly List<ChannelEntry> _channels = [];
    private readonly Dictionary<string, ChannelEntry> _byName = new(StringComparer.Ordinal);
    private readonly byte[] _headerScratch = new byte[CommonHeaderBytes];

    private GwfFile(Stream stream, string name, GwfReadOptions options, bool leaveOpen, GwfFileHeader header)
    {
        _stream = stream;
        Name = name;
        Options = options;
        _leaveOpen = leaveOpen;
        Header = header;
        _length = stream.Length;
    }

    /// <summary>The path or URL the file was opened from (used in messages).</summary>
    public string Name { get; }

    public GwfReadOptions Options { get; }

    public GwfFileHeader Header { get; }

    /// <summary>File size in bytes.</summary>
    public long Length => _length;

    /// <summary>True when the channel index came from the file's FrTOC, false when it was built by scanning.</summary>
    public bool HasTableOfContents { get; private set; }

    public IReadOnlyList<GwfFrameInfo> Frames => _frames;

    /// <summary>From the first frame's start to the last frame's end.</summary>
    public Segment Span => _frames.Count == 0 ? default : new Segment(_frames[0].Start, _frames[^1].Span.End);

    /// <summary>Channel names in index order (sorted when they come from the FrTOC).</summary>
    public IReadOnlyList<string> ChannelNames => _channels.ConvertAll(c => c.Name);

    /// <summary>Class ids the file's dictionary assigns, by class name.</summary>
    public IReadOnlyDictionary<ushort, string> ClassNames => _classNames;

    public bool HasChannel(string channel) => _byName.ContainsKey(channel);

    /// <summary>The kind of structure that holds <paramref name="channel"/>.</summary>
    public GwfChannelKind KindOf(string channel) => Entry(channel).Kind;

    private bool IsV8 => Header.Version >= 8;
    private int Trailer => IsV8 ? 4 : 0;
    private bool BigEndian => Header.IsBigEndian;

    /// <summary>Opens a local GWF file.</summary>
    public static async Task<GwfFile> OpenAsync(string path, GwfReadOptions? options = null, CancellationToken cancellationToken = default)
    {
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.RandomAccess);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new GwfFormatException(path, "no such file", inner: e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new GwfFormatException(path, "permission denied", inner: e);
        }
        return await OpenAsync(stream, path, options, leaveOpen: false, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Opens a GWF file from a stream; a non-seekable stream is first copied into memory.</summary>
    public static async Task<GwfFile> OpenAsync(Stream stream, string name, GwfReadOptions? options = null, bool leaveOpen = false, CancellationToken cancellationToken = default)
    {
        if (!stream.CanSeek)
        {
            var memory = new MemoryStream();
            await stream.CopyToAsync(memory, cancellationToken).ConfigureAwait(false);
            if (!leaveOpen) await stream.DisposeAsync().ConfigureAwait(false);
            memory.Position = 0;
            stream = memory;
            leaveOpen = false;
        }
        try
        {
            var header = await ReadFileHeaderAsync(stream, name, cancellationToken).ConfigureAwait(false);
            var file = new GwfFile(stream, name, options ?? GwfReadOptions.Default, leaveOpen, header);
            await file.IndexAsync(cancellationToken).ConfigureAwait(false);
            return file;
        }
        catch
        {
            if (!leaveOpen) await stream.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public void Dispose()
    {
        if (!_leaveOpen) _stream.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_leaveOpen) await _stream.DisposeAsync().ConfigureAwait(false);
    }

    // ---------------------------------------------------------------- header, EOF, TOC, scan

    private static async Task<GwfFileHeader> ReadFileHeaderAsync(Stream stream, string name, CancellationToken ct)
    {
        if (stream.Length < HeaderBytes) throw new GwfFormatException(name, $"{stream.Length} byte(s) is too short to be a GWF file", "FrHeader", 0);
        var h = new byte[HeaderBytes];
        stream.Position = 0;
        await stream.ReadExactlyAsync(h, ct).ConfigureAwait(false);
        if (h[0] != 'I' || h[1] != 'G' || h[2] != 'W' || h[3] != 'D' || h[4] != 0)
            throw new GwfFormatException(name, "not a GWF file (no IGWD signature)", "FrHeader", 0);
        int version = h[5];
        if (version is < 6 or > 8) throw new GwfFormatException(name, $"frame format version {version} is not supported (6 to 8 are)", "FrHeader", 0);
        if (h[7] != 2 || h[8] != 4 || h[9] != 8 || h[10] != 4 || h[11] != 8)
            throw new GwfFormatException(name, $"unsupported word sizes {h[7]}/{h[8]}/{h[9]}/{h[10]}/{h[11]} (expected 2/4/8/4/8)", "FrHeader", 0);
        bool bigEndian;
        if (h[12] == 0x34 && h[13] == 0x12) bigEndian = false;
        else if (h[12] == 0x12 && h[13] == 0x34) bigEndian = true;
        else throw new GwfFormatException(name, $"byte-order test value {h[12]:x2} {h[13]:x2} is neither 0x1234 nor 0x3412", "FrHeader", 12);
        bool v8 = version >= 8;
        return new GwfFileHeader(version, h[6], bigEndian, v8 ? h[38] : 0, v8 && h[39] == 1);
    }

    private long _endOfFileOffset;
    private ulong _seekToc;

    private async Task IndexAsync(CancellationToken ct)
    {
        int eofSize = IsV8 ? 46 : 42;
        if (_length < HeaderBytes + eofSize)
            throw Error("file ends before its FrEndOfFile (truncated)", "FrEndOfFile", _length);
        _endOfFileOffset = _length - eofSize;
        var eofHeader = await ReadHeaderAsync(_endOfFileOffset, ct).ConfigureAwait(false);
        if (eofHeader.Length != eofSize)
            throw Error("file does not end with a FrEndOfFile structure (truncated or not a complete GWF file)", "FrEndOfFile", _endOfFileOffset);
        _classNames.TryAdd(eofHeader.ClassId, "FrEndOfFile");
        uint nFrames;
        using (var eof = await ReadRecordAsync(eofHeader, ct).ConfigureAwait(false))
        {
            var r = Reader(eof);
            ulong nBytes;
            try
            {
                nFrames = r.U32("nFrames");
                nBytes = r.U64("nBytes");
                if (IsV8) _seekToc = r.U64("seekTOC");
                else { r.U32("chkType"); r.U32("chkSum"); _seekToc = r.U64("seekTOC"); }
            }
            catch (GwfParseException e) { throw Error(e.Message, "FrEndOfFile", _endOfFileOffset); }
            if (nBytes != 0 && nBytes != (ulong)_length)
                throw Error($"FrEndOfFile records {nBytes} bytes but the file has {_length} (truncated or appended to)", "FrEndOfFile", _endOfFileOffset);
        }
        if (_seekToc != 0)
        {
            if (_seekToc > (ulong)(_endOfFileOffset - HeaderBytes) || _seekToc < (ulong)eofSize)
                throw Error($"seekTOC {_seekToc} points outside the file", "FrEndOfFile", _endOfFileOffset);
            await ReadTocAsync(_length - (long)_seekToc, ct).ConfigureAwait(false);
            HasTableOfContents = true;
        }
        else
        {
            await ScanAsync(ct).ConfigureAwait(false);
        }
        if (nFrames != _frames.Count)
            throw Error($"FrEndOfFile counts {nFrames} frame(s) but the index has {_frames.Count}", "FrEndOfFile", _endOfFileOffset);
        for (int i = 1; i < _frames.Count; i++)
            if (_frames[i].Start < _frames[i - 1].Span.End)
                throw Error($"frame {i} starts at {_frames[i].Start}, before frame {i - 1} ends ({_frames[i - 1].Span.End}); frames must be in time order",
                    HasTableOfContents ? "FrTOC" : "FrameH", HasTableOfContents ? _length - (long)_seekToc : _frames[i].Position);
    }

    private async Task ReadTocAsync(long offset, CancellationToken ct)
    {
        while (true)
        {
            var h = await ReadHeaderAsync(offset, ct).ConfigureAwait(false);
            if (h.ClassId == 1) await RegisterDictionaryAsync(h, ct).ConfigureAwait(false);
            else if (h.ClassId != 2)
            {
                // frameCPP's seekTOC points at the FrTOC itself, past its FrSH, so the class id may be unnamed yet.
                _classNames.TryAdd(h.ClassId, "FrTOC");
                if (_classNames[h.ClassId] != "FrTOC") throw Error($"seekTOC points at a {_classNames[h.ClassId]}, not a FrTOC", "FrTOC", offset);
                using var toc = await ReadRecordAsync(h, ct).ConfigureAwait(false);
                try { ParseToc(toc); }
                catch (GwfParseException e) { throw Error(e.Message, "FrTOC", offset); }
                return;
            }
            offset += h.Length;
            if (offset >= _endOfFileOffset) throw Error("no FrTOC where seekTOC points", "FrTOC", offset);
        }
    }

    private void ParseToc(Record toc)
    {
        var r = Reader(toc);
        int leap = r.I16("ULeapS");
        int n = r.Count(r.U32("nFrame"), 68, "nFrame");
        var dq = new uint[n]; var s = new uint[n]; var ns = new uint[n]; var dt = new double[n]; var runs = new int[n]; var num = new uint[n]; var pos = new long[n];
        for (int i = 0; i < n; i++) dq[i] = r.U32("dataQuality");
        for (int i = 0; i < n; i++) s[i] = r.U32("GTimeS");
        for (int i = 0; i < n; i++) ns[i] = r.U32("GTimeN");
        for (int i = 0; i < n; i++) dt[i] = r.F64("dt");
        for (int i = 0; i < n; i++) runs[i] = r.I32("runs");
        for (int i = 0; i < n; i++) num[i] = r.U32("frame");
        for (int i = 0; i < n; i++) pos[i] = Position(r.U64("positionH"), "positionH");
        for (int k = 0; k < 4; k++)
            for (int i = 0; i < n; i++) r.U64("nFirst");
        for (int i = 0; i < n; i++)
        {
            if (!double.IsFinite(dt[i]) || dt[i] < 0 || dt[i] > 1e10) throw new GwfParseException($"frame {i} has an invalid length dt = {dt[i]}");
            if (ns[i] >= 1_000_000_000) throw new GwfParseException($"frame {i} has GTimeN = {ns[i]} (not below 1e9)");
            _frames.Add(new GwfFrameInfo(i, GpsTime.FromSecondsAndNanoseconds(s[i], ns[i]), GpsDuration.FromSeconds(dt[i]), runs[i], num[i], dq[i], leap, pos[i]));
        }
        int nSh = r.Count(r.U32("nSH"), 5, "nSH");
        var ids = new ushort[nSh];
        for (int i = 0; i < nSh; i++) ids[i] = r.U16("SHid");
        for (int i = 0; i < nSh; i++)
        {
            string shName = r.Str("SHname");
            if (ids[i] > 2) _classNames[ids[i]] = shName;
        }
        uint nDet = r.U32("nDetector");
        if (nDet != uint.MaxValue)
        {
            int nd = r.Count(nDet, 10, "nDetector");
            for (int i = 0; i < nd; i++) r.Str("nameDetector");
            for (int i = 0; i < nd; i++) r.U64("positionDetector");
        }
        uint nStatType = r.U32("nStatType");
        if (nStatType != uint.MaxValue && nStatType != 0)
        {
            int nt = r.Count(nStatType, 8, "nStatType");
            if (IsV8)
            {
                for (int i = 0; i < nt; i++) r.Str("nameStat");
                for (int i = 0; i < nt; i++) r.Str("detector");
                for (int i = 0; i < nt; i++) r.U32("nStatInstance");
                int total = r.Count(r.U32("nTotalStat"), 20, "nTotalStat");
                r.Skip(20L * total, "stat table");
            }
            else
            {
                for (int i = 0; i < nt; i++)
                {
                    r.Str("nameStat"); r.Str("detector");
                    int ni = r.Count(r.U32("nStatInstance"), 20, "nStatInstance");
                    r.Skip(20L * ni, "stat table");
                }
            }
        }
        else if (nStatType == 0 && IsV8) r.U32("nTotalStat");
        ReadTocChannels(ref r, GwfChannelKind.Adc, n, withIds: true);
        ReadTocChannels(ref r, GwfChannelKind.Proc, n, withIds: false);
        ReadTocChannels(ref r, GwfChannelKind.Sim, n, withIds: false);
        // Serial, summary and event indexes follow; this reader does not use them.
    }

    private void ReadTocChannels(ref GwfSpanReader r, GwfChannelKind kind, int nFrames, bool withIds)
    {
        uint count = r.U32($"n{kind}");
        if (count == uint.MaxValue) return;
        int nc = r.Count(count, 3, $"n{kind}");
        var names = new string[nc];
        for (int i = 0; i < nc; i++) names[i] = r.Str($"name{kind}");
        if (withIds) r.Skip(8L * nc, "channelID/groupID");
        r.Count((ulong)nc * (ulong)nFrames, 8, $"position{kind}");
        for (int i = 0; i < nc; i++)
        {
            var positions = new long[nFrames];
            for (int f = 0; f < nFrames; f++) positions[f] = Position(r.U64($"position{kind}"), $"position{kind}");
            AddChannel(names[i], kind, positions);
        }
    }

    private void AddChannel(string name, GwfChannelKind kind, long[] positions)
    {
        // A name in several indexes (rare) is looked up in the first; later ones stay reachable by kind via the list.
        var entry = new ChannelEntry(name, kind, positions);
        _channels.Add(entry);
        _byName.TryAdd(name, entry);
    }

    private long Position(ulong p, string what)
    {
        if (p != 0 && (p < HeaderBytes || p >= (ulong)_endOfFileOffset)) throw new GwfParseException($"{what} {p} points outside the file");
        return (long)p;
    }

    private async Task ScanAsync(CancellationToken ct)
    {
        var positions = new Dictionary<(string, GwfChannelKind), List<long>>();
        long offset = HeaderBytes;
        int frame = -1;
        while (offset < _endOfFileOffset)
        {
            var h = await ReadHeaderAsync(offset, ct).ConfigureAwait(false);
            string cls = ClassName(h);
            switch (cls)
            {
                case "FrSH":
                    await RegisterDictionaryAsync(h, ct).ConfigureAwait(false);
                    break;
                case "FrameH":
                {
                    using var rec = await ReadRecordAsync(h, ct).ConfigureAwait(false);
                    frame++;
                    _frames.Add(ParseFrameH(rec, frame));
                    break;
                }
                case "FrAdcData" or "FrProcData" or "FrSimData":
                {
                    if (frame < 0) throw Error($"{cls} before the first FrameH", cls, offset);
                    using var rec = await ReadRecordAsync(h, ct).ConfigureAwait(false);
                    string name;
                    try { name = Reader(rec).Str("name"); }
                    catch (GwfParseException e) { throw Error(e.Message, cls, offset); }
                    var kind = cls == "FrAdcData" ? GwfChannelKind.Adc : cls == "FrProcData" ? GwfChannelKind.Proc : GwfChannelKind.Sim;
                    if (!positions.TryGetValue((name, kind), out var list)) positions[(name, kind)] = list = [];
                    while (list.Count <= frame) list.Add(0);
                    if (list[frame] == 0) list[frame] = offset;
                    break;
                }
            }
            offset += h.Length;
        }
        if (offset != _endOfFileOffset) throw Error("structures overrun the FrEndOfFile", null, offset);
        foreach (var ((name, kind), list) in positions.OrderBy(p => p.Key.Item2).ThenBy(p => p.Key.Item1, StringComparer.Ordinal))
        {
            while (list.Count < _frames.Count) list.Add(0);
            AddChannel(name, kind, [.. list]);
        }
    }

    private GwfFrameInfo ParseFrameH(Record rec, int index)
    {
        try
        {
            var r = Reader(rec);
            r.Str("name");
            int run = r.I32("run");
            uint number = r.U32("frame");
            uint dq = r.U32("dataQuality");
            uint s = r.U32("GTimeS");
            uint ns = r.U32("GTimeN");
            int leap = r.U16("ULeapS");
            double dt = r.F64("dt");
            if (!double.IsFinite(dt) || dt < 0 || dt > 1e10) throw new GwfParseException($"invalid frame length dt = {dt}");
            if (ns >= 1_000_000_000) throw new GwfParseException($"GTimeN = {ns} is not below 1e9");
            return new GwfFrameInfo(index, GpsTime.FromSecondsAndNanoseconds(s, ns), GpsDuration.FromSeconds(dt), run, number, dq, leap, rec.Offset);
        }
        catch (GwfParseException e) { throw Error(e.Message, "FrameH", rec.Offset); }
    }

    private async Task RegisterDictionaryAsync(RecordHeader h, CancellationToken ct)
    {
        using var rec = await ReadRecordAsync(h, ct).ConfigureAwait(false);
        try
        {
            var r = Reader(rec);
            string name = r.Str("name");
            ushort id = r.U16("class");
            if (id > 2) _classNames.TryAdd(id, name); // FrameL ignores a redefinition
        }
        catch (GwfParseException e) { throw Error(e.Message, "FrSH", h.Offset); }
    }

    // ---------------------------------------------------------------- channels

    /// <summary>The channel's structure and vector metadata in the first frame that holds it (no samples are decoded).</summary>
    public async Task<GwfChannelInfo> GetChannelAsync(string channel, CancellationToken cancellationToken = default)
    {
        var entry = Entry(channel);
        int frame = Array.FindIndex(entry.Positions, p => p != 0);
        if (frame < 0) throw Error("channel is indexed but present in no frame", null, null, channel);
        var located = await LocateAsync(entry, frame, cancellationToken).ConfigureAwait(false);
        located.Vector.Dispose();
        return located.Info;
    }

    /// <summary>All channels with their metadata, in index order.</summary>
    public async Task<IReadOnlyList<GwfChannelInfo>> GetChannelsAsync(CancellationToken cancellationToken = default)
    {
        var result = new List<GwfChannelInfo>(_channels.Count);
        foreach (var c in _channels)
        {
            int frame = Array.FindIndex(c.Positions, p => p != 0);
            if (frame < 0) continue;
            var located = await LocateAsync(c, frame, cancellationToken).ConfigureAwait(false);
            located.Vector.Dispose();
            result.Add(located.Info);
        }
        return result;
    }

    /// <summary>Decodes one channel in one frame, keeping the stored values (complex parts separately).</summary>
    public async Task<GwfFrameSamples> ReadFrameAsync(string channel, int frameIndex, CancellationToken cancellationToken = default)
    {
        var entry = Entry(channel);
        if ((uint)frameIndex >= (uint)_frames.Count) throw new ArgumentOutOfRangeException(nameof(frameIndex));
        var located = await LocateAsync(entry, frameIndex, cancellationToken).ConfigureAwait(false);
        using var vector = located.Vector;
        var v = located.Info.Vector;
        var real = new double[v.NData];
        double[]? imaginary = v.Type.IsComplex() ? new double[v.NData] : null;
        Decode(located, 0, real, imaginary);
        return new GwfFrameSamples(located.Info, _frames[frameIndex], located.T0, real, imaginary);
    }

    /// <summary>Reads a real channel over <paramref name="span"/> (default: the whole file) as one contiguous float64 series.</summary>
    /// <exception cref="GwfFormatException">The channel is missing, complex, not contiguous, or the span is not inside the file.</exception>
    public async Task<TimeSeries> ReadAsync(string channel, Segment? span = null, CancellationToken cancellationToken = default)
    {
        var entry = Entry(channel);
        var want = span ?? Span;
        if (want.IsEmpty) throw Error($"requested span {want} is empty", null, null, channel);
        if (!Span.Contains(want)) throw Error($"requested span {want} is outside the file's data {Span}", null, null, channel);
        var pieces = new List<(Located Where, long First, long Count)>();
        try
        {
            double rate = 0;
            GpsTime t0 = default, expected = default;
            long total = 0;
            foreach (var frame in _frames)
            {
                if (!frame.Span.Intersects(want)) continue;
                if (entry.Positions[frame.Index] == 0)
                    throw Error($"channel is missing from frame {frame.Index} ({frame.Span}), leaving a gap in the requested span", null, null, channel);
                var located = await LocateAsync(entry, frame.Index, cancellationToken).ConfigureAwait(false);
                pieces.Add((located, 0, 0));
                var info = located.Info;
                if (info.Vector.Type.IsComplex())
                    throw Error($"channel holds {info.Vector.Type.Describe()} values; read it with ReadFrameAsync", "FrVect", located.Vector.Offset, channel);
                if (rate == 0) rate = info.SampleRate;
                else if (info.SampleRate != rate)
                    throw Error($"sample rate changes from {rate} Hz to {info.SampleRate} Hz in frame {frame.Index}", null, null, channel);
                long n = info.Vector.NData;
                long first = Math.Clamp(SampleIndex(want.Start - located.T0, rate), 0, n);
                long last = Math.Clamp(SampleIndex(want.End - located.T0, rate), 0, n);
                if (last <= first) { pieces.RemoveAt(pieces.Count - 1); located.Vector.Dispose(); continue; }
                var pieceStart = located.T0 + TimeSeries.DurationOf(first, new SampleRate(rate));
                if (total == 0) t0 = pieceStart;
                else if (Math.Abs((pieceStart - expected).TotalNanoseconds) * rate > 0.5e9 * 1e-3)
                    throw Error($"frame {frame.Index} starts at {pieceStart}, not where the previous frame's samples end ({expected})", null, null, channel);
                pieces[^1] = (located, first, last - first);
                total += last - first;
                expected = located.T0 + TimeSeries.DurationOf(last, new SampleRate(rate));
            }
            if (total == 0) throw Error($"no samples in the requested span {want}", null, null, channel);
            if (total > Array.MaxLength) throw Error($"{total} samples do not fit in one array; read a shorter span", null, null, channel);
            var samples = GC.AllocateUninitializedArray<double>((int)total);
            long at = 0;
            foreach (var (where, first, count) in pieces)
            {
                Decode(where, first, samples.AsSpan((int)at, (int)count), null);
                at += count;
            }
            var firstInfo = pieces[0].Where.Info;
            ChannelName name;
            try { name = new ChannelName(channel); }
            catch (ArgumentException e) { throw Error($"the name is not a valid channel name ({e.Message})", null, null, channel); }
            return new TimeSeries(name, t0, new SampleRate(rate), samples, firstInfo.Unit);
        }
        finally
        {
            foreach (var p in pieces) p.Where.Vector.Dispose();
        }
    }

    /// <summary>Index of the first sample at or after <paramref name="offset"/> from the vector start (tolerating sub-nanosecond rounding).</summary>
    private static long SampleIndex(GpsDuration offset, double rate) =>
        (long)Math.Ceiling(offset.TotalNanoseconds * rate / 1e9 - 1e-6);

    private ChannelEntry Entry(string channel)
    {
        if (_byName.TryGetValue(channel, out var e)) return e;
        var some = string.Join(", ", _channels.Take(5).Select(c => c.Name));
        throw Error($"no such channel (the file has {_channels.Count}: {some}{(_channels.Count > 5 ? ", ..." : "")})", null, null, channel);
    }

    private sealed record Located(GwfChannelInfo Info, GpsTime T0, Record Vector, int DataOffset, int DataCount);

    private async Task<Located> LocateAsync(ChannelEntry entry, int frameIndex, CancellationToken ct)
    {
        string expected = entry.Kind switch { GwfChannelKind.Adc => "FrAdcData", GwfChannelKind.Proc => "FrProcData", _ => "FrSimData" };
        long offset = entry.Positions[frameIndex];
        if (offset == 0) throw Error($"channel is not in frame {frameIndex}", null, null, entry.Name);
        StructureFields fields;
        long structureOffset;
        while (true)
        {
            var h = await ReadHeaderAsync(offset, ct).ConfigureAwait(false);
            string cls = ClassName(h);
            if (cls == "FrSH") await RegisterDictionaryAsync(h, ct).ConfigureAwait(false);
            else if (cls == expected)
            {
                using var rec = await ReadRecordAsync(h, ct).ConfigureAwait(false);
                fields = ParseChannelStructure(rec, entry);
                structureOffset = offset;
                offset += h.Length;
                break;
            }
            else if (cls != "FrSE")
                throw Error($"the index points at a {cls} where {expected} '{entry.Name}' should be", cls, offset, entry.Name);
            offset += h.Length;
            if (offset >= _endOfFileOffset) throw Error($"{expected} not found", expected, offset, entry.Name);
        }
        if (fields.Data.IsNull) throw Error("structure has no data vector", expected, structureOffset, entry.Name);
        if (!_classNames.TryGetValue(fields.Data.ClassId, out var dataClass) || dataClass != "FrVect")
            throw Error($"data pointer names class id {fields.Data.ClassId}, which is not FrVect", expected, structureOffset, entry.Name);
        while (offset < _endOfFileOffset)
        {
            var h = await ReadHeaderAsync(offset, ct).ConfigureAwait(false);
            string cls = ClassName(h);
            if (cls == "FrSH") await RegisterDictionaryAsync(h, ct).ConfigureAwait(false);
            else if (h.ClassId == fields.Data.ClassId && h.Instance == fields.Data.Instance)
            {
                Record rec;
                try { rec = await ReadRecordAsync(h, ct).ConfigureAwait(false); }
                catch (GwfFormatException e) when (e.Channel is null)
                {
                    throw new GwfFormatException(e.File, e.Problem, e.Structure, e.Offset, entry.Name, e);
                }
                try
                {
                    var (vector, dataOffset, dataCount) = ParseVector(rec, entry.Name);
                    var info = fields.ToInfo(entry, vector);
                    double startX = entry.Kind == GwfChannelKind.Proc && vector.StartX.Count > 0 ? vector.StartX[0] : 0;
                    double offsetSeconds = info.TimeOffset + startX;
                    if (!double.IsFinite(offsetSeconds) || Math.Abs(offsetSeconds) > 1e10)
                        throw Error($"invalid time offset {offsetSeconds} s", expected, structureOffset, entry.Name);
                    var t0 = _frames[frameIndex].Start + GpsDuration.FromSeconds(offsetSeconds);
                    if (!(info.SampleRate > 0) || !double.IsFinite(info.SampleRate))
                        throw Error($"invalid sample rate {info.SampleRate}", expected, structureOffset, entry.Name);
                    return new Located(info, t0, rec, dataOffset, dataCount);
                }
                catch
                {
                    rec.Dispose();
                    throw;
                }
            }
            else if (cls is "FrEndOfFrame" or "FrEndOfFile") break;
            offset += h.Length;
        }
        throw Error($"data vector ({fields.Data.ClassId}, {fields.Data.Instance}) not found before the end of frame {frameIndex}", expected, structureOffset, entry.Name);
    }

    private void Decode(Located where, long first, Span<double> destination, double[]? imaginary)
    {
        var v = where.Info.Vector;
        int size = v.Type.ElementSize();
        long bytes = v.NData * size;
        if (size == 0) throw Error($"FrVect type {(int)v.Type} is not numeric", "FrVect", where.Vector.Offset, where.Info.Name);
        if (bytes > Array.MaxLength) throw Error($"vector of {bytes} bytes is too large to decode", "FrVect", where.Vector.Offset, where.Info.Name);
        try
        {
            bool whole = first == 0 && destination.Length == v.NData && imaginary is null;
            if (whole && v.Type == GwfVectorType.Float64)
            {
                // The common strain case: inflate straight into the caller's samples, no intermediate copy.
                GwfVectorCodec.Decode(v.CompressCode, v.Type, where.Vector.Buffer, where.DataOffset, where.DataCount, BigEndian,
                    System.Runtime.InteropServices.MemoryMarshal.AsBytes(destination));
                return;
            }
            var scratch = ArrayPool<byte>.Shared.Rent((int)bytes);
            try
            {
                var elements = scratch.AsSpan(0, (int)bytes);
                GwfVectorCodec.Decode(v.CompressCode, v.Type, where.Vector.Buffer, where.DataOffset, where.DataCount, BigEndian, elements);
                var slice = elements.Slice((int)(first * size), destination.Length * size);
                GwfVectorCodec.ToDouble(v.Type, slice, destination);
                if (imaginary is not null) GwfVectorCodec.ToDouble(v.Type, slice, imaginary, imaginary: true);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(scratch);
            }
        }
        catch (GwfParseException e)
        {
            throw Error(e.Message, "FrVect", where.Vector.Offset, where.Info.Name);
        }
    }

    private sealed class StructureFields
    {
        public string Name = "", Comment = "", Units = "";
        public GwfPointer Data;
        public double SampleRate, TimeOffset, FShift, TRange;
        public float Phase, Bias, Slope;
        public uint Group, Number, NBits;
        public ushort DataValid, Type, SubType;
        public double[] Aux = [];
        public string[] AuxNames = [];

        public GwfChannelInfo ToInfo(ChannelEntry entry, GwfVectorInfo v)
        {
            double rate = entry.Kind == GwfChannelKind.Proc
                ? (v.Dx.Count > 0 && v.Dx[0] > 0 ? 1.0 / v.Dx[0] : 0)
                : SampleRate;
            string unit = v.UnitY.Length > 0 ? v.UnitY : Units;
            return new GwfChannelInfo(Name, entry.Kind, Comment, rate, TimeOffset, unit, v)
            {
                ChannelGroup = Group, ChannelNumber = Number, NBits = NBits, Bias = Bias, Slope = Slope, DataValid = DataValid,
                ProcType = Type, ProcSubType = SubType, TRange = TRange, AuxParameters = Aux, AuxParameterNames = AuxNames,
                FShift = FShift, Phase = Phase,
            };
        }
    }

    private StructureFields ParseChannelStructure(Record rec, ChannelEntry entry)
    {
        var f = new StructureFields();
        try
        {
            var r = Reader(rec);
            f.Name = r.Str("name");
            f.Comment = r.Str("comment");
            switch (entry.Kind)
            {
                case GwfChannelKind.Adc:
                    f.Group = r.U32("channelGroup"); f.Number = r.U32("channelNumber"); f.NBits = r.U32("nBits");
                    f.Bias = r.F32("bias"); f.Slope = r.F32("slope"); f.Units = r.Str("units");
                    f.SampleRate = r.F64("sampleRate"); f.TimeOffset = r.F64("timeOffset"); f.FShift = r.F64("fShift");
                    f.Phase = r.F32("phase"); f.DataValid = r.U16("dataValid");
                    f.Data = r.Ptr("data"); r.Ptr("aux"); r.Ptr("next");
                    break;
                case GwfChannelKind.Proc:
                    f.Type = r.U16("type"); f.SubType = r.U16("subType"); f.TimeOffset = r.F64("timeOffset");
                    f.TRange = r.F64("tRange"); f.FShift = r.F64("fShift"); f.Phase = r.F32("phase");
                    r.F64("fRange"); r.F64("BW");
                    int nAux = r.U16("nAuxParam");
                    f.Aux = new double[r.Count((ulong)nAux, 10, "nAuxParam")];
                    for (int i = 0; i < nAux; i++) f.Aux[i] = r.F64("auxParam");
                    f.AuxNames = new string[nAux];
                    for (int i = 0; i < nAux; i++) f.AuxNames[i] = r.Str("auxParamNames");
                    f.Data = r.Ptr("data"); r.Ptr("aux"); r.Ptr("table"); r.Ptr("history"); r.Ptr("next");
                    break;
                default:
                    f.SampleRate = IsV8 ? r.F64("sampleRate") : r.F32("sampleRate");
                    f.TimeOffset = r.F64("timeOffset"); f.FShift = r.F64("fShift"); f.Phase = r.F32("phase");
                    f.Data = r.Ptr("data"); r.Ptr("input"); r.Ptr("table"); r.Ptr("next");
                    break;
            }
            if (r.Remaining != Trailer) throw new GwfParseException($"{r.Remaining - Trailer} unparsed byte(s) at the end of the structure");
            if (!double.IsFinite(f.TimeOffset)) throw new GwfParseException($"invalid timeOffset {f.TimeOffset}");
        }
        catch (GwfParseException e) { throw Error(e.Message, ClassName(rec.Header), rec.Offset, entry.Name); }
        if (f.Name != entry.Name) throw Error($"the index points at channel '{f.Name}', not '{entry.Name}'", ClassName(rec.Header), rec.Offset, entry.Name);
        return f;
    }

    private (GwfVectorInfo Info, int DataOffset, int DataCount) ParseVector(Record rec, string? channel)
    {
        try
        {
            var r = Reader(rec);
            string name = r.Str("name");
            ushort compress = r.U16("compress");
            var type = (GwfVectorType)r.U16("type");
            ulong nData = r.U64("nData");
            ulong nBytes = r.U64("nBytes");
            if (nBytes > (ulong)r.Remaining) throw new GwfParseException($"nBytes = {nBytes} exceeds the structure ({r.Remaining} byte(s) left)");
            int dataOffset = r.Position;
            r.Skip((long)nBytes, "data");
            int nDim = r.Count(r.U32("nDim"), 8 + 8 + 8 + 2, "nDim");
            var nx = new long[nDim]; var dx = new double[nDim]; var startX = new double[nDim]; var unitX = new string[nDim];
            for (int i = 0; i < nDim; i++) nx[i] = (long)Math.Min(r.U64("nx"), long.MaxValue);
            for (int i = 0; i < nDim; i++) dx[i] = r.F64("dx");
            for (int i = 0; i < nDim; i++) startX[i] = r.F64("startX");
            for (int i = 0; i < nDim; i++) unitX[i] = r.Str("unitX");
            string unitY = r.Str("unitY");
            r.Ptr("next");
            if (r.Remaining != Trailer) throw new GwfParseException($"{r.Remaining - Trailer} unparsed byte(s) at the end of the structure");
            int size = type.ElementSize();
            if (type != GwfVectorType.String && size == 0) throw new GwfParseException($"unknown FrVect type {(int)type}");
            if (nData > (ulong)Array.MaxLength) throw new GwfParseException($"nData = {nData} is too large");
            CheckPlausibleSize(compress, size, nData, nBytes);
            if ((compress & 0xFF) == 0 && size > 0 && nBytes != nData * (ulong)size)
                throw new GwfParseException($"raw vector of {nData} {type.Describe()} should hold {nData * (ulong)size} bytes, not {nBytes}");
            if (nDim >= 1)
            {
                long product = 1;
                foreach (var x in nx) product = x == 0 ? 0 : (product > long.MaxValue / Math.Max(1, x) ? -1 : product * x);
                if (product != (long)nData) throw new GwfParseException($"nData = {nData} is not the product of nx ({string.Join("×", nx)})");
            }
            return (new GwfVectorInfo(name, compress, type, (long)nData, (long)nBytes, nx, dx, startX, unitX, unitY), dataOffset, (int)nBytes);
        }
        catch (GwfParseException e) { throw Error(e.Message, "FrVect", rec.Offset, channel); }
    }

    /// <summary>Rejects a decoded size that no encoding of <paramref name="nBytes"/> bytes can reach, before allocating for it.</summary>
    private static void CheckPlausibleSize(ushort compress, int size, ulong nData, ulong nBytes)
    {
        if (size == 0) return;
        ulong decoded = nData * (ulong)size;
        ulong limit = (compress & 0xFF) switch
        {
            0 => nBytes,
            1 or 3 => nBytes * 1100 + 64, // deflate cannot expand by more than about 1032:1
            // Zero-suppression: each 4–6 bit block header can stand for up to 65535 zeros.
            _ => (nBytes * 8 / 4 + 1) * 65535 * (ulong)size,
        };
        if (decoded > limit)
            throw new GwfParseException($"nData = {nData} cannot be encoded in nBytes = {nBytes} with compression {compress}");
    }

    // ---------------------------------------------------------------- verification

    /// <summary>Reads every structure, checking structure, frame and file checksums and decoding every vector.</summary>
    /// <remarks>Checksum mismatches are collected, not thrown, so a known-broken old file can be inspected; unreadable structure ends the pass with a problem.</remarks>
    public async Task<GwfVerification> VerifyAsync(CancellationToken cancellationToken = default)
    {
        var problems = new List<string>();
        int structures = 0, checksums = 0, frames = 0;
        bool fileChecked = false;
        var fileCrc = new GwfChecksum();
        var frameCrc = new GwfChecksum();
        bool inFrame = false;
        var header = new byte[HeaderBytes];
        _stream.Position = 0;
        await _stream.ReadExactlyAsync(header, cancellationToken).ConfigureAwait(false);
        fileCrc.Append(header);
        uint headerCrc = GwfChecksum.Compute(header);
        long offset = HeaderBytes;
        try
        {
            while (offset < _length)
            {
                var h = await ReadHeaderAsync(offset, cancellationToken).ConfigureAwait(false);
                using var rec = await ReadRecordAsync(h, cancellationToken, verify: false).ConfigureAwait(false);
                structures++;
                string cls = ClassName(h);
                var bytes = rec.Buffer.AsSpan(0, (int)h.Length);
                if (cls == "FrSH")
                {
                    var r = Reader(rec);
                    string name = r.Str("name");
                    ushort id = r.U16("class");
                    if (id > 2) _classNames.TryAdd(id, name);
                }
                bool isEof = offset + h.Length == _length;
                if (IsV8 && h.ChkType == 1)
                {
                    int covered = (int)h.Length - (isEof ? 8 : 4);
                    uint stored = ReadU32(bytes[covered..]);
                    uint computed = GwfChecksum.Compute(bytes[..covered]);
                    checksums++;
                    if (stored != computed) problems.Add($"{cls} at byte {offset}: checksum mismatch (stored 0x{stored:X8}, computed 0x{computed:X8})");
                }
                else if (IsV8 && h.ChkType > 1) problems.Add($"{cls} at byte {offset}: unknown checksum type {h.ChkType}");
                if (cls == "FrVect")
                {
                    var (info, dataOffset, dataCount) = ParseVector(rec, null);
                    int size = info.Type.ElementSize();
                    if (size > 0 && info.NData * size <= Array.MaxLength)
                    {
                        var scratch = ArrayPool<byte>.Shared.Rent((int)(info.NData * size));
                        try { GwfVectorCodec.Decode(info.CompressCode, info.Type, rec.Buffer, dataOffset, dataCount, BigEndian, scratch.AsSpan(0, (int)(info.NData * size))); }
                        catch (GwfParseException e) { problems.Add($"FrVect '{info.Name}' at byte {offset}: {e.Message}"); }
                        finally { ArrayPool<byte>.Shared.Return(scratch); }
                    }
                }
                if (!IsV8)
                {
                    if (cls == "FrameH") { inFrame = true; frameCrc = new GwfChecksum(); }
                    if (inFrame)
                    {
                        if (cls == "FrEndOfFrame" && h.Length >= 30)
                        {
                            var copy = bytes.ToArray();
                            uint chkType = ReadU32(copy.AsSpan(22));
                            uint stored = ReadU32(copy.AsSpan(26));
                            copy.AsSpan(26, 4).Clear();
                            frameCrc.Append(copy);
                            inFrame = false;
                            if (chkType == 1)
                            {
                                frames++;
                                if (frameCrc.Value != stored) problems.Add($"FrEndOfFrame at byte {offset}: frame checksum mismatch (stored 0x{stored:X8}, computed 0x{frameCrc.Value:X8})");
                            }
                        }
                        else frameCrc.Append(bytes);
                    }
                }
                if (isEof)
                {
                    var r = Reader(rec);
                    if (IsV8)
                    {
                        r.U32(); r.U64(); r.U64();
                        uint storedHeader = r.U32();
                        if (h.ChkType == 1 && storedHeader != headerCrc) problems.Add($"FrEndOfFile: header checksum mismatch (stored 0x{storedHeader:X8}, computed 0x{headerCrc:X8})");
                        fileCrc.Append(bytes[..^4]);
                        if (Header.HasFileChecksum)
                        {
                            fileChecked = true;
                            uint stored = ReadU32(bytes[^4..]);
                            if (stored != fileCrc.Value) problems.Add($"FrEndOfFile: file checksum mismatch (stored 0x{stored:X8}, computed 0x{fileCrc.Value:X8})");
                        }
                    }
                    else
                    {
                        r.U32(); r.U64();
                        uint chkType = r.U32();
                        int at = r.Position;
                        uint stored = r.U32();
                        var copy = bytes.ToArray();
                        copy.AsSpan(at, 4).Clear();
                        fileCrc.Append(copy);
                        if (chkType == 1)
                        {
                            fileChecked = true;
                            if (stored != fileCrc.Value) problems.Add($"FrEndOfFile: file checksum mismatch (stored 0x{stored:X8}, computed 0x{fileCrc.Value:X8})");
                        }
                    }
                }
                else fileCrc.Append(bytes);
                offset += h.Length;
            }
        }
        catch (GwfFormatException e) { problems.Add(e.Message); }
        catch (GwfParseException e) { problems.Add($"{Name}: structure at byte {offset}: {e.Message}"); }
        return new GwfVerification(Name, structures, checksums, frames, fileChecked, problems);
    }

    private uint ReadU32(ReadOnlySpan<byte> s) => BigEndian ? BinaryPrimitives.ReadUInt32BigEndian(s) : BinaryPrimitives.ReadUInt32LittleEndian(s);

    // ---------------------------------------------------------------- records

    private readonly record struct RecordHeader(long Offset, long Length, byte ChkType, ushort ClassId, uint Instance);

    private sealed class Record(RecordHeader header, byte[] buffer) : IDisposable
    {
        public RecordHeader Header { get; } = header;
        public byte[] Buffer { get; private set; } = buffer;
        public long Offset => Header.Offset;

        public void Dispose()
        {
            if (Buffer.Length > 0) ArrayPool<byte>.Shared.Return(Buffer);
            Buffer = [];
        }
    }

    private sealed record ChannelEntry(string Name, GwfChannelKind Kind, long[] Positions);

    private GwfSpanReader Reader(Record rec) =>
        new(rec.Buffer.AsSpan(0, (int)rec.Header.Length), BigEndian, CommonHeaderBytes);

    private string ClassName(RecordHeader h) =>
        _classNames.TryGetValue(h.ClassId, out var n) ? n
        : throw Error($"class id {h.ClassId} is used before any dictionary entry (FrSH) defines it", null, h.Offset);

    private async ValueTask<RecordHeader> ReadHeaderAsync(long offset, CancellationToken ct)
    {
        if (offset < HeaderBytes || offset > _length - CommonHeaderBytes)
            throw Error($"structure header at byte {offset} lies outside the {_length}-byte file (truncated?)", null, offset);
        await ReadAtAsync(offset, _headerScratch, ct).ConfigureAwait(false);
        var b = _headerScratch.AsSpan();
        ulong length = BigEndian ? BinaryPrimitives.ReadUInt64BigEndian(b) : BinaryPrimitives.ReadUInt64LittleEndian(b);
        byte chk = 0;
        ushort cls;
        if (IsV8) { chk = b[8]; cls = b[9]; }
        else cls = BigEndian ? BinaryPrimitives.ReadUInt16BigEndian(b[8..]) : BinaryPrimitives.ReadUInt16LittleEndian(b[8..]);
        uint instance = BigEndian ? BinaryPrimitives.ReadUInt32BigEndian(b[10..]) : BinaryPrimitives.ReadUInt32LittleEndian(b[10..]);
        string? cname = _classNames.GetValueOrDefault(cls);
        if (length < (ulong)(CommonHeaderBytes + Trailer))
            throw Error($"structure length {length} is shorter than a structure header", cname, offset);
        if (length > (ulong)(_length - offset))
            throw Error($"structure length {length} runs past the end of the {_length}-byte file (truncated?)", cname, offset);
        if (length > (ulong)Array.MaxLength)
            throw Error($"structure length {length} is too large to read", cname, offset);
        return new RecordHeader(offset, (long)length, chk, cls, instance);
    }

    private async ValueTask<Record> ReadRecordAsync(RecordHeader h, CancellationToken ct, bool verify = true)
    {
        var buffer = ArrayPool<byte>.Shared.Rent((int)h.Length);
        var rec = new Record(h, buffer);
        try
        {
            await ReadAtAsync(h.Offset, buffer.AsMemory(0, (int)h.Length), ct).ConfigureAwait(false);
            if (verify && Options.VerifyChecksums && IsV8 && h.ChkType == 1)
            {
                bool isEof = h.Offset + h.Length == _length;
                int covered = (int)h.Length - (isEof ? 8 : 4);
                uint stored = ReadU32(buffer.AsSpan(covered));
                uint computed = GwfChecksum.Compute(buffer.AsSpan(0, covered));
                if (stored != computed)
                    throw Error($"checksum mismatch (stored 0x{stored:X8}, computed 0x{computed:X8}); the file is corrupt", _classNames.GetValueOrDefault(h.ClassId) ?? $"class {h.ClassId}", h.Offset);
            }
            return rec;
        }
        catch
        {
            rec.Dispose();
            throw;
        }
    }

    private async ValueTask ReadAtAsync(long offset, Memory<byte> destination, CancellationToken ct)
    {
        try
        {
            _stream.Position = offset;
            await _stream.ReadExactlyAsync(destination, ct).ConfigureAwait(false);
        }
        catch (EndOfStreamException e)
        {
            throw new GwfFormatException(Name, "unexpected end of file (truncated)", null, offset, inner: e);
        }
    }

    private GwfFormatException Error(string problem, string? structure, long? offset, string? channel = null) =>
        new(Name, problem, structure, offset, channel);
}
