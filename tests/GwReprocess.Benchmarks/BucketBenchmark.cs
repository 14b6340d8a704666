using System.Diagnostics;
using GwReprocess.Storage;
using GwReprocess.Tests.Storage;

namespace GwReprocess.Benchmarks;

/// <summary>Upload and download throughput of a 256 MB object to moto on loopback: S3Bucket against the AWS CLI, same server, same run.</summary>
public sealed class BucketBenchmark : IBenchmark
{
    private const int Size = 256 << 20;
    private const string BucketName = "gwrepro-bench";

    public string Name => "bucket";
    public string Description => "upload/download MB/s of a 256 MB object to moto_server on loopback: S3Bucket vs 'aws s3 cp' (and a local directory for scale)";

    public async Task RunAsync(BenchmarkReport report, CancellationToken cancellationToken)
    {
        var data = new byte[Size];
        new Random(256).NextBytes(data);
        using var moto = await MotoServer.StartAsync();
        report.Note($"moto_server at {moto.Endpoint}; object {Size >> 20} MiB; best of 3 runs each");
        var options = new BucketOptions
        {
            Endpoint = moto.Endpoint,
            Region = "us-east-1",
            AccessKeyId = "bench",
            SecretAccessKey = "bench-secret",
            Environment = _ => null,
        };
        using var s3 = new S3Bucket(BucketScheme.S3, BucketName, options);
        await s3.CreateAsync(cancellationToken);
        IBucket bucket = s3;
        report.Note($"S3Bucket: multipart above {options.MultipartThreshold >> 20} MiB, {options.PartSize >> 20} MiB parts, {options.UploadConcurrency} in flight; CRC32 on upload, verified on download");

        double up = await Best(3, async () => await bucket.WriteAsync("bench/s3bucket.bin", new MemoryStream(data, writable: false), cancellationToken));
        using (IBucket wide = new S3Bucket(BucketScheme.S3, BucketName, options with { UploadConcurrency = 10 }))
        {
            double upWide = await Best(3, async () => await wide.WriteAsync("bench/s3bucket-wide.bin", new MemoryStream(data, writable: false), cancellationToken));
            report.Figure("S3Bucket upload, 10 parts in flight (as aws s3 cp)", Size / 1e6 / upWide, "MB/s");
        }
        double down = await Best(3, async () =>
        {
            await using var s = await bucket.OpenReadAsync("bench/s3bucket.bin", null, cancellationToken);
            long n = await CountAsync(s, cancellationToken);
            if (n != Size) throw new InvalidOperationException($"downloaded {n} of {Size} bytes");
        });
        report.Figure("S3Bucket upload", Size / 1e6 / up, "MB/s");
        report.Figure("S3Bucket download", Size / 1e6 / down, "MB/s");

        string dir = Path.Combine(Path.GetTempPath(), "gwrepro-bench-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            string file = Path.Combine(dir, "object.bin");
            await File.WriteAllBytesAsync(file, data, cancellationToken);
            // What `gwrepro bucket cp s3://... DIR/` does: stream into a temporary file, fsync, rename (as aws s3 cp writes a file).
            var target = new LocalBucket(dir);
            double toFile = await Best(3, async () =>
            {
                await using var s = await bucket.OpenReadAsync("bench/s3bucket.bin", null, cancellationToken);
                await ((IBucket)target).WriteAsync("download.bin", s, cancellationToken);
            });
            report.Figure("S3Bucket download to a file (atomic)", Size / 1e6 / toFile, "MB/s");
            var aws = await AwsCliAsync(moto.Endpoint, ["--version"]);
            if (aws is null)
            {
                report.Note("aws CLI not found on PATH: no reference figures");
            }
            else
            {
                double startup = await Best(3, async () => await AwsCliAsync(moto.Endpoint, ["--version"]));
                double awsUp = await Best(3, async () => Check(await AwsCliAsync(moto.Endpoint, ["s3", "cp", "--only-show-errors", file, $"s3://{BucketName}/bench/aws.bin"])));
                double awsDown = await Best(3, async () => Check(await AwsCliAsync(moto.Endpoint, ["s3", "cp", "--only-show-errors", $"s3://{BucketName}/bench/aws.bin", Path.Combine(dir, "back.bin")])));
                if (new FileInfo(Path.Combine(dir, "back.bin")).Length != Size) throw new InvalidOperationException("aws s3 cp downloaded a short file");
                report.Note($"{aws.Trim()}; process start-up {startup * 1000:F0} ms is included in its figures");
                report.Figure("aws s3 cp upload", Size / 1e6 / awsUp, "MB/s");
                report.Figure("aws s3 cp download (to a file)", Size / 1e6 / awsDown, "MB/s");
                report.Figure("upload ratio S3Bucket / aws s3 cp", awsUp / up, "x");
                report.Figure("download-to-file ratio S3Bucket / aws s3 cp", awsDown / toFile, "x");
            }

            var local = new LocalBucket(dir);
            double localUp = await Best(3, async () => await ((IBucket)local).WriteAsync("local.bin", new MemoryStream(data, writable: false), cancellationToken));
            double localDown = await Best(3, async () =>
            {
                await using var s = await local.OpenReadAsync("local.bin", null, cancellationToken);
                await s.CopyToAsync(Stream.Null, 1 << 20, cancellationToken);
            });
            report.Figure("LocalBucket write (temp + fsync + rename)", Size / 1e6 / localUp, "MB/s");
            report.Figure("LocalBucket read (page cache)", Size / 1e6 / localDown, "MB/s");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static async Task<long> CountAsync(Stream s, CancellationToken ct)
    {
        var buffer = new byte[1 << 20];
        long total = 0;
        int n;
        while ((n = await s.ReadAsync(buffer, ct)) > 0) total += n;
        return total;
    }

    private static async Task<double> Best(int runs, Func<Task> action)
    {
        double best = double.MaxValue;
        for (int i = 0; i < runs; i++)
        {
            var sw = Stopwatch.StartNew();
            await action();
            best = Math.Min(best, sw.Elapsed.TotalSeconds);
        }
        return best;
    }

    private static string Check(string? output) => output ?? throw new InvalidOperationException("aws s3 cp failed");

    /// <summary>Runs the AWS CLI against the endpoint; returns its output, or null when it is not installed or fails.</summary>
    private static async Task<string?> AwsCliAsync(string endpoint, string[] args)
    {
        var info = new ProcessStartInfo("aws") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (args[0] != "--version")
        {
            info.ArgumentList.Add("--endpoint-url");
            info.ArgumentList.Add(endpoint);
        }
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment["AWS_ACCESS_KEY_ID"] = "bench";
        info.Environment["AWS_SECRET_ACCESS_KEY"] = "bench-secret";
        info.Environment["AWS_DEFAULT_REGION"] = "us-east-1";
        info.Environment["AWS_EC2_METADATA_DISABLED"] = "true";
        try
        {
            using var p = Process.Start(info)!;
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            await p.WaitForExitAsync();
            string text = (await stdout) + (await stderr);
            if (p.ExitCode != 0)
            {
                Console.Error.WriteLine($"aws {string.Join(' ', args)}: exit {p.ExitCode}: {text.Trim()}");
                return null;
            }
            return text;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }
}
