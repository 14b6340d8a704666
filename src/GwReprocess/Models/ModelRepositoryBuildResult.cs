namespace GwReprocess.Models;

/// <summary>What <see cref="ModelRepositoryBuild"/> wrote, and what the repository check found in it afterwards.</summary>
/// <param name="Models">The models written, in repository order.</param>
/// <param name="Options">The options they were built with, fitted parts included.</param>
/// <param name="Problems">The repository check's findings on the directory written; empty when it passed.</param>
/// <param name="Notes">Versions other than 1 found beside what was written (Triton serves the highest).</param>
public sealed record ModelRepositoryBuildResult(IReadOnlyList<RepositoryModel> Models, ModelRepositoryOptions Options, IReadOnlyList<RepositoryProblem> Problems, IReadOnlyList<string> Notes);
