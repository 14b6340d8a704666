using CommandLine;
using GwReprocess.Time;

namespace GwReprocess.Cli.Verbs;

/// <summary><c>gwrepro segments</c>: combine, chunk, inspect and convert segment files.</summary>
public sealed class SegmentsVerb : CliVerb
{
    public override string Name => "segments";
    public override string Summary => "Combine, chunk, inspect and convert segment files (plain, segwizard, DQSegDB JSON).";

    /// <summary>Output layout names accepted by <c>--format</c>.</summary>
    public enum OutputFormat { Auto, Plain, Segwizard, Json }

    public abstract class OutputOptions : CommonOptions
    {
        [Option('o', "out", HelpText = "Write the result to this file (atomically) instead of standard output.")]
        public string? Out { get; set; }

        [Option("format", Default = OutputFormat.Auto, HelpText = "Output layout; auto picks from --out's extension (.json, .seg/.segwizard, else plain).")]
        public OutputFormat Format { get; set; }
    }

    [Verb("combine", HelpText = "Combine segment files: intersect, union, or subtract the later files from the first.")]
    public sealed class CombineOptions : OutputOptions
    {
        [Value(0, MetaName = "FILES", Min = 2, Required = true, HelpText = "Two or more segment files (plain, segwizard or DQSegDB JSON; JSON contributes its 'active' list).")]
        public IEnumerable<string> Files { get; set; } = [];

        [Option("op", Required = true, HelpText = "intersect | union | subtract.")]
        public SegmentOperation Operation { get; set; }
    }

    [Verb("chunk", HelpText = "Split science segments into job-sized chunks, keeping padding of real data around each.")]
    public sealed class ChunkOptions : OutputOptions
    {
        [Value(0, MetaName = "SEGMENTS", Required = true, HelpText = "Segment file.")]
        public string File { get; set; } = "";

        [Option("length", Required = true, HelpText = "Target chunk length in seconds.")]
        public string Length { get; set; } = "";

        [Option("min", Default = "0", HelpText = "Minimum chunk length in seconds; shorter remainders fold into the previous chunk, shorter segments are dropped.")]
        public string Minimum { get; set; } = "0";

        [Option("pad", Default = "0", HelpText = "Padding in seconds kept inside the segment before and after every chunk.")]
        public string Pad { get; set; } = "0";

        [Option("padded", HelpText = "Output the padded spans (what a job reads) instead of the chunks (what it owns).")]
        public bool Padded { get; set; }
    }

    [Verb("info", HelpText = "Print count, total duration and extent of a segment file.")]
    public sealed class InfoOptions : CommonOptions
    {
        [Value(0, MetaName = "SEGMENTS", Required = true, HelpText = "Segment file.")]
        public string File { get; set; } = "";
    }

    [Verb("convert", HelpText = "Rewrite a segment file in another layout (coalesced).")]
    public sealed class ConvertOptions : OutputOptions
    {
        [Value(0, MetaName = "SEGMENTS", Required = true, HelpText = "Segment file.")]
        public string File { get; set; } = "";
    }

    [Verb("coverage", HelpText = "Print the time a LAL frame cache covers (or, with --gaps, what it misses) as segments.")]
    public sealed class CoverageOptions : OutputOptions
    {
        [Value(0, MetaName = "CACHE", Required = true, HelpText = "LAL cache file (OBS TYPE GPSSTART DURATION URL lines).")]
        public string Cache { get; set; } = "";

        [Option("start", HelpText = "Start of the span of interest (GPS seconds or UTC); default the cache's first frame.")]
        public string? Start { get; set; }

        [Option("end", HelpText = "End of the span of interest (GPS seconds or UTC); default the cache's last frame end.")]
        public string? End { get; set; }

        [Option("gaps", HelpText = "Print the gaps (time in the span no file covers) instead of the coverage.")]
        public bool Gaps { get; set; }
    }

    public override Task<int> RunAsync(string[] args, CancellationToken cancellationToken) =>
        ArgumentParsing.RunVerbsAsync(Name, args,
            [typeof(CombineOptions), typeof(ChunkOptions), typeof(InfoOptions), typeof(ConvertOptions), typeof(CoverageOptions)],
            options => options switch
            {
                CombineOptions o => CombineAsync(o, cancellationToken),
                ChunkOptions o => ChunkAsync(o, cancellationToken),
                InfoOptions o => Task.FromResult(Info(o)),
                ConvertOptions o => EmitAsync(SegmentFile.Read(o.File).Coalesce(), o, cancellationToken),
                CoverageOptions o => CoverageAsync(o, cancellationToken),
                _ => throw new InvalidOperationException(),
            });

