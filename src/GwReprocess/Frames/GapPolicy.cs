namespace GwReprocess.Frames;

/// <summary>What a read does with gaps inside the files: non-finite samples, and GWOSC seconds whose DQmask DATA bit is off (<c>[data] gaps</c>).</summary>
public enum GapPolicy
{
    /// <summary>Stop with one line (<see cref="FrameGapException"/>, exit 2) naming the file, the channel and the first gap.</summary>
    Refuse,
    /// <summary>Set the gap's samples to 0 and report the filled seconds (<see cref="FilledGaps"/>).</summary>
    Zero,
}
