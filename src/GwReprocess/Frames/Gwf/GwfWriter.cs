using System.Buffers;
using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using GwReprocess.Data;
using GwReprocess.IO;
using GwReprocess.Time;

namespace GwReprocess.Frames.Gwf;

/// <summary>Writes GWF version 8 files (little-endian): FrProcData, FrAdcData and FrSimData channels, a FrTOC, structure and file CRCs.</summary>
/// <remarks>
/// Call <see cref="WriteFrameAsync"/> per frame, then <see cref="CompleteAsync"/>. The stream only
/// ever receives a complete file if <see cref="CompleteAsync"/> runs; use <see cref="WriteFileAsync"/>
/// to get a file that appears atomically under its name.
/// </remarks>
public sealed class GwfWriter
{
    // frameCPP's fixed numbering (gwf-format.md §4.3), so files look familiar in FrDump.
    private const ushort FrameH = 3, FrAdcData = 4, FrEndOfFile = 6, FrEndOfFrame = 7, FrHistory = 9, FrProcData = 11, FrRawData = 12, FrSimData = 14, FrToc = 19, FrVect = 20;

    private readonly Stream _output;
    private readonly GwfWriteOptions _options;
    private readonly HashSet<ushort> _described = [];
    private readonly RecordBuilder _record = new();
    private readonly RecordBuilder _suffix = new();
    private readonly MemoryStream _compressed = new();
    private readonly List<FrameEntry> _frames = [];
    private readonly SortedDictionary<string, List<(int Frame, long Position)>>[] _toc =
        [new(StringComparer.Ordinal), new(StringComparer.Ordinal), new(StringComparer.Ordinal)];
    // The TOC's channelID/groupID of each ADC name: what its FrAdcData in the first frame holding it says (FrameL copies them the same way).
    private readonly Dictionary<string, (uint Group, uint Number)> _adcIds = new(StringComparer.Ordinal);
    private GwfChecksum _fileCrc;
    private uint _headerCrc;
    private long _position;
    private bool _completed;

    public GwfWriter(Stream output, GwfWriteOptions? options = null)
    {
        _output = output;
        _options = options ?? GwfWriteOptions.Default;
        if (_options.Compression is not (GwfCompression.Raw or GwfCompression.Gzip or GwfCompression.DifferentialGzip))
            throw new ArgumentException($"the writer writes raw, gzip or differential+gzip vectors, not {GwfVectorTypes.Describe(_options.Compression)}");
    }

    private sealed record FrameEntry(GwfFrameData Frame, long Position, long FirstAdc);

