namespace GwReprocess.Tests;

/// <summary>
/// Tests that load both cores for a minute (dozens of streams) or whose assertions depend on prompt scheduling (start barriers,
/// DAGMan's submission order): xunit runs this collection on its own after the parallel ones, so neither kind disturbs the other.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RunsAloneCollection
{
    public const string Name = "runs alone";
}
