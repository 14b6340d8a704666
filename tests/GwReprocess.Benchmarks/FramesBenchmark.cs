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
            var (inflate, _) = BenchmarkReport.Measure(() =>
            {
                for (int f = 0; f < Frames; f++)
                {
                    using var z = new ZLibStream(new MemoryStream(compressed[f]), CompressionMode.Decompress);
                    z.ReadExactly(MemoryMarshal.AsBytes(target.AsSpan(f * FrameSeconds * Rate, FrameSeconds * Rate)));
                }
            }, repetitions: 3);
            frames = null!; // free the originals before the read measurements

            double Read(string path, bool verify)
            {
                var (best, _) = BenchmarkReport.Measure(() =>
                {
                    using var file = GwfFile.OpenAsync(path, new GwfReadOptions { VerifyChecksums = verify }).GetAwaiter().GetResult();
                    var series = file.ReadAsync(Channel).GetAwaiter().GetResult();
                    if (series.Length != target.Length) throw new InvalidOperationException("short read");
                }, repetitions: 3);
                return decodedMb / best.TotalSeconds;
            }

            double floor = decodedMb / inflate.TotalSeconds;
            double gzipRead = Read(gzipPath, verify: true);
            double gzipNoCrc = Read(gzipPath, verify: false);
            double rawRead = Read(rawPath, verify: true);
            report.Figure("inflate alone (System.IO.Compression, in memory)", floor, "MB/s");
            report.Figure("GwfFile.ReadAsync gzip, CRCs checked", gzipRead, "MB/s");
            report.Figure("GwfFile.ReadAsync gzip, CRCs skipped", gzipNoCrc, "MB/s");
            report.Figure("ratio gzip read / inflate alone (goal >= 0.8)", gzipRead / floor, "x");
            report.Figure("ratio gzip read without CRC / inflate alone", gzipNoCrc / floor, "x");
            report.Figure("GwfFile.ReadAsync raw, CRCs checked", rawRead, "MB/s");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
