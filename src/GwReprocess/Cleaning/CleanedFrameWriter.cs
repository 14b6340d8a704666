using GwReprocess.Data;
using GwReprocess.Frames.Gwf;
using GwReprocess.Storage;
using GwReprocess.Time;

namespace GwReprocess.Cleaning;

/// <summary>Assembles one detector's cleaned strain into a GWF frame (FrProcData, float64) and writes it under <c>cleaned/IFO/</c>.</summary>
/// <param name="output">The output bucket.</param>
/// <param name="prefix">The run's output prefix in <paramref name="output"/>, ending in '/' (or empty).</param>
/// <param name="frameType">Frame type of the outputs; the file is named <c>O-IFO_TYPE-GPS-DURATION.gwf</c>.</param>
/// <param name="channelSuffix">Appended to the strain channel name for the cleaned channel.</param>
/// <param name="band">The band the noise estimate was passed in.</param>
public sealed class CleanedFrameWriter(IBucket output, string prefix, string frameType, string channelSuffix, CleaningBand band)
{
    /// <summary>The FrHistory name of the records this writer adds.</summary>
    public const string HistoryName = "gwrepro";

    /// <summary>
    /// Writes <paramref name="cleaned"/> (the strain of <paramref name="frame"/> at <paramref name="sampleRateHz"/>, in
    /// <paramref name="unit"/>, the input strain's unit) as one frame file. <paramref name="provenance"/> becomes the first
    /// FrHistory record and part of the channel's comment; <paramref name="history"/>, when given, a second record (why the
    /// frame is shorter than its input file).
    /// </summary>
    public async Task WriteAsync(string ifo, ChannelName strain, string unit, Segment frame, double sampleRateHz, ReadOnlyMemory<double> cleaned,
        CleaningProvenance provenance, CancellationToken ct, string? history = null)
    {
        string name = GwfWriter.FileName(ifo[..1], $"{ifo}_{frameType}", frame);
        string bandText = $"{band.LowHz:0.###}-{band.HighHz:0.###} Hz";
        var data = new GwfFrameData(frame.Start, frame.Duration,
            [new GwfChannelData(strain.Value + channelSuffix, GwfChannelKind.Proc, sampleRateHz, cleaned)
            {
                Comment = $"{strain} minus the noise estimate of {provenance.ModelText} band-passed to {bandText}; {provenance.ProgramText}",
                Unit = unit,
            }])
        {
            // The frame's own GPS start, not the wall clock, so a rerun writes the same bytes.
            History = [
                new GwfHistory(HistoryName, (uint)frame.Start.Seconds,
                    $"{provenance.ProgramText}: {strain}{channelSuffix} = {strain} minus the noise estimate of {provenance.ModelText}, band-passed to {bandText}"),
                .. history is null ? Array.Empty<GwfHistory>() : [new GwfHistory(HistoryName, (uint)frame.Start.Seconds, history)],
            ],
        };
        // The whole frame is assembled in memory first, so the bucket commits it in one atomic write.
        using var buffer = new MemoryStream();
        var writer = new GwfWriter(buffer);
        await writer.WriteFrameAsync(data, ct).ConfigureAwait(false);
        await writer.CompleteAsync(ct).ConfigureAwait(false);
        await output.WriteAllBytesAsync($"{prefix}cleaned/{ifo}/{name}", buffer.GetBuffer().AsMemory(0, (int)buffer.Length), ct).ConfigureAwait(false);
    }
}
