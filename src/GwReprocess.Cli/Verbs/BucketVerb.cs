using System.Diagnostics;
using System.Globalization;
using CommandLine;
using GwReprocess.Frames;
using GwReprocess.Storage;
using GwReprocess.Time;

namespace GwReprocess.Cli.Verbs;

/// <summary><c>gwrepro bucket</c>: list and copy objects in file://, s3:// and gs:// buckets; build frame caches from them.</summary>
public sealed class BucketVerb : CliVerb
{
    public override string Name => "bucket";
    public override string Summary => "List and copy objects in file://, s3:// and gs:// buckets; build frame caches from them.";

    /// <summary>How to reach S3-protocol stores; the AWS environment supplies whatever is not given.</summary>
    public abstract class StoreOptions : CommonOptions
    {
        [Option("endpoint", HelpText = "S3-protocol service URL (default: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, else AWS; gs:// defaults to https://storage.googleapis.com).")]
        public string? Endpoint { get; set; }

        [Option("region", HelpText = "Signing region (default: AWS_REGION, AWS_DEFAULT_REGION, the profile's, else us-east-1; 'auto' for gs://).")]
        public string? Region { get; set; }

        [Option("path-style", HelpText = "Address buckets as ENDPOINT/BUCKET/KEY instead of BUCKET.ENDPOINT/KEY (default: on for custom endpoints).")]
        public bool PathStyle { get; set; }

        [Option("no-sign-request", HelpText = "Send anonymous requests (public buckets); no credentials are looked up.")]
        public bool Anonymous { get; set; }

        internal BucketOptions ToBucketOptions() => new()
        {
            Endpoint = Endpoint,
            Region = Region,
            PathStyle = PathStyle ? true : null,
            Anonymous = Anonymous,
        };
    }

    [Verb("ls", HelpText = "List the objects under a prefix: size in bytes, modification time (UTC), URI.")]
    public sealed class ListOptions : StoreOptions
    {
        [Value(0, MetaName = "URI", Required = true, HelpText = "s3://bucket/prefix, gs://bucket/prefix, file:///dir or a local directory.")]
        public string Uri { get; set; } = "";
    }

    [Verb("cp", HelpText = "Copy an object, or with -r every object under a prefix; either side may be local or remote. Every write is atomic.")]
    public sealed class CopyOptions : StoreOptions
    {
        [Value(0, MetaName = "SRC", Required = true, HelpText = "Source object (or prefix with -r).")]
        public string Source { get; set; } = "";

        [Value(1, MetaName = "DST", Required = true, HelpText = "Destination object, or a prefix/directory (ending in '/' or an existing directory) to copy into.")]
        public string Destination { get; set; } = "";

        [Option('r', "recursive", HelpText = "Copy every object under SRC to the same relative keys under DST.")]
        public bool Recursive { get; set; }

        [Option('j', "jobs", Default = 4, HelpText = "Objects copied at once with -r.")]
        public int Jobs { get; set; }
    }

    [Verb("cache", HelpText = "Find the IGWN-named *.gwf files under a prefix that cover [START, END) and write a LAL frame cache.")]
    public sealed class CacheOptions : StoreOptions
    {
        [Value(0, MetaName = "URI", Required = true, HelpText = "Prefix holding frame files (searched recursively).")]
        public string Uri { get; set; } = "";

        [Option("start", Required = true, HelpText = "Start of the span: GPS seconds or a UTC date-time.")]
        public string Start { get; set; } = "";

        [Option("end", Required = true, HelpText = "End of the span (exclusive): GPS seconds or a UTC date-time.")]
        public string End { get; set; } = "";

        [Option('o', "out", Required = true, HelpText = "Frame cache file to write (LAL format, written atomically).")]
        public string Out { get; set; } = "";

        [Option("observatory", HelpText = "Only files of this observatory letter (e.g. H).")]
        public string? Observatory { get; set; }

