using System.Globalization;
using GwReprocess.Tests.Jobs;

namespace GwReprocess.Benchmarks;

/// <summary>
/// N client streams (default 100) against one <c>gwrepro serve</c> on loopback for a set time (default 10 min), with a
/// small Wiener gwe2e ensemble and fewer snapshotter slots than streams (default N/2), so new sequences wait for a slot as
/// Triton's sequence batcher makes them wait. Every job's outputs are compared with its segment cleaned by a lone job.
/// Options: <c>--streams N --slots S --minutes M --in-flight F --threads T --faults</c> (the server killed twice and the
/// output bucket, moto behind a loopback proxy, gone for 3 s).
/// </summary>
public sealed class SoakBenchmark(string[] options) : IBenchmark
{
    public string Name => "soak";

    public string Description => "N streams (--streams 100) on one gwrepro serve for --minutes 10, --slots < N: failures, RSS, latency p50/p99, slot waits, throughput; --faults kills the server twice and takes the bucket away";

    public async Task RunAsync(BenchmarkReport report, CancellationToken cancellationToken)
    {
        var o = Parse(options);
        report.Note($"load average before the run: {File.ReadAllText("/proc/loadavg").Trim()}; {Environment.ProcessorCount} logical CPUs shared by the server and all streams");
        report.Note($"{o.Streams} streams, {o.Slots} snapshotter slots, {o.Duration!.Value.TotalMinutes:0.##} min, max in flight {o.MaxInFlight}, server ORT threads {o.ServerThreads}, " +
                    $"{(o.ServerKills > 0 ? $"{o.ServerKills} server kills and a {SoakOptions.OutageLength.TotalSeconds:0} s bucket outage" : "no faults")}; " +
                    $"jobs of {SoakOptions.JobSeconds} s (two {SoakOptions.FrameSeconds} s frames, 8 s padding), H1+L1, 3 witnesses, Wiener cleaner, r 16 Hz, B 4, cycling over {o.Segments} segments");
        await using var soak = await SoakRun.CreateAsync(o, line => report.Note(line), cancellationToken);
        var r = await soak.RunAsync(cancellationToken);
        report.Note($"load average after the run: {File.ReadAllText("/proc/loadavg").Trim()}");

        var steady = r.RoundTrips;
        var waits = r.Jobs.Select(j => j.FirstRoundTrip).Where(double.IsFinite).ToList();
        var perStream = r.ThroughputPerStream;
        report.Figure("streams N", o.Streams, "");
        report.Figure("snapshotter slots", o.Slots, "");
        report.Figure("duration (wall, until the last job started before the deadline ended)", r.WallSeconds, "s");
        report.Figure("jobs completed", r.Jobs.Count, "");
        report.Figure("requests sent", r.Requests, "");
        report.Figure("requests answered", r.Answered, "");
        report.Figure("failed requests (server nv_inference_request_failure, all models)", r.ServerRequestFailures, "");
        report.Figure("jobs whose outputs differ from the lone run (or files missing/extra)", r.Jobs.Count(j => j.Mismatch is not null), "");
        report.Figure("stream reconnects", r.Jobs.Sum(j => j.Reconnects), "");
        report.Figure("job reruns", r.Jobs.Sum(j => j.Reruns), "");
        foreach (var f in r.Failures.Take(10)) report.Note($"FAILURE: {f}");
        if (o.ServerKills > 0)
        {
            report.Figure("server kills (SIGKILL, restarted)", r.ServerKills, "");
            report.Figure("bucket outages", r.BucketOutages, "");
            report.Figure("bucket connections reset or turned away by the outage", r.BucketConnectionsBroken, "");
            report.Figure("requests lost with a killed server (sent, never answered; streamed again after the reconnect)", r.Requests - r.Answered, "");
        }

        // Resident memory after warm-up (the first sample past 10 % of the run, at least 30 s in) against the end.
        var rss = r.Rss;
        double warmAt = Math.Max(30, 0.1 * r.WallSeconds);
        if (rss.Count > 0 && o.ServerKills == 0)
        {
            var warm = rss.FirstOrDefault(x => x.Seconds >= warmAt, rss[^1]);
            var end = rss[^1];
            report.Figure($"server RSS after warm-up (t = {warm.Seconds:F0} s)", warm.RssBytes / 1048576.0, "MiB");
            report.Figure($"server RSS at the end (t = {end.Seconds:F0} s)", end.RssBytes / 1048576.0, "MiB");
            report.Figure("server RSS max after warm-up", rss.Where(x => x.Seconds >= warm.Seconds).Max(x => x.RssBytes) / 1048576.0, "MiB");
            report.Figure("server RSS end / after warm-up - 1", end.RssBytes / (double)warm.RssBytes - 1, "x");
            // One sample moves with the garbage collector's heap; the medians of the first and last minute after warm-up show a trend.
            double Median(IEnumerable<(double Seconds, long RssBytes)> xs) => SoakResult.Quantile(xs.Select(x => (double)x.RssBytes).ToList(), 0.5) / 1048576.0;
            double first = Median(rss.Where(x => x.Seconds >= warm.Seconds && x.Seconds < warm.Seconds + 60));
            double last = Median(rss.Where(x => x.Seconds >= end.Seconds - 60));
            report.Figure("server RSS median, first minute after warm-up", first, "MiB");
            report.Figure("server RSS median, last minute", last, "MiB");
            report.Figure("server RSS median last minute / first minute after warm-up - 1", last / first - 1, "x");
        }
        else if (rss.Count > 0) report.Figure("server RSS at the end (the last restarted process)", rss[^1].RssBytes / 1048576.0, "MiB");

        report.Figure("round trip p50 (requests sent after their sequence had a slot)", 1e3 * SoakResult.Quantile(steady, 0.5), "ms");
        report.Figure("round trip p99", 1e3 * SoakResult.Quantile(steady, 0.99), "ms");
        report.Figure("round trip max", 1e3 * SoakResult.Quantile(steady, 1), "ms");
        report.Figure("slot wait: first round trip of a job p50", SoakResult.Quantile(waits, 0.5), "s");
        report.Figure("slot wait: first round trip of a job p90", SoakResult.Quantile(waits, 0.9), "s");
        report.Figure("slot wait: first round trip of a job max", SoakResult.Quantile(waits, 1), "s");
        report.Figure("jobs that waited over 1 s for their first answer", waits.Count(w => w > 1), "");
        report.Figure("first jobs answered only after another job sent its END (waited for a freed slot)", r.WaitedForFreedSlot, "");
        report.Figure("throughput per stream, mean", perStream.Average(), "s of data/s");
        report.Figure("throughput per stream, min", perStream.Min(), "s of data/s");
        report.Figure("throughput per stream, max", perStream.Max(), "s of data/s");
        report.Figure("throughput, all streams", r.Throughput, "s of data/s");
    }

