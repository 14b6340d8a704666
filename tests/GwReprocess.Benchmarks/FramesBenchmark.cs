using System.Diagnostics;
using System.IO.Compression;
using System.Runtime.InteropServices;
using GwReprocess.Frames.Gwf;
using GwReprocess.Time;

namespace GwReprocess.Benchmarks;

/// <summary>GWF read throughput of one gzip float64 channel (4096 s at 16384 Hz) against plain zlib inflate of the same bytes, and the raw read.</summary>
public sealed class FramesBenchmark : IBenchmark
{
    public string Name => "frames";
    public string Description => "read one gzip float64 channel, 4096 s at 16384 Hz (512 MB), vs System.IO.Compression inflate of the same bytes; raw read";

    private const int Rate = 16384;
    private const int FrameSeconds = 256;
    private const int Frames = 16; // 16 × 256 s = 4096 s
    private const string Channel = "X1:BENCH-STRAIN";

    public async Task RunAsync(BenchmarkReport report, CancellationToken cancellationToken)
    {
        string dir = Path.Combine(Path.GetTempPath(), "gwrepro-frames-bench-" + Environment.ProcessId);
        Directory.CreateDirectory(dir);
        try
        {
            // Noise at strain scale: random mantissas, so deflate gains little (as for real strain).
            var rng = new Random(42);
            var frames = new double[Frames][];
            for (int f = 0; f < Frames; f++)
            {
                var x = GC.AllocateUninitializedArray<double>(FrameSeconds * Rate);
                for (int i = 0; i < x.Length; i++) x[i] = (rng.NextDouble() - 0.5) * 1e-20;
                frames[f] = x;
            }
            double decodedMb = (double)Frames * FrameSeconds * Rate * sizeof(double) / 1e6;
            var start = GpsTime.FromSeconds(1_238_166_018);
            IEnumerable<GwfFrameData> FrameData() => Enumerable.Range(0, Frames).Select(f => new GwfFrameData(
                start + GpsDuration.FromSeconds((long)f * FrameSeconds), GpsDuration.FromSeconds(FrameSeconds),
                [new GwfChannelData(Channel, GwfChannelKind.Proc, Rate, frames[f]) { Unit = "strain" }]));
            var span = Segment.FromStart(start, GpsDuration.FromSeconds((long)Frames * FrameSeconds));

            string gzipPath = Path.Combine(dir, GwfWriter.FileName("X", "BENCH_GZIP", span));
            string rawPath = Path.Combine(dir, GwfWriter.FileName("X", "BENCH_RAW", span));
            var sw = Stopwatch.StartNew();
            await GwfWriter.WriteFileAsync(gzipPath, FrameData(), new GwfWriteOptions { Compression = GwfCompression.Gzip }, cancellationToken);
            report.Figure("write gzip (zlib default level)", decodedMb / sw.Elapsed.TotalSeconds, "MB/s");
            sw.Restart();
            await GwfWriter.WriteFileAsync(rawPath, FrameData(), new GwfWriteOptions { Compression = GwfCompression.Raw }, cancellationToken);
            report.Figure("write raw", decodedMb / sw.Elapsed.TotalSeconds, "MB/s");
            long gzipBytes = new FileInfo(gzipPath).Length;
            report.Note($"{Frames} frames of {FrameSeconds} s; {decodedMb:F0} MB of samples; gzip file {gzipBytes / 1e6:F0} MB (ratio {gzipBytes / 1e6 / decodedMb:F3}), raw file {new FileInfo(rawPath).Length / 1e6:F0} MB");

            // The floor: the same zlib streams (zlib is deterministic at a given level) inflated from memory into one buffer.
            var compressed = new byte[Frames][];
            for (int f = 0; f < Frames; f++)
            {
                using var ms = new MemoryStream();
                using (var z = new ZLibStream(ms, CompressionLevel.Optimal, leaveOpen: true)) z.Write(MemoryMarshal.AsBytes(frames[f].AsSpan()));
                compressed[f] = ms.ToArray();
            }
            var target = GC.AllocateUninitializedArray<double>(Frames * FrameSeconds * Rate);
            void InflateInto(double[] into)
            {
                for (int f = 0; f < Frames; f++)
                {
                    using var z = new ZLibStream(new MemoryStream(compressed[f]), CompressionMode.Decompress);
                    z.ReadExactly(MemoryMarshal.AsBytes(into.AsSpan(f * FrameSeconds * Rate, FrameSeconds * Rate)));
                }
            }
            frames = null!; // free the originals before the read measurements

            var reused = GC.AllocateUninitializedArray<double>(target.Length);
            void Read(string path, bool verify, bool reuse = false)
            {
                using var file = GwfFile.OpenAsync(path, new GwfReadOptions { VerifyChecksums = verify }).GetAwaiter().GetResult();
                var series = reuse ? file.ReadAsync(Channel, null, reused).GetAwaiter().GetResult() : file.ReadAsync(Channel).GetAwaiter().GetResult();
                if (series.Length != target.Length) throw new InvalidOperationException("short read");
            }

            // The machine is shared, so the variants run interleaved, round after round, and each keeps its best time.
            (string Name, Action Run)[] variants =
            [
                // Like the reader, the floor produces a new sample array per read (page faults included) ...
                ("inflate alone (System.IO.Compression, from memory into a new array)", () => InflateInto(GC.AllocateUninitializedArray<double>(target.Length))),
                // ... and, for reference, into an array already in memory.
                ("inflate alone into a preallocated array", () => InflateInto(target)),
                ("GwfFile.ReadAsync gzip, CRCs checked", () => Read(gzipPath, verify: true)),
                ("GwfFile.ReadAsync gzip, CRCs skipped", () => Read(gzipPath, verify: false)),
                ("GwfFile.ReadAsync raw, CRCs checked", () => Read(rawPath, verify: true)),
                ("GwfFile.ReadAsync gzip, CRCs checked, into a reused array", () => Read(gzipPath, verify: true, reuse: true)),
            ];
            var best = new double[variants.Length];
            Array.Fill(best, double.MaxValue);
            for (int round = 0; round < 4; round++)
                for (int v = 0; v < variants.Length; v++)
                {
                    var watch = Stopwatch.StartNew();
                    variants[v].Run();
                    if (round > 0) best[v] = Math.Min(best[v], watch.Elapsed.TotalSeconds); // round 0 warms up
                }
            for (int v = 0; v < variants.Length; v++) report.Figure(variants[v].Name, decodedMb / best[v], "MB/s");
            report.Figure("ratio gzip read (CRCs checked) / inflate alone into a new array (goal >= 0.8)", best[0] / best[2], "x");
            report.Figure("ratio gzip read (CRCs checked) / inflate alone into a preallocated array", best[1] / best[2], "x");
            report.Figure("ratio gzip read (CRCs skipped) / inflate alone into a new array", best[0] / best[3], "x");
            report.Figure("ratio gzip read (CRCs checked) into a reused array / inflate alone into a preallocated array", best[1] / best[5], "x");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
