using GwReprocess.Frames;
using GwReprocess.Time;

namespace GwReprocess.Cli.Verbs;

/// <summary>A FILE|CACHE argument with optional --start/--end, opened as a frame source over a span (shared by frames export and asd).</summary>
internal static class FrameInput
{
    public static async Task<(FrameSource Source, Segment Span)> OpenAsync(string input, string? start, string? end, FrameSourceOptions options, CancellationToken ct)
    {
        bool single = input.EndsWith(".gwf", StringComparison.OrdinalIgnoreCase) || input.EndsWith(".h5", StringComparison.OrdinalIgnoreCase)
            || input.EndsWith(".hdf5", StringComparison.OrdinalIgnoreCase) || input.EndsWith(".hdf", StringComparison.OrdinalIgnoreCase);
        FrameSource source = single ? await FrameSource.FromFilesAsync([input], options, ct) : new FrameSource(FrameCache.Read(input), options);
        var extent = source.Cache.Coverage().Extent ?? throw new BadInputException($"{input}: lists no frame files");
        var s = start is null ? extent.Start : Gps(start, "--start");
        var e = end is null ? extent.End : Gps(end, "--end");
        if (e <= s) throw new BadInputException($"--end {e} is not after --start {s}");
        return (source, new Segment(s, e));
    }

    public static GpsTime Gps(string text, string option) =>
        GpsTime.TryParse(text, out var t) ? t : throw new BadInputException($"{option} '{text}' is not a GPS time in seconds");
}
