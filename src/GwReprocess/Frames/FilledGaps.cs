using System.Text;
using GwReprocess.Time;

namespace GwReprocess.Frames;

/// <summary>The gaps of one file (one HDF5 file, or one frame of a GWF file) that a read set to zero (<see cref="GapPolicy.Zero"/>), by channel; its text is the log line a job prints for it.</summary>
public sealed record FilledGaps(string File, IReadOnlyDictionary<string, SegmentList> Channels)
{
    /// <summary>At most this many spans are named per channel; the seconds are always counted in full.</summary>
    private const int Named = 5;

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
