using GwReprocess.Jobs;
using GwReprocess.Time;

namespace GwReprocess.Workflow;

/// <summary>One trained chunk: the model version trained for it, what it trains on, and the client jobs that clean with it.</summary>
/// <param name="Version">The cleaner version the training node writes (<c>[training] version_base</c> + 1-based chunk index).</param>
/// <param name="Train">The data the model trains on (validation included).</param>
/// <param name="Validation">Seconds of <paramref name="Train"/> held out for validation.</param>
/// <param name="Jobs">The chunk's client jobs, in time order; they clean <see cref="Clean"/>.</param>
/// <param name="Ensemble">The pinned ensemble the chunk's clients stream to (<c>&lt;ensemble&gt;-v&lt;Version&gt;</c>).</param>
public sealed record TrainingSpan(long Version, Segment Train, GpsDuration Validation, IReadOnlyList<JobSpec> Jobs, string Ensemble)
{
    /// <summary>The time the chunk's jobs clean: from the first job's start to the last one's end.</summary>
    public Segment Clean => new(Jobs[0].Core.Start, Jobs[^1].Core.End);

    /// <summary>The DAG node that trains the chunk's model: <c>train_H1L1_&lt;train start&gt;_&lt;train duration&gt;</c>.</summary>
    public string NodeName(string ifoTag) => NodeNames.Training(ifoTag, Train);
}