        [Option("type", HelpText = "Only files of this frame type (e.g. H1_HOFT_C00).")]
        public string? FrameType { get; set; }

        [Option("download", HelpText = "Also stream the selected files into this directory and point the cache at the local copies (files already there with the right size are kept).")]
        public string? Download { get; set; }
    }

    public override Task<int> RunAsync(string[] args, CancellationToken cancellationToken) =>
        ArgumentParsing.RunVerbsAsync(Name, args,
            [typeof(ListOptions), typeof(CopyOptions), typeof(CacheOptions)],
            options => options switch
            {
                ListOptions o => ListAsync(o, cancellationToken),
                CopyOptions o => CopyAsync(o, cancellationToken),
                CacheOptions o => CacheAsync(o, cancellationToken),
                _ => throw new InvalidOperationException(),
            });

    /// <summary>The prefix to list for a URI: a local directory lists its contents.</summary>
    private static BucketUri AsPrefix(BucketUri uri, bool forceDirectory)
    {
        if (uri.IsPrefix) return uri;
        if (forceDirectory || (uri.IsLocal && Directory.Exists(uri.LocalPath))) return uri.WithKey(uri.Key + "/");
        return uri;
    }

    private static void RequireLocalPath(BucketUri uri)
    {
        if (uri.IsLocal && uri.Key.Length > 0 && !Directory.Exists(uri.LocalPath) && !File.Exists(uri.LocalPath))
            throw new BucketNotFoundException($"{uri}: no such file or directory");
    }

    private static void RequireLocalDirectory(BucketUri prefix)
    {
        if (prefix.IsLocal && prefix.IsPrefix && prefix.Key.Length > 0 && !Directory.Exists(prefix.LocalPath))
            throw new BucketNotFoundException($"{prefix}: no such directory");
    }

    private static async Task<int> ListAsync(ListOptions o, CancellationToken ct)
    {
        var uri = AsPrefix(BucketUri.Parse(o.Uri), forceDirectory: false);
        RequireLocalPath(uri);
        using var bucket = BucketFactory.Open(uri, o.ToBucketOptions());
        if (uri.IsLocal && !uri.IsPrefix && File.Exists(uri.LocalPath))
        {
            var one = await bucket.StatAsync(uri.Key, ct) ?? throw new BucketNotFoundException($"{uri}: no such object");
            Print(one);
            return ExitCodes.Success;
        }
        long count = 0, bytes = 0;
        await foreach (var obj in bucket.ListAsync(uri.Key, ct))
        {
            Print(obj);
            count++;
            bytes += obj.Size;
        }
        if (!o.Quiet) Console.Error.WriteLine($"{count} object(s), {bytes} bytes under {uri}");
        return ExitCodes.Success;

        void Print(BucketObject obj) =>
            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{obj.Size,14} {obj.LastModified.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ} {bucket.UriOf(obj.Key)}"));
    }

