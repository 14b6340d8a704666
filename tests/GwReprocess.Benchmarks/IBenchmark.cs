namespace GwReprocess.Benchmarks;

/// <summary>One named benchmark: measures something and reports figures, ideally as ratios against a reference measured in the same run.</summary>
public interface IBenchmark
{
    /// <summary>The name given on the command line.</summary>
    string Name { get; }

    /// <summary>One line for the list of benchmarks.</summary>
    string Description { get; }

    Task RunAsync(BenchmarkReport report, CancellationToken cancellationToken);
}
