using GwReprocess.Frames;
using GwReprocess.Simulation;
using GwReprocess.Time;

namespace GwReprocess.Models;

/// <summary>One detector's frames that a model is fitted or trained on, and the span they are read over.</summary>
/// <param name="Source">The detector's own frames (a cache naming several detectors is narrowed to this one's files).</param>
/// <param name="Span">The requested span, each bound defaulting to the extent of the frames listed.</param>
public sealed record FitFrames(FrameSource Source, Segment Span)
{
    /// <summary>
    /// Opens <paramref name="input"/> for <paramref name="ifo"/>: a <c>gwrepro simulate</c> output directory (its &lt;IFO&gt;.lcf),
    /// a LAL cache, or one GWF/HDF5 file.
    /// </summary>
    public static async Task<FitFrames> OpenAsync(string input, string ifo, GpsTime? start, GpsTime? end, CancellationToken cancellationToken = default)
    {
        string path = input;
        if (Directory.Exists(input))
        {
            path = Path.Combine(input, SimulationRun.CacheName(ifo));
            if (!File.Exists(path)) throw new BadInputException($"{path}: no {ifo} frame cache in the --fit directory");
        }
        bool single = path.EndsWith(".gwf", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".h5", StringComparison.OrdinalIgnoreCase)
            || path.EndsWith(".hdf5", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".hdf", StringComparison.OrdinalIgnoreCase);
        if (!single && !File.Exists(path)) throw new BadInputException($"{path}: no such frame file or cache");
        var options = new FrameSourceOptions();
        var source = single ? await FrameSource.FromFilesAsync([path], options, cancellationToken).ConfigureAwait(false) : new FrameSource(FrameCache.Read(path), options);
        var extent = source.Cache.Coverage().Extent ?? throw new BadInputException($"{path}: lists no frame files");
        var s = start ?? extent.Start;
        var e = end ?? extent.End;
        if (e <= s) throw new BadInputException($"--end {e} is not after --start {s}");
        // A cache may list several detectors' files over the same span (gwrepro run fits on one): each detector reads its own.
        var mine = source.Cache.Entries.Where(x => x.Observatory.Contains(ifo[0], StringComparison.Ordinal)).ToList();
        var own = mine.Count == 0 || mine.Count == source.Cache.Entries.Count ? source : new FrameSource(new FrameCache(mine), options);
        return new FitFrames(own, new Segment(s, e));
    }
}