    private static async Task<int> CopyAsync(CopyOptions o, CancellationToken ct)
    {
        var source = BucketUri.Parse(o.Source);
        var destination = BucketUri.Parse(o.Destination);
        if (o.Jobs < 1) throw new BadInputException($"--jobs {o.Jobs}: must be at least 1");
        var options = o.ToBucketOptions();
        using var from = BucketFactory.Open(source, options);
        using var to = destination.Scheme == source.Scheme && destination.Bucket == source.Bucket ? null : BucketFactory.Open(destination, options);
        var target = to ?? from;
        var clock = Stopwatch.StartNew();
        long copied = 0, bytes = 0;

        if (!o.Recursive)
        {
            if (source.IsPrefix) throw new BadInputException($"{source}: names a prefix, not an object (use -r to copy everything under it)");
            if (source.IsLocal && Directory.Exists(source.LocalPath)) throw new BadInputException($"{source}: is a directory (use -r)");
            var into = AsPrefix(destination, forceDirectory: false);
            var dst = into.IsPrefix ? into.Append(source.Name) : into;
            bytes += await CopyOneAsync(from, source.Key, target, dst, o.Quiet, ct);
            copied = 1;
        }
        else
        {
            var prefix = AsPrefix(source, forceDirectory: source.Key.Length > 0);
            RequireLocalDirectory(prefix);
            var dstPrefix = AsPrefix(destination, forceDirectory: destination.Key.Length > 0);
            var keys = new List<BucketObject>();
            await foreach (var obj in from.ListAsync(prefix.Key, ct)) keys.Add(obj);
            if (keys.Count == 0) throw new BucketNotFoundException($"{prefix}: no objects to copy");
            await Parallel.ForEachAsync(keys, new ParallelOptions { MaxDegreeOfParallelism = o.Jobs, CancellationToken = ct }, async (obj, c) =>
            {
                var dst = dstPrefix.Append(obj.Key[prefix.Key.Length..]);
                long n = await CopyOneAsync(from, obj.Key, target, dst, o.Quiet, c);
                Interlocked.Add(ref bytes, n);
                Interlocked.Increment(ref copied);
            });
        }
        if (!o.Quiet)
        {
            double seconds = Math.Max(clock.Elapsed.TotalSeconds, 1e-6);
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{copied} object(s), {bytes} bytes in {seconds:F2} s ({bytes / seconds / 1e6:F1} MB/s)"));
        }
        return ExitCodes.Success;
    }

    private static async Task<long> CopyOneAsync(IBucket from, string key, IBucket to, BucketUri destination, bool quiet, CancellationToken ct)
    {
        if (destination.IsPrefix) throw new BadInputException($"{destination}: destination is a prefix, not an object key");
        await using var stream = await from.OpenReadAsync(key, null, ct);
        var written = await to.WriteAsync(destination.Key, stream, ct);
        if (!quiet) Console.Out.WriteLine($"{from.UriOf(key)} -> {destination} ({written.Size} bytes)");
        return written.Size;
    }

    private static async Task<int> CacheAsync(CacheOptions o, CancellationToken ct)
    {
        var start = Gps(o.Start, "--start");
        var end = Gps(o.End, "--end");
        if (end <= start) throw new BadInputException($"--end {o.End} is not after --start {o.Start}");
        var span = new Segment(start, end);
        var uri = AsPrefix(BucketUri.Parse(o.Uri), forceDirectory: false);
        RequireLocalDirectory(uri);
        using var bucket = BucketFactory.Open(uri, o.ToBucketOptions());
        var all = await BucketFrameSet.DiscoverAsync(bucket, uri.Key, o.Observatory, o.FrameType, ct);
        var selected = all.Select(span);
        if (selected.Files.Count == 0)
            throw new BadInputException($"{uri}: no frame files cover [{start}, {end}) ({all.Files.Count} frame file(s) found under it)");
        var cache = selected.ToCache();
        if (o.Download is not null)
        {
            var fetched = await selected.DownloadAsync(o.Download, 4, ct);
            cache = fetched.Cache;
            if (!o.Quiet)
                Console.Error.WriteLine($"downloaded {fetched.Downloaded} file(s) ({fetched.BytesDownloaded} bytes), kept {fetched.Reused} already in {Path.GetFullPath(o.Download)}");
        }
        await cache.WriteAsync(o.Out, ct);
        var gaps = selected.Gaps(span);
        if (!o.Quiet)
        {
            Console.Error.WriteLine($"{selected.Files.Count} of {all.Files.Count} frame file(s) cover [{start}, {end}); cache written to {o.Out}");
            foreach (var g in gaps) Console.Error.WriteLine($"warning: no frame file covers [{g.Start}, {g.End}) ({g.Duration} s)");
        }
        return ExitCodes.Success;
    }

    private static GpsTime Gps(string text, string option) =>
        GpsTime.TryParse(text, out var t)
            ? t
            : throw new BadInputException($"{option} '{text}' is neither GPS seconds nor a UTC date-time");
}
