using System.Buffers;
using System.Buffers.Binary;
using GwReprocess.Data;
using GwReprocess.Time;

namespace GwReprocess.Frames.Gwf;

// Full-file verification: every structure, every checksum, every vector decoded.
public sealed partial class GwfFile
{
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
                    var (info, dataOffset, dataCount) = ParseVector(bytes, offset, payloadIncluded: true, null);
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
}