    /// <summary>Writes a whole file atomically (temporary name, then rename) and returns its path.</summary>
    public static async Task WriteFileAsync(string path, IEnumerable<GwfFrameData> frames, GwfWriteOptions? options = null, CancellationToken cancellationToken = default)
    {
        await AtomicFile.WriteAsync(path, async (stream, ct) =>
        {
            var writer = new GwfWriter(stream, options);
            foreach (var frame in frames) await writer.WriteFrameAsync(frame, ct).ConfigureAwait(false);
            await writer.CompleteAsync(ct).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The IGWN file name <c>OBS-TYPE-GPSSTART-DURATION.gwf</c> for frames covering <paramref name="span"/>.</summary>
    public static string FileName(string observatory, string frameType, Segment span) =>
        new FrameFileName(observatory, frameType, span.Start, span.Duration).ToString();

    /// <summary>Appends one frame.</summary>
    public async Task WriteFrameAsync(GwfFrameData frame, CancellationToken cancellationToken = default)
    {
        if (_completed) throw new InvalidOperationException("the file is already complete");
        Validate(frame);
        if (_position == 0) await WriteHeaderAsync(cancellationToken).ConfigureAwait(false);

        var adc = frame.Channels.Where(c => c.Kind == GwfChannelKind.Adc).ToList();
        var proc = frame.Channels.Where(c => c.Kind == GwfChannelKind.Proc).ToList();
        var sim = frame.Channels.Where(c => c.Kind == GwfChannelKind.Sim).ToList();
        int frameIndex = _frames.Count;

        await DescribeAsync(FrameH, cancellationToken).ConfigureAwait(false);
        long framePosition = _position;
        var r = _record.Begin(FrameH, 0);
        r.Str(frame.Name).I32(frame.Run).U32(frame.FrameNumber).U32(frame.DataQuality)
            .U32((uint)frame.Start.Seconds).U32((uint)frame.Start.Nanoseconds)
            .U16((ushort)(LeapSeconds.OffsetAt(frame.Start) + 19)).F64(frame.Duration.TotalSeconds)
            .Ptr(0, 0).Ptr(0, 0).Ptr(0, 0).Ptr(0, 0).Ptr(frame.History.Count > 0 ? FrHistory : (ushort)0, 0)
            .Ptr(adc.Count > 0 ? FrRawData : (ushort)0, 0)
            .Ptr(proc.Count > 0 ? FrProcData : (ushort)0, 0)
            .Ptr(sim.Count > 0 ? FrSimData : (ushort)0, 0)
            .Ptr(0, 0).Ptr(0, 0).Ptr(0, 0).Ptr(0, 0).Ptr(0, 0);
        await WriteRecordAsync(r, ReadOnlyMemory<byte>.Empty, null, cancellationToken).ConfigureAwait(false);

        // FrHistory follows the FrameH that points to it, before the data (gwf-format.md §5).
        for (int i = 0; i < frame.History.Count; i++)
        {
            var h = frame.History[i];
            await DescribeAsync(FrHistory, cancellationToken).ConfigureAwait(false);
            r = _record.Begin(FrHistory, (uint)i);
            r.Str(h.Name).U32(h.Time).Str(h.Comment)
                .Ptr(i + 1 < frame.History.Count ? FrHistory : (ushort)0, i + 1 < frame.History.Count ? (uint)(i + 1) : 0);
            await WriteRecordAsync(r, ReadOnlyMemory<byte>.Empty, null, cancellationToken).ConfigureAwait(false);
        }

        uint vectInstance = 0;
        long firstAdc = 0;
        if (adc.Count > 0)
        {
            await DescribeAsync(FrRawData, cancellationToken).ConfigureAwait(false);
            r = _record.Begin(FrRawData, 0);
            r.Str("rawData").Ptr(0, 0).Ptr(FrAdcData, 0).Ptr(0, 0).Ptr(0, 0).Ptr(0, 0);
            await WriteRecordAsync(r, ReadOnlyMemory<byte>.Empty, null, cancellationToken).ConfigureAwait(false);
            for (int i = 0; i < adc.Count; i++)
            {
                var c = adc[i];
                await DescribeAsync(FrAdcData, cancellationToken).ConfigureAwait(false);
                if (i == 0) firstAdc = _position;
                AddToToc(GwfChannelKind.Adc, c.Name, frameIndex, _position);
                const uint group = 0;
                _adcIds.TryAdd(c.Name, (group, (uint)i));
                r = _record.Begin(FrAdcData, (uint)i);
                r.Str(c.Name).Str(c.Comment).U32(group).U32((uint)i).U32((uint)(c.Type.ElementSize() * 8))
                    .F32(0).F32(1).Str(c.Unit).F64(c.SampleRate).F64(c.TimeOffset).F64(0).F32(0).U16(0)
                    .Ptr(FrVect, vectInstance).Ptr(0, 0).Ptr(i + 1 < adc.Count ? FrAdcData : (ushort)0, i + 1 < adc.Count ? (uint)(i + 1) : 0);
                await WriteRecordAsync(r, ReadOnlyMemory<byte>.Empty, null, cancellationToken).ConfigureAwait(false);
                await WriteVectorAsync(c, vectInstance++, cancellationToken).ConfigureAwait(false);
            }
        }
        for (int i = 0; i < proc.Count; i++)
        {
            var c = proc[i];
            await DescribeAsync(FrProcData, cancellationToken).ConfigureAwait(false);
            AddToToc(GwfChannelKind.Proc, c.Name, frameIndex, _position);
            r = _record.Begin(FrProcData, (uint)i);
            r.Str(c.Name).Str(c.Comment).U16(1).U16(0).F64(c.TimeOffset).F64(c.Samples.Length / c.SampleRate)
                .F64(0).F32(0).F64(0).F64(0).U16(0)
                .Ptr(FrVect, vectInstance).Ptr(0, 0).Ptr(0, 0).Ptr(0, 0)
                .Ptr(i + 1 < proc.Count ? FrProcData : (ushort)0, i + 1 < proc.Count ? (uint)(i + 1) : 0);
            await WriteRecordAsync(r, ReadOnlyMemory<byte>.Empty, null, cancellationToken).ConfigureAwait(false);
            await WriteVectorAsync(c, vectInstance++, cancellationToken).ConfigureAwait(false);
        }
        for (int i = 0; i < sim.Count; i++)
        {
            var c = sim[i];
            await DescribeAsync(FrSimData, cancellationToken).ConfigureAwait(false);
            AddToToc(GwfChannelKind.Sim, c.Name, frameIndex, _position);
            r = _record.Begin(FrSimData, (uint)i);
            r.Str(c.Name).Str(c.Comment).F64(c.SampleRate).F64(c.TimeOffset).F64(0).F32(0)
                .Ptr(FrVect, vectInstance).Ptr(0, 0).Ptr(0, 0)
                .Ptr(i + 1 < sim.Count ? FrSimData : (ushort)0, i + 1 < sim.Count ? (uint)(i + 1) : 0);
            await WriteRecordAsync(r, ReadOnlyMemory<byte>.Empty, null, cancellationToken).ConfigureAwait(false);
            await WriteVectorAsync(c, vectInstance++, cancellationToken).ConfigureAwait(false);
        }

        await DescribeAsync(FrEndOfFrame, cancellationToken).ConfigureAwait(false);
        r = _record.Begin(FrEndOfFrame, 0);
        r.I32(frame.Run).U32(frame.FrameNumber).U32((uint)frame.Start.Seconds).U32((uint)frame.Start.Nanoseconds);
        await WriteRecordAsync(r, ReadOnlyMemory<byte>.Empty, null, cancellationToken).ConfigureAwait(false);
        _frames.Add(new FrameEntry(frame, framePosition, firstAdc));
    }

    /// <summary>Writes the FrTOC and FrEndOfFile and flushes; the stream then holds a complete file.</summary>
    public async Task CompleteAsync(CancellationToken cancellationToken = default)
    {
        if (_completed) return;
        if (_frames.Count == 0) throw new InvalidOperationException("a GWF file needs at least one frame");
        await DescribeAsync(FrToc, cancellationToken).ConfigureAwait(false);
        long tocPosition = _position;
        int n = _frames.Count;
        var r = _record.Begin(FrToc, 0);
        r.I16((short)(LeapSeconds.OffsetAt(_frames[0].Frame.Start) + 19)).U32((uint)n);
        foreach (var f in _frames) r.U32(f.Frame.DataQuality);
        foreach (var f in _frames) r.U32((uint)f.Frame.Start.Seconds);
        foreach (var f in _frames) r.U32((uint)f.Frame.Start.Nanoseconds);
        foreach (var f in _frames) r.F64(f.Frame.Duration.TotalSeconds);
        foreach (var f in _frames) r.I32(f.Frame.Run);
        foreach (var f in _frames) r.U32(f.Frame.FrameNumber);
        foreach (var f in _frames) r.U64((ulong)f.Position);
        foreach (var f in _frames) r.U64((ulong)f.FirstAdc);
        for (int k = 0; k < 3; k++) foreach (var _ in _frames) r.U64(0);
        var classes = _described.Where(c => c != FrEndOfFile).Order().ToList();
        r.U32((uint)classes.Count);
        foreach (var c in classes) r.U16(c);
        foreach (var c in classes) r.Str(Dictionary[c].Name);
        r.U32(0); // detectors
        r.U32(0).U32(0); // static data: nStatType, nTotalStat
        for (int kind = 0; kind < 3; kind++)
        {
            var names = _toc[kind];
            r.U32((uint)names.Count);
            foreach (var name in names.Keys) r.Str(name);
            if (kind == (int)GwfChannelKind.Adc)
            {
                foreach (var name in names.Keys) r.U32(_adcIds[name].Number);
                foreach (var name in names.Keys) r.U32(_adcIds[name].Group);
            }
            foreach (var list in names.Values)
            {
                var perFrame = new long[n];
                foreach (var (frame, position) in list) if (perFrame[frame] == 0) perFrame[frame] = position;
                foreach (var p in perFrame) r.U64((ulong)p);
            }
        }
        r.U32(0).U32(0); // serial, summary
        r.U32(0).U32(0); // events: nEventType, nTotalEvent
        r.U32(0).U32(0); // simulated events
        await WriteRecordAsync(r, ReadOnlyMemory<byte>.Empty, null, cancellationToken).ConfigureAwait(false);

        await DescribeAsync(FrEndOfFile, cancellationToken).ConfigureAwait(false);
        const int eofLength = 46;
        long fileSize = _position + eofLength;
        r = _record.Begin(FrEndOfFile, 0);
        r.U32((uint)n).U64((ulong)fileSize).U64((ulong)(fileSize - tocPosition)).U32(_headerCrc);
        var bytes = r.Finish(eofLength);
        // The FrEndOfFile checksum covers everything up to chkSumFrHeader; the file checksum also covers that checksum.
        uint recordCrc = GwfChecksum.Compute(bytes.Span);
        var tail = new byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(tail, recordCrc);
        await WriteRawAsync(bytes, cancellationToken).ConfigureAwait(false);
        await WriteRawAsync(tail.AsMemory(0, 4), cancellationToken).ConfigureAwait(false);
        BinaryPrimitives.WriteUInt32LittleEndian(tail.AsSpan(4), _fileCrc.Value);
        await _output.WriteAsync(tail.AsMemory(4, 4), cancellationToken).ConfigureAwait(false);
        _position += 4;
        await _output.FlushAsync(cancellationToken).ConfigureAwait(false);
        _completed = true;
    }

    private static void Validate(GwfFrameData frame)
    {
        if (frame.Duration <= GpsDuration.Zero) throw new ArgumentException($"frame at {frame.Start} has a non-positive duration {frame.Duration}");
        if (frame.Start.TotalNanoseconds < 0 || frame.Start.Seconds > uint.MaxValue) throw new ArgumentException($"frame start {frame.Start} is outside GWF's unsigned 32-bit GPS seconds");
        foreach (var c in frame.Channels)
        {
            if (string.IsNullOrEmpty(c.Name)) throw new ArgumentException("a channel needs a name");
            if (!(c.SampleRate > 0) || !double.IsFinite(c.SampleRate)) throw new ArgumentException($"channel {c.Name}: invalid sample rate {c.SampleRate}");
            if (c.Type.IsComplex() || c.Type == GwfVectorType.String || c.Type.ElementSize() == 0)
                throw new ArgumentException($"channel {c.Name}: the writer does not write {c.Type.Describe()} vectors");
            double end = c.TimeOffset + c.Samples.Length / c.SampleRate;
            if (c.TimeOffset < 0 || end > frame.Duration.TotalSeconds * (1 + 1e-12) + 1e-9)
                throw new ArgumentException($"channel {c.Name}: samples [{c.TimeOffset}, {end}) s do not fit in the {frame.Duration} s frame");
        }
    }

    private void AddToToc(GwfChannelKind kind, string name, int frame, long position)
    {
        var names = _toc[(int)kind];
        if (!names.TryGetValue(name, out var list)) names[name] = list = [];
        list.Add((frame, position));
    }

    private async Task WriteVectorAsync(GwfChannelData c, uint instance, CancellationToken ct)
    {
        await DescribeAsync(FrVect, ct).ConfigureAwait(false);
        int size = c.Type.ElementSize();
        int n = c.Samples.Length;
        var scheme = c.Compression ?? _options.Compression;
        if (scheme == GwfCompression.DifferentialGzip && !c.Type.IsInteger()) scheme = GwfCompression.Gzip;
        var elements = ArrayPool<byte>.Shared.Rent(n * size);
        try
        {
            var span = elements.AsSpan(0, n * size);
            try { GwfVectorCodec.FromDouble(c.Type, c.Samples.Span, span); }
            catch (ArgumentException e) { throw new ArgumentException($"channel {c.Name}: {e.Message}", e); }
            ReadOnlyMemory<byte> payload;
            ushort compress;
            if (scheme == GwfCompression.Raw || n == 0)
            {
                payload = elements.AsMemory(0, n * size);
                compress = 256;
            }
            else
            {
                if (scheme == GwfCompression.DifferentialGzip) GwfVectorCodec.Differentiate(span, size);
                _compressed.SetLength(0);
                using (var z = new ZLibStream(_compressed, _options.Level, leaveOpen: true)) z.Write(span);
                payload = _compressed.GetBuffer().AsMemory(0, (int)_compressed.Length);
                compress = (ushort)(0x100 | (byte)scheme);
            }
            var r = _record.Begin(FrVect, instance);
            r.Str(c.Name).U16(compress).U16((ushort)c.Type).U64((ulong)n).U64((ulong)payload.Length);
            var s = _suffix.BeginSuffix();
            s.U32(1).U64((ulong)n).F64(1.0 / c.SampleRate).F64(0).Str("s").Str(c.Unit).Ptr(0, 0);
            await WriteRecordAsync(r, payload, s, ct).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(elements);
        }
    }

    private async Task WriteHeaderAsync(CancellationToken ct)
    {
        var h = new byte[40];
        "IGWD"u8.CopyTo(h);
        h[5] = 8; h[6] = 0; h[7] = 2; h[8] = 4; h[9] = 8; h[10] = 4; h[11] = 8;
        BinaryPrimitives.WriteUInt16LittleEndian(h.AsSpan(12), 0x1234);
        BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(14), 0x12345678);
        BinaryPrimitives.WriteUInt64LittleEndian(h.AsSpan(18), 0x0123456789ABCDEF);
        BinaryPrimitives.WriteSingleLittleEndian(h.AsSpan(26), MathF.PI);
        BinaryPrimitives.WriteDoubleLittleEndian(h.AsSpan(30), Math.PI);
        h[38] = 0; // "unknown" library: 1 and 2 belong to FrameL and frameCPP
        h[39] = 1;
        _headerCrc = GwfChecksum.Compute(h);
        await WriteRawAsync(h, ct).ConfigureAwait(false);
    }

    /// <summary>Emits the FrSH/FrSE dictionary of a class before its first structure in the file.</summary>
    private async Task DescribeAsync(ushort classId, CancellationToken ct)
    {
        if (!_described.Add(classId)) return;
        var (name, fields) = Dictionary[classId];
        var r = _record.Begin(1, (uint)(_described.Count - 1));
        r.Str(name).U16(classId).Str("");
        await WriteRecordAsync(r, ReadOnlyMemory<byte>.Empty, null, ct).ConfigureAwait(false);
        foreach (var (field, type) in fields)
        {
            r = _record.Begin(2, 0);
            r.Str(field).Str(type).Str("");
            await WriteRecordAsync(r, ReadOnlyMemory<byte>.Empty, null, ct).ConfigureAwait(false);
        }
    }

    /// <summary>Writes header+fields, an optional payload and suffix, then the CRC; patches the length first.</summary>
    private async Task WriteRecordAsync(RecordBuilder prefix, ReadOnlyMemory<byte> payload, RecordBuilder? suffix, CancellationToken ct)
    {
        int suffixLength = suffix?.Length ?? 0;
        long length = prefix.Length + payload.Length + suffixLength + 4;
        var head = prefix.Finish(length);
        var crc = new GwfChecksum();
        crc.Append(head.Span);
        crc.Append(payload.Span);
        await WriteRawAsync(head, ct).ConfigureAwait(false);
        if (!payload.IsEmpty) await WriteRawAsync(payload, ct).ConfigureAwait(false);
        if (suffix is not null)
        {
            var tail = suffix.Bytes;
            crc.Append(tail.Span);
            await WriteRawAsync(tail, ct).ConfigureAwait(false);
        }
        var sum = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(sum, crc.Value);
        await WriteRawAsync(sum, ct).ConfigureAwait(false);
    }

    private async ValueTask WriteRawAsync(ReadOnlyMemory<byte> bytes, CancellationToken ct)
    {
        _fileCrc.Append(bytes.Span);
        await _output.WriteAsync(bytes, ct).ConfigureAwait(false);
        _position += bytes.Length;
    }

    /// <summary>Little-endian field writer for one structure.</summary>
    private sealed class RecordBuilder
    {
        private byte[] _buffer = new byte[4096];
        private int _length;

        public int Length => _length;

        public ReadOnlyMemory<byte> Bytes => _buffer.AsMemory(0, _length);

        public RecordBuilder Begin(ushort classId, uint instance)
        {
            _length = 0;
            U64(0).U8(1).U8((byte)classId).U32(instance);
            return this;
        }

        public RecordBuilder BeginSuffix()
        {
            _length = 0;
            return this;
        }

        /// <summary>Patches the total length into the header and returns the bytes.</summary>
        public ReadOnlyMemory<byte> Finish(long totalLength)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(_buffer, (ulong)totalLength);
            return Bytes;
        }

        private Span<byte> Grow(int n)
        {
            if (_length + n > _buffer.Length) Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + n));
            var s = _buffer.AsSpan(_length, n);
            _length += n;
            return s;
        }

