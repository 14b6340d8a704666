using System.Text;
using GwReprocess.Data;
using GwReprocess.IO;
using GwReprocess.Storage;
using GwReprocess.Time;

namespace GwReprocess.Frames;

/// <summary>A LAL frame cache: which frame files hold which GPS spans.</summary>
/// <remarks>Entries are kept sorted by start time; selecting a span returns the files it needs, and <see cref="Gaps"/> what no file covers.</remarks>
public sealed class FrameCache
{
    private readonly FrameCacheEntry[] _entries;

    public FrameCache(IEnumerable<FrameCacheEntry> entries)
    {
        _entries = entries.ToArray();
        Array.Sort(_entries, (a, b) =>
        {
            int c = a.Span.CompareTo(b.Span);
            return c != 0 ? c : string.CompareOrdinal(a.Location, b.Location);
        });
    }

    public IReadOnlyList<FrameCacheEntry> Entries => _entries;

    /// <summary>Reads a LAL cache file; a bad line is reported with file and line number. A relative path in it is taken from the cache's own directory, so a cache can travel with its files.</summary>
    public static FrameCache Read(string path)
    {
        var cache = Parse(InputFile.ReadAllText(path, "frame cache"), path);
        string directory = Path.GetDirectoryName(Path.GetFullPath(path)) ?? "";
        return new FrameCache(cache.Entries.Select(e => Location.Parse(e.Location).IsRooted ? e
            : e with { Location = Path.GetFullPath(Path.Combine(directory, e.Location)) }));
    }

    /// <summary>Parses cache text; <paramref name="source"/> names it in errors.</summary>
    public static FrameCache Parse(string text, string source)
    {
        var entries = new List<FrameCacheEntry>();
        int lineNumber = 0;
        foreach (var raw in text.Split('\n'))
        {
            lineNumber++;
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#') continue;
            var cols = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (cols.Length != 5)
                throw BadInputException.AtLine(source, lineNumber, $"expected 'OBS TYPE GPSSTART DURATION URL', found {cols.Length} column(s)");
            if (!GpsTime.TryParseDecimalNanoseconds(cols[2], false, out long start))
                throw BadInputException.AtLine(source, lineNumber, $"GPS start '{cols[2]}' is not a number");
            if (!GpsDuration.TryParse(cols[3], out var duration) || duration <= GpsDuration.Zero)
                throw BadInputException.AtLine(source, lineNumber, $"duration '{cols[3]}' is not a positive number");
            entries.Add(new FrameCacheEntry(cols[0], cols[1], Segment.FromStart(GpsTime.FromNanoseconds(start), duration), cols[4]));
        }
        return new FrameCache(entries);
    }

    /// <summary>Builds a cache from frame file paths or URLs named by the IGWN convention.</summary>
    public static FrameCache FromFiles(IEnumerable<string> pathsOrUrls)
    {
        var entries = new List<FrameCacheEntry>();
        foreach (var p in pathsOrUrls)
        {
            var name = FrameFileName.TryParse(p)
                ?? throw new BadInputException($"{p}: not an IGWN frame file name (OBS-TYPE-GPSSTART-DURATION.gwf)");
            string location = Location.Parse(p).IsUrl ? p : "file://localhost" + Path.GetFullPath(p);
            entries.Add(new FrameCacheEntry(name.Observatory, name.FrameType, name.Span, location));
        }
        return new FrameCache(entries);
    }

    /// <summary>The entries overlapping <paramref name="span"/>, in time order.</summary>
    public IReadOnlyList<FrameCacheEntry> Select(Segment span)
    {
        var selected = new List<FrameCacheEntry>();
        foreach (var e in _entries)
            if (e.Span.Intersects(span)) selected.Add(e);
        return selected;
    }

    /// <summary>The spans covered by at least one file.</summary>
    public SegmentList Coverage()
    {
        var spans = new Segment[_entries.Length];
        for (int i = 0; i < _entries.Length; i++) spans[i] = _entries[i].Span;
        return new SegmentList(spans).Coalesce();
    }

    /// <summary>The parts of <paramref name="span"/> no file covers.</summary>
    public SegmentList Gaps(Segment span) => Coverage().Complement(span);

    /// <summary>The cache as LAL cache text.</summary>
    public string Format()
    {
        var sb = new StringBuilder();
        foreach (var e in _entries) sb.Append(e).Append('\n');
        return sb.ToString();
    }

    /// <summary>Writes the cache atomically.</summary>
    public Task WriteAsync(string path, CancellationToken cancellationToken = default) =>
        AtomicFile.WriteAllTextAsync(path, Format(), cancellationToken);
}
