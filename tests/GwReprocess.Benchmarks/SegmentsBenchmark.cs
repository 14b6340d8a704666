using GwReprocess.Time;

namespace GwReprocess.Benchmarks;

/// <summary>Segment algebra at archive scale: 10 years of two-detector science segments.</summary>
public sealed class SegmentsBenchmark : IBenchmark
{
    public string Name => "segments";
    public string Description => "coalesce + intersect + chunk on 10 years of synthetic science segments (~30 000 per detector, 2 detectors)";

    public Task RunAsync(BenchmarkReport report, CancellationToken cancellationToken)
    {
        const long start = 1_000_000_000, span = 10L * 365 * 86400;
        var h1 = Synthetic(seed: 1, start, span);
        var l1 = Synthetic(seed: 2, start, span);
        report.Note($"H1 {h1.Count} segments, L1 {l1.Count} segments over {span / 86400} days");

        int chunks = 0;
        var (best, bytes) = BenchmarkReport.Measure(() =>
        {
            var both = h1.Coalesce().Intersect(l1.Coalesce());
            chunks = both.Chunk(GpsDuration.FromSeconds(4096), GpsDuration.FromSeconds(300), GpsDuration.FromSeconds(8)).Count;
        });
        report.Figure("coalesce+intersect+chunk wall time", best.TotalMilliseconds, "ms");
        report.Figure("allocated", bytes / 1e6, "MB");
        report.Figure("chunks", chunks, "jobs");
        return Task.CompletedTask;
    }

    /// <summary>Science segments with lock stretches of minutes to a day, separated by short losses, unsorted and with some overlaps, as raw segment dumps look.</summary>
    internal static SegmentList Synthetic(int seed, long start, long span)
    {
        var rng = new Random(seed);
        var list = new List<Segment>();
        long t = start;
        while (t < start + span)
        {
            long on = (long)Math.Exp(rng.NextDouble() * Math.Log(80_000)) + 60;
            long off = (long)Math.Exp(rng.NextDouble() * Math.Log(30_000)) + 10;
            list.Add(new Segment(t, Math.Min(t + on, start + span)));
            if (rng.NextDouble() < 0.05) list.Add(new Segment(t + on / 2, t + on / 2 + 30)); // overlapping duplicate
            t += on + off;
        }
        for (int i = list.Count - 1; i > 0; i--)
        {
            int j = rng.Next(i + 1);
            (list[i], list[j]) = (list[j], list[i]);
        }
        return new SegmentList(list);
    }
}
