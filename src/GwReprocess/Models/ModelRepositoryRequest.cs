namespace GwReprocess.Models;

/// <summary>What <c>gwrepro models build</c> (and <c>gwrepro run</c> for a missing repository) asks of <see cref="ModelRepositoryBuild"/>.</summary>
public sealed record ModelRepositoryRequest
{
    /// <summary>The repository directory to write (models inside it are replaced).</summary>
    public required string Directory { get; init; }

    /// <summary>
    /// Sizes, slot kinds, seed and instances. The parts a fit decides (detectors, witness count, Wiener filters, whitening,
    /// template bank) are filled in by the build when <see cref="Fit"/> is given.
    /// </summary>
    public ModelRepositoryOptions Models { get; init; } = new();

    /// <summary>The frames the Wiener cleaners are fitted on; required when <see cref="ModelRepositoryOptions.Cleaner"/> is Wiener.</summary>
    public WienerFitRequest? Fit { get; init; }
}
