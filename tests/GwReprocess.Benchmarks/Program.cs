using GwReprocess.Benchmarks;

// Each issue adds its benchmark here; run with:
//   dotnet run -c Release --project tests/GwReprocess.Benchmarks -- NAME [NAME ...]   (or "all")
IBenchmark[] benchmarks =
[
    new SegmentsBenchmark(),
    new DagBenchmark(),
    new DagRecordsBenchmark(),
    new ModelsBenchmark(),
    new ServerBenchmark(),
    new ResampleBenchmark(),
    new BucketBenchmark(),
    new SimulateBenchmark(),
    new FramesBenchmark(),
    new ClientBenchmark(),
    new HttpSharedMemoryBenchmark(),
    new BatcherBenchmark(),
    new TrainBenchmark(),
];

if (args.Length == 0 || args[0] is "--help" or "-h" or "list")
{
    Console.WriteLine("usage: dotnet run -c Release --project tests/GwReprocess.Benchmarks -- NAME [NAME ...] | all");
    foreach (var b in benchmarks) Console.WriteLine($"  {b.Name,-10} {b.Description}");
    return args.Length == 0 ? 2 : 0;
}

var selected = args[0] == "all" ? benchmarks : args.Select(a => Array.Find(benchmarks, b => b.Name == a)).ToArray();
for (int i = 0; i < selected.Length; i++)
{
    if (selected[i] is null)
    {
        Console.Error.WriteLine($"unknown benchmark '{args[i]}'");
        return 2;
    }
}
foreach (var b in selected)
    await b!.RunAsync(new BenchmarkReport(b.Name, Console.Out), CancellationToken.None);
return 0;
