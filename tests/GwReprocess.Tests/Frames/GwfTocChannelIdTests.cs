using System.Buffers.Binary;
using System.Text;
using GwReprocess.Frames.Gwf;
using GwReprocess.Time;

namespace GwReprocess.Tests.Frames;

/// <summary>The FrTOC's ADC channelID/groupID columns say what each FrAdcData says, as FrameL writes them (issue 18: they were all 0).</summary>
public sealed class GwfTocChannelIdTests
{
    [Fact]
    public async Task Toc_channel_ids_match_each_FrAdcData_in_the_tocs_name_order()
    {
        // Written out of name order, so the TOC's sorted columns and the frame's list order differ.
        string[] names = ["X1:CHAN_C", "X1:CHAN_A", "X1:CHAN_B"];
        var frames = Enumerable.Range(0, 2).Select(f => new GwfFrameData(GpsTime.FromSeconds(1_000_000_000 + f), GpsDuration.FromSeconds(1),
            names.Select(n => new GwfChannelData(n, GwfChannelKind.Adc, 16, Enumerable.Range(0, 16).Select(i => (double)i).ToArray(), GwfVectorType.Int16)).ToList())
        { FrameNumber = (uint)f }).ToList();
        using var buffer = new MemoryStream();
        var writer = new GwfWriter(buffer);
        foreach (var f in frames) await writer.WriteFrameAsync(f);
        await writer.CompleteAsync();
        byte[] bytes = buffer.ToArray();

        var toc = ReadTocAdcIds(bytes);
        Assert.Equal(["X1:CHAN_A", "X1:CHAN_B", "X1:CHAN_C"], toc.Select(t => t.Name));

        await using var file = await GwfFile.OpenAsync(new MemoryStream(bytes), "toc.gwf");
        foreach (var (name, id, group) in toc)
        {
            var adc = await file.GetChannelAsync(name);
            Assert.Equal(adc.ChannelNumber, id);
            Assert.Equal(adc.ChannelGroup, group);
        }
        // The FrAdcData numbers follow the frame's list order, so at least one TOC id is not 0 (all were before the fix).
        Assert.Equal([1u, 2u, 0u], toc.Select(t => t.Id));
    }

    /// <summary>Parses the v8 FrTOC of a file this writer made (no detectors, no static data) up to its ADC ids, field by field per gwf-format.md §7.</summary>
    private static List<(string Name, uint Id, uint Group)> ReadTocAdcIds(byte[] file)
    {
        // FrEndOfFile ends with seekTOC (INT_8U), chkSumFrHeader, chkSum, chkSumFile (INT_4U each).
        long seekToc = (long)BinaryPrimitives.ReadUInt64LittleEndian(file.AsSpan(file.Length - 20));
        int p = (int)(file.Length - seekToc) + 14;
        ushort U16() { var v = BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(p)); p += 2; return v; }
        uint U32() { var v = BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(p)); p += 4; return v; }
        string Str() { int n = U16(); var s = Encoding.ASCII.GetString(file, p, n - 1); p += n; return s; }
        U16(); // ULeapS
        int nFrame = (int)U32();
        p += nFrame * (4 + 4 + 4 + 8 + 4 + 4 + 8 + 8 + 8 + 8 + 8);
        int nSh = (int)U32();
        p += 2 * nSh;
        for (int i = 0; i < nSh; i++) Str();
        Assert.Equal(0u, U32()); // nDetector
        Assert.Equal(0u, U32()); // nStatType
        Assert.Equal(0u, U32()); // nTotalStat
        int nAdc = (int)U32();
        var adcNames = Enumerable.Range(0, nAdc).Select(_ => Str()).ToList();
        var ids = Enumerable.Range(0, nAdc).Select(_ => U32()).ToList();
        var groups = Enumerable.Range(0, nAdc).Select(_ => U32()).ToList();
        return adcNames.Select((n, i) => (n, ids[i], groups[i])).ToList();
    }
}
