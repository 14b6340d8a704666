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
public sealed partial class GwfFile : IAsyncDisposable, IDisposable
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
    private readonly List<GwfChecksumWarning> _warnings = [];
    private readonly HashSet<long> _warnedOffsets = [];

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

    /// <summary>Structures the data does not depend on whose checksum failed (see <see cref="GwfReadOptions.Strict"/>), in the order found.</summary>
    public IReadOnlyList<GwfChecksumWarning> ChecksumWarnings => _warnings;

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

    // ---------------------------------------------------------------- frame details

    /// <summary>Reads a frame's FrameH name, FrDetector and FrHistory structures (skipping data vectors without reading them).</summary>
    public async Task<GwfFrameDetails> GetFrameDetailsAsync(int frameIndex, CancellationToken cancellationToken = default)
    {
        if ((uint)frameIndex >= (uint)_frames.Count) throw new ArgumentOutOfRangeException(nameof(frameIndex));
        var frame = _frames[frameIndex];
        long offset = frame.Position;
        string name = "";
        bool seenFrameH = false;
        var detectors = new List<GwfDetector>();
        var history = new List<GwfHistory>();
        while (offset < _endOfFileOffset)
        {
            var h = await ReadHeaderAsync(offset, cancellationToken).ConfigureAwait(false);
            string cls = ClassName(h);
            if (cls == "FrSH") await RegisterDictionaryAsync(h, cancellationToken).ConfigureAwait(false);
            else if (cls is "FrameH" or "FrDetector" or "FrHistory")
            {
                if (cls == "FrameH" && seenFrameH) break;
                using var rec = await ReadRecordAsync(h, cancellationToken, verify: cls != "FrHistory").ConfigureAwait(false);
                if (cls == "FrHistory") CheckAuxiliaryChecksum(rec, cls);
                try
                {
                    var r = Reader(rec);
                    switch (cls)
                    {
                        case "FrameH":
                            seenFrameH = true;
                            name = r.Str("name");
                            break;
                        case "FrDetector":
                        {
                            string dn = r.Str("name");
                            var prefixBytes = r.Bytes(2, "prefix");
                            int nul = prefixBytes.IndexOf((byte)0);
                            string prefix = System.Text.Encoding.Latin1.GetString(nul >= 0 ? prefixBytes[..nul] : prefixBytes);
                            detectors.Add(new GwfDetector(dn, prefix, r.F64("longitude"), r.F64("latitude"), r.F32("elevation"),
                                r.F32("armXazimuth"), r.F32("armYazimuth"), r.F32("armXaltitude"), r.F32("armYaltitude"),
                                r.F32("armXmidpoint"), r.F32("armYmidpoint"), r.I32("localTime")));
                            break;
                        }
                        default:
                            history.Add(new GwfHistory(r.Str("name"), r.U32("time"), r.Str("comment")));
                            break;
                    }
                }
                catch (GwfParseException e) { throw Error(e.Message, cls, offset); }
            }
            else if (cls == "FrEndOfFrame") break;
            offset += h.Length;
        }
        return new GwfFrameDetails(frame, name, detectors, history);
    }

    // ---------------------------------------------------------------- channels

    /// <summary>The channel's structure and vector metadata in the first frame that holds it (no samples are decoded).</summary>
    public async Task<GwfChannelInfo> GetChannelAsync(string channel, CancellationToken cancellationToken = default)
    {
        var entry = Entry(channel);
        int frame = Array.FindIndex(entry.Positions, p => p != 0);
        if (frame < 0) throw Error("channel is indexed but present in no frame", null, null, channel);
        var located = await LocateAsync(entry, frame, cancellationToken).ConfigureAwait(false);
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
        var v = located.Info.Vector;
        var real = new double[v.NData];
        double[]? imaginary = v.Type.IsComplex() ? new double[v.NData] : null;
        await DecodeAsync(located, 0, real, imaginary, cancellationToken).ConfigureAwait(false);
        return new GwfFrameSamples(located.Info, _frames[frameIndex], located.T0, real, imaginary);
    }

    /// <summary>Reads a real channel over <paramref name="span"/> (default: the whole file) as one contiguous float64 series.</summary>
    /// <exception cref="GwfFormatException">The channel is missing, complex, not contiguous, or the span is not inside the file.</exception>
    public Task<TimeSeries> ReadAsync(string channel, Segment? span = null, CancellationToken cancellationToken = default) =>
        ReadCoreAsync(channel, span, null, cancellationToken);

    /// <summary>Like <see cref="ReadAsync(string, Segment?, CancellationToken)"/>, decoding into <paramref name="destination"/> (reused between calls to spare allocation and page faults); the series shares that memory.</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than the samples in the span.</exception>
    public Task<TimeSeries> ReadAsync(string channel, Segment? span, Memory<double> destination, CancellationToken cancellationToken = default) =>
        ReadCoreAsync(channel, span, destination, cancellationToken);

    private async Task<TimeSeries> ReadCoreAsync(string channel, Segment? span, Memory<double>? destination, CancellationToken cancellationToken)
    {
        var entry = Entry(channel);
        var want = span ?? Span;
        if (want.IsEmpty) throw Error($"requested span {want} is empty", null, null, channel);
        if (!Span.Contains(want)) throw Error($"requested span {want} is outside the file's data {Span}", null, null, channel);
        var pieces = new List<(Located Where, long First, long Count)>();
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
                if (last <= first) { pieces.RemoveAt(pieces.Count - 1); continue; }
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
            Memory<double> samples;
            if (destination is { } d)
            {
                if (d.Length < total) throw new ArgumentException($"{channel}: the destination holds {d.Length} samples, the span needs {total}", nameof(destination));
                samples = d[..(int)total];
            }
            else samples = GC.AllocateUninitializedArray<double>((int)total);
            // Pipeline: while one frame inflates on this thread, the next frame's payload is read and
            // CRC-checked on another, so reading and checking hide behind decompression.
            long at = 0;
            Task<byte[]>? next = ReadPayloadAsync(pieces[0].Where, cancellationToken);
            try
            {
                for (int k = 0; k < pieces.Count; k++)
                {
                    var payload = await next!.ConfigureAwait(false);
                    next = null;
                    try
                    {
                        if (k + 1 < pieces.Count)
                        {
                            var following = pieces[k + 1].Where;
                            next = Task.Run(() => ReadPayloadAsync(following, cancellationToken), cancellationToken);
                        }
                        var (where, first, count) = pieces[k];
                        Decode(where, payload, first, samples.Span.Slice((int)at, (int)count), null);
                        at += count;
                    }
                    finally
                    {
                        ArrayPool<byte>.Shared.Return(payload);
                    }
                }
            }
            finally
            {
                if (next is not null)
                {
                    try { ArrayPool<byte>.Shared.Return(await next.ConfigureAwait(false)); }
                    catch (Exception) { /* the first error is already propagating */ }
                }
            }
            var firstInfo = pieces[0].Where.Info;
            ChannelName name;
            try { name = new ChannelName(channel); }
            catch (ArgumentException e) { throw Error($"the name is not a valid channel name ({e.Message})", null, null, channel); }
            return new TimeSeries(name, t0, new SampleRate(rate), samples, firstInfo.Unit);
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

    // A channel's vector in one frame: metadata read, payload still in the file. Meta is the FrVect record's
    // bytes without the payload (everything before it, then everything after it); DataStart is the payload's
    // offset in the record and the split point of Meta.
    private sealed record Located(GwfChannelInfo Info, GpsTime T0, RecordHeader Vector, byte[] Meta, int DataStart, int DataCount)
    {
        public long PayloadOffset => Vector.Offset + DataStart;
    }

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
                var (meta, dataStart, dataCount) = await ReadVectorMetaAsync(h, entry.Name, ct).ConfigureAwait(false);
                var (vector, _, _) = ParseVector(meta, h.Offset, payloadIncluded: false, entry.Name);
                var info = fields.ToInfo(entry, vector);
                double startX = entry.Kind == GwfChannelKind.Proc && vector.StartX.Count > 0 ? vector.StartX[0] : 0;
                double offsetSeconds = info.TimeOffset + startX;
                if (!double.IsFinite(offsetSeconds) || Math.Abs(offsetSeconds) > 1e10)
                    throw Error($"invalid time offset {offsetSeconds} s", expected, structureOffset, entry.Name);
                var t0 = _frames[frameIndex].Start + GpsDuration.FromSeconds(offsetSeconds);
                if (!(info.SampleRate > 0) || !double.IsFinite(info.SampleRate))
                    throw Error($"invalid sample rate {info.SampleRate}", expected, structureOffset, entry.Name);
                return new Located(info, t0, h, meta, dataStart, dataCount);
            }
            else if (cls is "FrEndOfFrame" or "FrEndOfFile") break;
            offset += h.Length;
        }
        throw Error($"data vector ({fields.Data.ClassId}, {fields.Data.Instance}) not found before the end of frame {frameIndex}", expected, structureOffset, entry.Name);
    }

    /// <summary>Reads a FrVect record except its payload: the fields before it and the fields after it.</summary>
    private async Task<(byte[] Meta, int DataStart, int DataCount)> ReadVectorMetaAsync(RecordHeader h, string channel, CancellationToken ct)
    {
        int headLength = (int)Math.Min(h.Length, 1 << 16);
        var head = new byte[headLength];
        await ReadAtAsync(h.Offset, head, ct).ConfigureAwait(false);
        int dataStart;
        ulong nBytes;
        try
        {
            var r = new GwfSpanReader(head, BigEndian, CommonHeaderBytes);
            r.Str("name"); r.U16("compress"); r.U16("type"); r.U64("nData");
            nBytes = r.U64("nBytes");
            dataStart = r.Position;
        }
        catch (GwfParseException e) { throw Error(e.Message, "FrVect", h.Offset, channel); }
        if (nBytes > (ulong)(h.Length - dataStart - Trailer))
            throw Error($"nBytes = {nBytes} exceeds the structure ({h.Length - dataStart - Trailer} byte(s) left)", "FrVect", h.Offset, channel);
        long tailStart = dataStart + (long)nBytes;
        int tailLength = (int)(h.Length - tailStart);
        if (tailLength > 1 << 20) throw Error($"{tailLength} bytes after the data is implausibly large", "FrVect", h.Offset, channel);
        var meta = new byte[dataStart + tailLength];
        head.AsSpan(0, dataStart).CopyTo(meta);
        if (tailStart + tailLength <= headLength) head.AsSpan((int)tailStart, tailLength).CopyTo(meta.AsSpan(dataStart));
        else await ReadAtAsync(h.Offset + tailStart, meta.AsMemory(dataStart), ct).ConfigureAwait(false);
        return (meta, dataStart, (int)nBytes);
    }

    /// <summary>Reads a located vector's payload into a pooled buffer, checking the record CRC (v8) over metadata and payload.</summary>
    private async Task<byte[]> ReadPayloadAsync(Located where, CancellationToken ct)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(1, where.DataCount));
        try
        {
            await ReadAtAsync(where.PayloadOffset, buffer.AsMemory(0, where.DataCount), ct).ConfigureAwait(false);
            if (Options.VerifyChecksums && IsV8 && where.Vector.ChkType == 1)
            {
                var crc = new GwfChecksum();
                crc.Append(where.Meta.AsSpan(0, where.DataStart));
                crc.Append(buffer.AsSpan(0, where.DataCount));
                crc.Append(where.Meta.AsSpan(where.DataStart, where.Meta.Length - where.DataStart - 4));
                uint stored = ReadU32(where.Meta.AsSpan(where.Meta.Length - 4));
                if (stored != crc.Value)
                    throw Error($"checksum mismatch (stored 0x{stored:X8}, computed 0x{crc.Value:X8}); the file is corrupt", "FrVect", where.Vector.Offset, where.Info.Name);
            }
            return buffer;
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    private async Task DecodeAsync(Located where, long first, Memory<double> destination, double[]? imaginary, CancellationToken ct)
    {
        var payload = await ReadPayloadAsync(where, ct).ConfigureAwait(false);
        try { Decode(where, payload, first, destination.Span, imaginary); }
        finally { ArrayPool<byte>.Shared.Return(payload); }
    }

    private void Decode(Located where, byte[] payload, long first, Span<double> destination, double[]? imaginary)
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
                GwfVectorCodec.Decode(v.CompressCode, v.Type, payload, 0, where.DataCount, BigEndian,
                    System.Runtime.InteropServices.MemoryMarshal.AsBytes(destination));
                return;
            }
            var scratch = ArrayPool<byte>.Shared.Rent((int)bytes);
            try
            {
                var elements = scratch.AsSpan(0, (int)bytes);
                GwfVectorCodec.Decode(v.CompressCode, v.Type, payload, 0, where.DataCount, BigEndian, elements);
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

    private (GwfVectorInfo Info, int DataOffset, int DataCount) ParseVector(ReadOnlySpan<byte> record, long recordOffset, bool payloadIncluded, string? channel)
    {
        try
        {
            var r = new GwfSpanReader(record, BigEndian, CommonHeaderBytes);
            string name = r.Str("name");
            ushort compress = r.U16("compress");
            var type = (GwfVectorType)r.U16("type");
            ulong nData = r.U64("nData");
            ulong nBytes = r.U64("nBytes");
            if (payloadIncluded && nBytes > (ulong)r.Remaining) throw new GwfParseException($"nBytes = {nBytes} exceeds the structure ({r.Remaining} byte(s) left)");
            int dataOffset = r.Position;
            if (payloadIncluded) r.Skip((long)nBytes, "data");
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
        catch (GwfParseException e) { throw Error(e.Message, "FrVect", recordOffset, channel); }
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
