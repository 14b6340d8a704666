using GwReprocess.Benchmarks;

// Each issue adds its benchmark here; run with:
//   dotnet run -c Release --project tests/GwReprocess.Benchmarks -- NAME [NAME ...] [--OPTION ...]   (or "all")
// Arguments from the first one starting with "--" are options for the benchmarks that take them (soak, saturation).
string[] names = args.TakeWhile(a => !a.StartsWith("--", StringComparison.Ordinal) || a is "--help").ToArray();
string[] options = args[names.Length..];
IBenchmark[] benchmarks =
[
    new SegmentsBenchmark(),
    new DagBenchmark(),
    new DagRecordsBenchmark(),
    new ModelsBenchmark(),
    new WhitenerBenchmark(),
    new ServerBenchmark(),
    new ResampleBenchmark(),
    new BucketBenchmark(),
    new SimulateBenchmark(),
    new FramesBenchmark(),
    new ClientBenchmark(),
    new HttpSharedMemoryBenchmark(),
    new BatcherBenchmark(),
    new SequenceStateBenchmark(),
    new TrainBenchmark(),
    new SoakBenchmark(options),
    new SaturationBenchmark(options),
];

if (names.Length == 0 || names[0] is "--help" or "-h" or "list")
{
    Console.WriteLine("usage: dotnet run -c Release --project tests/GwReprocess.Benchmarks -- NAME [NAME ...] [--OPTION ...] | all");
    foreach (var b in benchmarks) Console.WriteLine($"  {b.Name,-10} {b.Description}");
    return names.Length == 0 ? 2 : 0;
}

var selected = names[0] == "all" ? benchmarks : names.Select(a => Array.Find(benchmarks, b => b.Name == a)).ToArray();
for (int i = 0; i < selected.Length; i++)
{
    if (selected[i] is null)
    {
        Console.Error.WriteLine($"unknown benchmark '{names[i]}'");
        return 2;
    }
}
foreach (var b in selected)
    await b!.RunAsync(new BenchmarkReport(b.Name, Console.Out), CancellationToken.None);
return 0;
