using System.Buffers;
using System.Buffers.Binary;
using GwReprocess.Data;
using GwReprocess.Time;

namespace GwReprocess.Frames.Gwf;

// Opening: the FrEndOfFile, then the FrTOC or, without one, a scan of the structure headers.
public sealed partial class GwfFile
{
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
        // The scan checked them on its way; a TOC skips them.
        if (HasTableOfContents) await CheckAuxiliaryStructuresAsync(ct).ConfigureAwait(false);
    }

    // The data path never reads FrSE or FrHistory (and reads FrSH only for its class id), so their checksums would otherwise
    // go unchecked: a damaged file must not be read silently. One pass over the structure headers, reading only those records.
    private async Task CheckAuxiliaryStructuresAsync(CancellationToken ct)
    {
        if (!NeedsAuxiliaryCheck) return;
        long offset = HeaderBytes;
        while (offset < _endOfFileOffset)
        {
            RecordHeader h;
            // Structure damage between the structures a TOC points at is the data path's to report when it matters.
            try { h = await ReadHeaderAsync(offset, ct).ConfigureAwait(false); }
            catch (GwfFormatException) { return; }
            if (_classNames.GetValueOrDefault(h.ClassId) is "FrSH" or "FrSE" or "FrHistory") await CheckAuxiliaryAsync(h, ct).ConfigureAwait(false);
            offset += h.Length;
        }
    }

    private bool NeedsAuxiliaryCheck => Options.VerifyChecksums && IsV8;

    private async Task CheckAuxiliaryAsync(RecordHeader h, CancellationToken ct)
    {
        if (!NeedsAuxiliaryCheck || h.ChkType != 1) return;
        using var rec = await ReadRecordAsync(h, ct, verify: false).ConfigureAwait(false);
        CheckAuxiliaryChecksum(rec, _classNames[h.ClassId]);
    }

    /// <summary>Checks the CRC of a structure the data does not depend on: a warning, or an error when <see cref="GwfReadOptions.Strict"/>.</summary>
    private void CheckAuxiliaryChecksum(Record rec, string structure)
    {
        var h = rec.Header;
        if (!NeedsAuxiliaryCheck || h.ChkType != 1) return;
        int covered = (int)h.Length - 4;
        uint stored = ReadU32(rec.Buffer.AsSpan(covered));
        uint computed = GwfChecksum.Compute(rec.Buffer.AsSpan(0, covered));
        if (stored == computed) return;
        if (Options.Strict)
            throw Error($"checksum mismatch (stored 0x{stored:X8}, computed 0x{computed:X8}); the file is corrupt", structure, h.Offset);
        if (!_warnedOffsets.Add(h.Offset)) return;
        var warning = new GwfChecksumWarning(Name, structure, h.Offset, stored, computed);
        _warnings.Add(warning);
        Options.Warning?.Invoke(warning);
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
                case "FrSE" or "FrHistory":
                    await CheckAuxiliaryAsync(h, ct).ConfigureAwait(false);
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
        using var rec = await ReadRecordAsync(h, ct, verify: false).ConfigureAwait(false);
        CheckAuxiliaryChecksum(rec, "FrSH");
        try
        {
            var r = Reader(rec);
            string name = r.Str("name");
            ushort id = r.U16("class");
            if (id > 2) _classNames.TryAdd(id, name); // FrameL ignores a redefinition
        }
        catch (GwfParseException e) { throw Error(e.Message, "FrSH", h.Offset); }
    }
}
