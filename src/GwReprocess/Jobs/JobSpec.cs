using GwReprocess.Time;

namespace GwReprocess.Jobs;

/// <summary>One client job as the planner hands it to <c>gwrepro client</c>: the span it owns, the padded span it reads, its server and sequence.</summary>
/// <remarks>Workflow-wide settings (channels, model, rate, outputs) come from the workflow file; a job row only carries what differs per job.</remarks>
public sealed record JobSpec(string Name, Segment Core, Segment Padded, int Server, ulong SequenceId)
{
    /// <summary>Seconds of data the job produces.</summary>
    public GpsDuration Duration => Core.Duration;
}
