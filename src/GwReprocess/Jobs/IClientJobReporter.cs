using GwReprocess.Time;

namespace GwReprocess.Jobs;

/// <summary>What the job tells its user: progress and one line per committed frame.</summary>
public interface IClientJobReporter
{
    /// <summary>A line worth logging (readiness, barrier, retries, notes).</summary>
    void Info(string line);

    /// <summary>Frame <paramref name="index"/> of <paramref name="total"/> is committed.</summary>
    void FrameCommitted(Segment frame, int index, int total, double dataSecondsPerSecond);
}