    private static SoakOptions Parse(string[] args)
    {
        int streams = 100, inFlight = 8, threads = 1;
        int? slots = null;
        double minutes = 10;
        bool faults = false;
        for (int i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"soak: {args[i]} needs a value");
            int Int() { string v = Value(); return int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0 ? n : throw new ArgumentException($"soak: {args[i - 1]} '{v}' is not a positive integer"); }
            switch (args[i])
            {
                case "--streams": streams = Int(); break;
                case "--slots": slots = Int(); break;
                case "--in-flight": inFlight = Int(); break;
                case "--threads": threads = Int(); break;
                case "--faults": faults = true; break;
                case "--minutes":
                    string m = Value();
                    if (!double.TryParse(m, NumberStyles.Float, CultureInfo.InvariantCulture, out minutes) || minutes <= 0) throw new ArgumentException($"soak: --minutes '{m}' is not a positive number");
                    break;
                default: throw new ArgumentException($"soak: unknown option '{args[i]}' (--streams, --slots, --minutes, --in-flight, --threads, --faults)");
            }
        }
        return new SoakOptions(Streams: streams, Slots: slots ?? Math.Max(1, streams / 2), Duration: TimeSpan.FromMinutes(minutes),
            ServerKills: faults ? 2 : 0, BucketOutage: faults, MaxInFlight: inFlight, ServerThreads: threads);
    }
}
