using System.Globalization;

namespace GwReprocess.Cleaning;

/// <summary>What cleaned a detector's strain: the model that estimated its noise and its version, the ensemble it ran in, the workflow and the program.</summary>
/// <param name="Model">The model whose output is the noise estimate (the cleaner, e.g. <c>wiener-h1</c>).</param>
/// <param name="Version">Its version that ran; 0 when the server did not say.</param>
/// <param name="Ensemble">The ensemble streamed to.</param>
/// <param name="EnsembleVersion">Its version; 0 when the server did not say.</param>
/// <param name="Workflow">The workflow's <c>[run] name</c>, or empty outside a workflow.</param>
public sealed record CleaningProvenance(string Model, long Version, string Ensemble, long EnsembleVersion, string Workflow)
{
    /// <summary>This program's version as <c>gwrepro --version</c> prints it.</summary>
    public static string ProgramVersion { get; } =
        typeof(CleaningProvenance).Assembly.GetName().Version?.ToString() ?? "0";

    /// <summary>When <see cref="Model"/> only adds other steps' estimates (a noise-sum), those steps and their versions, in its input order; otherwise empty.</summary>
    public IReadOnlyList<(string Model, long Version)> Summed { get; init; } = [];

    /// <summary>
    /// The model and ensemble with their versions, e.g. <c>wiener-h1 version 101 (ensemble gwe2e-v101 version 1)</c>, or for a sum
    /// <c>wiener-h1 version 1 plus deepclean-h1 version 101 (summed by noise-sum version 1) (ensemble gwe2e-deepclean-v101 version 1)</c>.
    /// </summary>
    public string ModelText =>
        (Summed.Count == 0 ? $"{Model} version {VersionText(Version)}"
            : string.Join(" plus ", Summed.Select(p => $"{p.Model} version {VersionText(p.Version)}")) + $" (summed by {Model} version {VersionText(Version)})")
        + (Ensemble == Model ? "" : $" (ensemble {Ensemble} version {VersionText(EnsembleVersion)})");

    /// <summary>The workflow and program, e.g. <c>workflow local-demo, gwrepro 1.0.0.0</c>.</summary>
    public string ProgramText => (Workflow.Length > 0 ? $"workflow {Workflow}, " : "") + $"gwrepro {ProgramVersion}";

    private static string VersionText(long v) => v > 0 ? v.ToString(CultureInfo.InvariantCulture) : "unknown";
}