    private static Task<int> CombineAsync(CombineOptions o, CancellationToken ct)
    {
        var lists = o.Files.Select(SegmentFile.Read).ToList();
        return EmitAsync(SegmentCombination.Combine(o.Operation, lists), o, ct);
    }

    private static Task<int> ChunkAsync(ChunkOptions o, CancellationToken ct)
    {
        var length = Seconds(o.Length, "--length");
        var minimum = Seconds(o.Minimum, "--min");
        var pad = Seconds(o.Pad, "--pad");
        if (length <= GpsDuration.Zero) throw new BadInputException("--length must be a positive number of seconds");
        if (minimum > length) throw new BadInputException($"--min {minimum} is longer than --length {length}");
        var segments = SegmentFile.Read(o.File);
        var chunks = segments.Chunk(length, minimum, pad);
        var result = new SegmentList(chunks.Select(c => o.Padded ? c.Padded : c.Core));
        if (!o.Quiet)
        {
            var owned = new SegmentList(chunks.Select(c => c.Core)).TotalDuration;
            Console.Error.WriteLine($"{chunks.Count} chunk(s), {owned} s of data owned, {pad} s padding each side; " +
                                    $"{segments.Coalesce().TotalDuration - owned} s of segment time not owned (padding and short segments)");
        }
        return EmitAsync(result, o, ct);
    }

    private static Task<int> CoverageAsync(CoverageOptions o, CancellationToken ct)
    {
        var cache = GwReprocess.Frames.FrameCache.Read(o.Cache);
        var coverage = cache.Coverage();
        if (coverage.Extent is not Segment extent) throw new BadInputException($"{o.Cache}: the cache lists no frame files");
        var start = o.Start is null ? extent.Start : Time(o.Start, "--start");
        var end = o.End is null ? extent.End : Time(o.End, "--end");
        if (end <= start) throw new BadInputException($"--end {end} is not after --start {start}");
        var span = new Segment(start, end);
        var result = o.Gaps ? cache.Gaps(span) : coverage.Intersect(new SegmentList([span]));
        if (!o.Quiet)
            Console.Error.WriteLine($"{cache.Entries.Count} file(s); {span}: {coverage.Intersect(new SegmentList([span])).TotalDuration} s covered, {cache.Gaps(span).TotalDuration} s missing");
        return EmitAsync(result, o, ct);
    }

    private static GpsTime Time(string text, string option) =>
        GpsTime.TryParse(text, out var t) ? t : throw new BadInputException($"{option} '{text}' is neither GPS seconds nor a UTC time");

    private static int Info(InfoOptions o)
    {
        var flag = SegmentFile.ReadFlag(o.File);
        var active = flag.Active.Coalesce();
        Console.Out.WriteLine($"file:      {o.File}");
        if (flag.Name.Length > 0) Console.Out.WriteLine($"flag:      {flag.Name}");
        Console.Out.WriteLine($"segments:  {active.Count} (coalesced from {flag.Active.Count})");
        Console.Out.WriteLine($"duration:  {active.TotalDuration} s");
        if (active.Extent is Segment e)
            Console.Out.WriteLine($"extent:    {e} ({e.Start.ToUtcString()} to {e.End.ToUtcString()})");
        return ExitCodes.Success;
    }

    private static async Task<int> EmitAsync(SegmentList segments, OutputOptions o, CancellationToken ct)
    {
        var format = o.Format switch
        {
            OutputFormat.Plain => SegmentFileFormat.Plain,
            OutputFormat.Segwizard => SegmentFileFormat.Segwizard,
            OutputFormat.Json => SegmentFileFormat.Json,
            _ => o.Out is null ? SegmentFileFormat.Plain : SegmentFile.FormatForPath(o.Out),
        };
        if (o.Out is null) Console.Out.Write(SegmentFile.Format(segments, format));
        else await SegmentFile.WriteAsync(o.Out, segments, format, ct);
        return ExitCodes.Success;
    }

    private static GpsDuration Seconds(string text, string option) =>
        GpsDuration.TryParse(text, out var d) && d >= GpsDuration.Zero
            ? d
            : throw new BadInputException($"{option} '{text}' is not a non-negative number of seconds");
}