        public RecordBuilder U8(byte v) { Grow(1)[0] = v; return this; }
        public RecordBuilder U16(ushort v) { BinaryPrimitives.WriteUInt16LittleEndian(Grow(2), v); return this; }
        public RecordBuilder I16(short v) { BinaryPrimitives.WriteInt16LittleEndian(Grow(2), v); return this; }
        public RecordBuilder U32(uint v) { BinaryPrimitives.WriteUInt32LittleEndian(Grow(4), v); return this; }
        public RecordBuilder I32(int v) { BinaryPrimitives.WriteInt32LittleEndian(Grow(4), v); return this; }
        public RecordBuilder U64(ulong v) { BinaryPrimitives.WriteUInt64LittleEndian(Grow(8), v); return this; }
        public RecordBuilder F32(float v) { BinaryPrimitives.WriteSingleLittleEndian(Grow(4), v); return this; }
        public RecordBuilder F64(double v) { BinaryPrimitives.WriteDoubleLittleEndian(Grow(8), v); return this; }
        public RecordBuilder Ptr(ushort classId, uint instance) => U16(classId).U32(instance);

        public RecordBuilder Str(string s)
        {
            int n = Encoding.Latin1.GetByteCount(s);
            if (n > 65534) throw new ArgumentException($"string of {n} bytes is too long for GWF");
            U16((ushort)(n + 1));
            Encoding.Latin1.GetBytes(s, Grow(n));
            return U8(0);
        }
    }

    private static readonly Dictionary<ushort, (string Name, (string Field, string Type)[] Fields)> Dictionary = new()
    {
        [FrameH] = ("FrameH", [("name", "STRING"), ("run", "INT_4S"), ("frame", "INT_4U"), ("dataQuality", "INT_4U"), ("GTimeS", "INT_4U"),
            ("GTimeN", "INT_4U"), ("ULeapS", "INT_2U"), ("dt", "REAL_8"), ("type", Ptr("FrVect")), ("user", Ptr("FrVect")),
            ("detectSim", Ptr("FrDetector")), ("detectProc", Ptr("FrDetector")), ("history", Ptr("FrHistory")), ("rawData", Ptr("FrRawData")),
            ("procData", Ptr("FrProcData")), ("simData", Ptr("FrSimData")), ("event", Ptr("FrEvent")), ("simEvent", Ptr("FrSimEvent")),
            ("summaryData", Ptr("FrSummary")), ("auxData", Ptr("FrVect")), ("auxTable", Ptr("FrTable")), ("chkSum", "INT_4U")]),
        [FrRawData] = ("FrRawData", [("name", "STRING"), ("firstSer", Ptr("FrSerData")), ("firstAdc", Ptr("FrAdcData")),
            ("firstTable", Ptr("FrTable")), ("logMsg", Ptr("FrMsg")), ("more", Ptr("FrVect")), ("chkSum", "INT_4U")]),
        [FrAdcData] = ("FrAdcData", [("name", "STRING"), ("comment", "STRING"), ("channelGroup", "INT_4U"), ("channelNumber", "INT_4U"),
            ("nBits", "INT_4U"), ("bias", "REAL_4"), ("slope", "REAL_4"), ("units", "STRING"), ("sampleRate", "REAL_8"), ("timeOffset", "REAL_8"),
            ("fShift", "REAL_8"), ("phase", "REAL_4"), ("dataValid", "INT_2U"), ("data", Ptr("FrVect")), ("aux", Ptr("FrVect")),
            ("next", Ptr("FrAdcData")), ("chkSum", "INT_4U")]),
        [FrProcData] = ("FrProcData", [("name", "STRING"), ("comment", "STRING"), ("type", "INT_2U"), ("subType", "INT_2U"),
            ("timeOffset", "REAL_8"), ("tRange", "REAL_8"), ("fShift", "REAL_8"), ("phase", "REAL_4"), ("fRange", "REAL_8"), ("BW", "REAL_8"),
            ("nAuxParam", "INT_2U"), ("auxParam", "REAL_8[nAuxParam]"), ("auxParamNames", "STRING[nAuxParam]"), ("data", Ptr("FrVect")),
            ("aux", Ptr("FrVect")), ("table", Ptr("FrTable")), ("history", Ptr("FrHistory")), ("next", Ptr("FrProcData")), ("chkSum", "INT_4U")]),
        [FrSimData] = ("FrSimData", [("name", "STRING"), ("comment", "STRING"), ("sampleRate", "REAL_8"), ("timeOffset", "REAL_8"),
            ("fShift", "REAL_8"), ("phase", "REAL_4"), ("data", Ptr("FrVect")), ("input", Ptr("FrVect")), ("table", Ptr("FrTable")),
            ("next", Ptr("FrSimData")), ("chkSum", "INT_4U")]),
        [FrVect] = ("FrVect", [("name", "STRING"), ("compress", "INT_2U"), ("type", "INT_2U"), ("nData", "INT_8U"), ("nBytes", "INT_8U"),
            ("data", "CHAR[nBytes]"), ("nDim", "INT_4U"), ("nx", "INT_8U[nDim]"), ("dx", "REAL_8[nDim]"), ("startX", "REAL_8[nDim]"),
            ("unitX", "STRING[nDim]"), ("unitY", "STRING"), ("next", Ptr("FrVect")), ("chkSum", "INT_4U")]),
        [FrHistory] = ("FrHistory", [("name", "STRING"), ("time", "INT_4U"), ("comment", "STRING"), ("next", Ptr("FrHistory")), ("chkSum", "INT_4U")]),
        [FrEndOfFrame] = ("FrEndOfFrame", [("run", "INT_4S"), ("frame", "INT_4U"), ("GTimeS", "INT_4U"), ("GTimeN", "INT_4U"), ("chkSum", "INT_4U")]),
        [FrToc] = ("FrTOC", [("ULeapS", "INT_2S"), ("nFrame", "INT_4U"), ("dataQuality", "INT_4U[nFrame]"), ("GTimeS", "INT_4U[nFrame]"),
            ("GTimeN", "INT_4U[nFrame]"), ("dt", "REAL_8[nFrame]"), ("runs", "INT_4S[nFrame]"), ("frame", "INT_4U[nFrame]"),
            ("positionH", "INT_8U[nFrame]"), ("nFirstADC", "INT_8U[nFrame]"), ("nFirstSer", "INT_8U[nFrame]"), ("nFirstTable", "INT_8U[nFrame]"),
            ("nFirstMsg", "INT_8U[nFrame]"), ("nSH", "INT_4U"), ("SHid", "INT_2U[nSH]"), ("SHname", "STRING[nSH]"), ("nDetector", "INT_4U"),
            ("nameDetector", "STRING[nDetector]"), ("positionDetector", "INT_8U[nDetector]"), ("nStatType", "INT_4U"),
            ("nameStat", "STRING[nStatType]"), ("detector", "STRING[nStatType]"), ("nStatInstance", "INT_4U[nStatType]"),
            ("nTotalStat", "INT_4U"), ("tStart", "INT_4U[nTotalStat]"), ("tEnd", "INT_4U[nTotalStat]"), ("version", "INT_4U[nTotalStat]"),
            ("positionStat", "INT_8U[nTotalStat]"), ("nADC", "INT_4U"), ("name", "STRING[nADC]"), ("channelID", "INT_4U[nADC]"),
            ("groupID", "INT_4U[nADC]"), ("positionADC", "INT_8U[nADC][nFrame]"), ("nProc", "INT_4U"), ("nameProc", "STRING[nProc]"),
            ("positionProc", "INT_8U[nProc][nFrame]"), ("nSim", "INT_4U"), ("nameSim", "STRING[nSim]"), ("positionSim", "INT_8U[nSim][nFrame]"),
            ("nSer", "INT_4U"), ("nameSer", "STRING[nSer]"), ("positionSer", "INT_8U[nSer][nFrame]"), ("nSummary", "INT_4U"),
            ("nameSum", "STRING[nSummary]"), ("positionSum", "INT_8U[nSummary][nFrame]"), ("nEventType", "INT_4U"),
            ("nameEvent", "STRING[nEventType]"), ("nEvent", "INT_4U[nEventType]"), ("nTotalEvent", "INT_4U"),
            ("GTimeSEvent", "INT_4U[nTotalEvent]"), ("GTimeNEvent", "INT_4U[nTotalEvent]"), ("amplitudeEvent", "REAL_4[nTotalEvent]"),
            ("positionEvent", "INT_8U[nTotalEvent]"), ("nSimEventType", "INT_4U"), ("nameSimEvent", "STRING[nSimEventType]"),
            ("nSimEvent", "INT_4U[nSimEventType]"), ("nTotalSEvent", "INT_4U"), ("GTimeSSim", "INT_4U[nTotalSEvent]"),
            ("GTimeNSim", "INT_4U[nTotalSEvent]"), ("amplitudeSimEvent", "REAL_4[nTotalSEvent]"), ("positionSimEvent", "INT_8U[nTotalSEvent]"),
            ("chkSum", "INT_4U")]),
        [FrEndOfFile] = ("FrEndOfFile", [("nFrames", "INT_4U"), ("nBytes", "INT_8U"), ("seekTOC", "INT_8U"), ("chkSumFrHeader", "INT_4U"),
            ("chkSum", "INT_4U"), ("chkSumFile", "INT_4U")]),
    };

    private static string Ptr(string cls) => $"PTR_STRUCT({cls} *)";
}
