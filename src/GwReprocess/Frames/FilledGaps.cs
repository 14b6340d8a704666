using System.Text;
using GwReprocess.Time;

namespace GwReprocess.Frames;

/// <summary>The gaps of one file that a read set to zero (<see cref="GapPolicy.Zero"/>), by channel; its text is the one log line a job prints for the file.</summary>
public sealed record FilledGaps(string File, IReadOnlyDictionary<string, SegmentList> Channels)
{
    /// <summary>At most this many spans are named per channel; the seconds are always counted in full.</summary>
    private const int Named = 5;

    /// <summary>These gaps together with <paramref name="other"/>'s (the same file's next frame).</summary>
    public FilledGaps Merge(FilledGaps? other)
    {
        if (other is null) return this;
        var merged = new Dictionary<string, SegmentList>(Channels);
        foreach (var (channel, gaps) in other.Channels)
            merged[channel] = merged.TryGetValue(channel, out var mine) ? mine.Union(gaps) : gaps;
        return new FilledGaps(File, merged);
    }

    public override string ToString()
    {
        var sb = new StringBuilder($"{File}: gaps filled with zeros ([data] gaps = \"zero\"):");
        foreach (var (channel, gaps) in Channels)
        {
            sb.Append($" {channel} {gaps.TotalDuration} s in {gaps.Count} span(s)");
            for (int i = 0; i < gaps.Count && i < Named; i++) sb.Append(' ').Append(gaps[i]);
            if (gaps.Count > Named) sb.Append(" ...");
            sb.Append(';');
        }
        sb.Length--;
        return sb.ToString();
    }
}
