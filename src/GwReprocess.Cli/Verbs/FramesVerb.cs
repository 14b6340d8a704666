using GwReprocess.Dsp;
using System.Globalization;
using System.Text;
using System.Text.Json;
using CommandLine;
using GwReprocess.Data;
using GwReprocess.Frames;
using GwReprocess.Frames.Gwf;
using GwReprocess.Frames.Hdf5;
using GwReprocess.IO;
using GwReprocess.Time;

namespace GwReprocess.Cli.Verbs;

/// <summary><c>gwrepro frames</c>: inspect, export and verify frame files.</summary>
public sealed class FramesVerb : CliVerb
{
    public override string Name => "frames";
    public override string Summary => "Inspect, export and verify GWF / GWOSC HDF5 frame files.";

    public abstract class ReadOptions : CommonOptions
    {
        [Option("no-checksums", HelpText = "Do not check GWF structure CRCs while reading (for old files known to carry wrong checksums).")]
        public bool NoChecksums { get; set; }

        [Option("strict", HelpText = "Fail (exit 2) when a GWF structure the data does not depend on (dictionary FrSH/FrSE, FrHistory) fails its checksum; without it such a file is read with one warning line naming the file, structure and byte offset. Data structures failing their checksum are always errors.")]
        public bool Strict { get; set; }
    }

    [Verb("info", HelpText = "List a frame file's frames, GPS span and channels (rate, type, unit, compression).")]
    public sealed class InfoOptions : ReadOptions
    {
        [Value(0, MetaName = "FILE", Required = true, HelpText = "A .gwf file, or a GWOSC / gwpy .hdf5/.h5/.hdf file.")]
        public string File { get; set; } = "";

        [Option("json", HelpText = "Print JSON instead of a table.")]
        public bool Json { get; set; }
    }

    [Verb("export", HelpText = "Export channels over a GPS span to HDF5 (.h5), CSV (.csv) or GWF (.gwf, float64 FrProcData, one frame per input frame).")]
    public sealed class ExportOptions : ReadOptions
    {
        [Value(0, MetaName = "FILE|CACHE", Required = true, HelpText = "A frame file (.gwf, .hdf5, .h5, .hdf) or a LAL frame cache listing several.")]
        public string Input { get; set; } = "";

        [Option('c', "channel", Required = true, Separator = ',', HelpText = "Channel name(s), comma-separated, e.g. H1:GDS-CALIB_STRAIN.")]
        public IEnumerable<string> Channels { get; set; } = [];

        [Option("start", HelpText = "GPS start time in seconds (default: start of the data).")]
        public string? Start { get; set; }

        [Option("end", HelpText = "GPS end time in seconds, exclusive (default: end of the data).")]
        public string? End { get; set; }

        [Option('o', "out", Required = true, HelpText = "Output file; its extension (.h5/.hdf5, .csv, .gwf) picks the format. Written atomically.")]
        public string Out { get; set; } = "";

        [Option("fill", HelpText = "Fill gaps in the data with this value (e.g. 0 or nan) instead of failing.")]
        public string? Fill { get; set; }

        [Option("resample", HelpText = "Resample every channel to this rate in Hz (e.g. 4096) with scipy.signal.resample_poly's filter, over the whole span at once.")]
        public double? Resample { get; set; }
    }

    [Verb("verify", HelpText = "Check a frame file's structure, every checksum (structure, frame, file) and every vector's compression.")]
    public sealed class VerifyOptions : CommonOptions
    {
        [Value(0, MetaName = "FILE", Required = true, HelpText = "A .gwf file (or an HDF5 file, which is read completely).")]
        public string File { get; set; } = "";
    }

    public override Task<int> RunAsync(string[] args, CancellationToken cancellationToken) =>
        ArgumentParsing.RunVerbsAsync(Name, args,
            [typeof(InfoOptions), typeof(ExportOptions), typeof(VerifyOptions)],
            options => options switch
            {
                InfoOptions o => InfoAsync(o, cancellationToken),
                ExportOptions o => ExportAsync(o, cancellationToken),
                VerifyOptions o => VerifyAsync(o, cancellationToken),
                _ => throw new InvalidOperationException(),
            });

    private static bool IsHdf5(string path) =>
        path.EndsWith(".h5", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".hdf5", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".hdf", StringComparison.OrdinalIgnoreCase);

    private static GwfReadOptions GwfOptions(ReadOptions o) =>
        new() { VerifyChecksums = !o.NoChecksums, Strict = o.Strict, Warning = new ChecksumWarningPrinter("frames").Report };

    // ------------------------------------------------------------------ info

    private static async Task<int> InfoAsync(InfoOptions o, CancellationToken ct)
    {
        if (IsHdf5(o.File)) return await Hdf5InfoAsync(o, ct);
        await using var file = await GwfFile.OpenAsync(o.File, GwfOptions(o), ct);
        var channels = await file.GetChannelsAsync(ct);
        var details = file.Frames.Count > 0 ? await file.GetFrameDetailsAsync(0, ct) : null;
        if (o.Json)
        {
            using var stream = Console.OpenStandardOutput();
            using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
            w.WriteStartObject();
            w.WriteString("file", o.File);
            w.WriteString("format", "gwf");
            w.WriteNumber("version", file.Header.Version);
            w.WriteString("byte_order", file.Header.IsBigEndian ? "big" : "little");
            w.WriteString("library", file.Header.LibraryName);
            w.WriteBoolean("toc", file.HasTableOfContents);
            w.WriteNumber("bytes", file.Length);
            w.WriteNumber("gps_start", file.Span.Start.TotalSeconds);
            w.WriteNumber("gps_end", file.Span.End.TotalSeconds);
            w.WriteNumber("duration", file.Span.Duration.TotalSeconds);
            w.WriteStartArray("frames");
            foreach (var f in file.Frames)
            {
                w.WriteStartObject();
                w.WriteNumber("index", f.Index);
                w.WriteNumber("gps_start", f.Start.TotalSeconds);
                w.WriteNumber("duration", f.Duration.TotalSeconds);
                w.WriteNumber("run", f.Run);
                w.WriteNumber("frame", f.FrameNumber);
                w.WriteNumber("data_quality", f.DataQuality);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartArray("detectors");
            foreach (var d in details?.Detectors ?? [])
            {
                w.WriteStartObject();
                w.WriteString("name", d.Name);
                w.WriteString("prefix", d.Prefix);
                w.WriteNumber("longitude", d.Longitude);
                w.WriteNumber("latitude", d.Latitude);
                w.WriteNumber("elevation", d.Elevation);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartArray("channels");
            foreach (var c in channels)
            {
                w.WriteStartObject();
                w.WriteString("name", c.Name);
                w.WriteString("kind", c.Kind.ToString().ToLowerInvariant());
                w.WriteNumber("sample_rate", c.SampleRate);
                w.WriteString("type", c.Vector.Type.Describe());
                w.WriteString("unit", c.Unit);
                w.WriteString("compression", GwfVectorTypes.Describe(c.Vector.Compression));
                w.WriteNumber("compress_code", c.Vector.CompressCode);
                w.WriteNumber("samples_per_frame", c.Vector.NData);
                w.WriteNumber("time_offset", c.TimeOffset);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
            w.Flush();
            stream.Write("\n"u8);
            return ExitCodes.Success;
        }
        var outp = Console.Out;
        outp.WriteLine($"file:      {o.File}");
        outp.WriteLine($"format:    GWF v{file.Header.Version}, {(file.Header.IsBigEndian ? "big" : "little")}-endian, written by {file.Header.LibraryName}, {file.Length} bytes, {(file.HasTableOfContents ? "with" : "without")} TOC");
        outp.WriteLine($"frames:    {file.Frames.Count}, GPS {file.Span} ({file.Span.Duration} s, {file.Span.Start.ToUtcString()} UTC)");
        if (!o.Quiet)
            foreach (var f in file.Frames.Take(20))
                outp.WriteLine($"  frame {f.Index,-4} {f.Span}  run {f.Run}  frame {f.FrameNumber}  dq 0x{f.DataQuality:X}");
        if (file.Frames.Count > 20 && !o.Quiet) outp.WriteLine($"  ... {file.Frames.Count - 20} more");
        if (details is not null)
        {
            if (details.Name.Length > 0) outp.WriteLine($"name:      {details.Name}");
            foreach (var d in details.Detectors)
                outp.WriteLine($"detector:  {d.Name} ({(d.Prefix.Length > 0 ? d.Prefix : "no prefix")}), longitude {d.Longitude:F5} rad, latitude {d.Latitude:F5} rad, elevation {d.Elevation:F1} m");
            foreach (var h in details.History)
                outp.WriteLine($"history:   {h.Name}: {h.Comment.Trim()}");
        }
        outp.WriteLine($"channels:  {channels.Count}");
        int width = Math.Max(8, channels.Count == 0 ? 8 : channels.Max(c => c.Name.Length));
        outp.WriteLine($"  {"name".PadRight(width)}  kind  {"rate (Hz)",12}  {"type",-10}  {"compression",-22}  unit");
        foreach (var c in channels)
            outp.WriteLine($"  {c.Name.PadRight(width)}  {c.Kind.ToString().ToLowerInvariant(),-4}  {c.SampleRate.ToString("R", CultureInfo.InvariantCulture),12}  {c.Vector.Type.Describe(),-10}  {GwfVectorTypes.Describe(c.Vector.Compression) + $" ({c.Vector.CompressCode})",-22}  {c.Unit}");
        return ExitCodes.Success;
    }

    private static async Task<int> Hdf5InfoAsync(InfoOptions o, CancellationToken ct)
    {
        var h5 = await Hdf5TimeSeriesReader.ReadAsync(o.File, ct);
        if (o.Json)
        {
            using var stream = Console.OpenStandardOutput();
            using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
            w.WriteStartObject();
            w.WriteString("file", o.File);
            w.WriteString("format", "hdf5-" + h5.Layout.ToString().ToLowerInvariant());
            w.WriteStartArray("channels");
            foreach (var s in h5.Series)
            {
                w.WriteStartObject();
                w.WriteString("name", s.Channel.Value);
                w.WriteNumber("sample_rate", s.SampleRate.Hertz);
                w.WriteNumber("gps_start", s.T0.TotalSeconds);
                w.WriteNumber("duration", s.Duration.TotalSeconds);
                w.WriteString("type", "float64");
                w.WriteString("unit", s.Unit);
                w.WriteNumber("samples", s.Length);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartObject("meta");
            foreach (var (k, v) in h5.Meta) w.WriteString(k, v);
            w.WriteEndObject();
            w.WriteEndObject();
            w.Flush();
            stream.Write("\n"u8);
            return ExitCodes.Success;
        }
        Console.Out.WriteLine($"file:      {o.File}");
        Console.Out.WriteLine($"format:    HDF5, {h5.Layout} layout");
        foreach (var (k, v) in h5.Meta) Console.Out.WriteLine($"meta:      {k} = {v}");
        Console.Out.WriteLine($"channels:  {h5.Series.Count}");
        foreach (var s in h5.Series)
            Console.Out.WriteLine($"  {s.Channel.Value}  {s.SampleRate}  {s.Span}  {s.Length} samples  {s.Unit}");
        return ExitCodes.Success;
    }

    // ------------------------------------------------------------------ export

    private static async Task<int> ExportAsync(ExportOptions o, CancellationToken ct)
    {
        var channels = o.Channels.Select(c => c.Trim()).Where(c => c.Length > 0).ToList();
        if (channels.Count == 0) throw new BadInputException("--channel: give at least one channel name");
        foreach (var c in channels) ChannelName.Parse(c);
        string ext = Path.GetExtension(o.Out).ToLowerInvariant();
        if (ext is not (".h5" or ".hdf5" or ".hdf" or ".csv" or ".gwf"))
            throw new BadInputException($"--out {o.Out}: unknown output format '{ext}' (use .h5, .csv or .gwf)");
        double? fill = o.Fill is null ? null
            : double.TryParse(o.Fill, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v
            : throw new BadInputException($"--fill '{o.Fill}' is not a number");
        var sourceOptions = new FrameSourceOptions { Gwf = GwfOptions(o), FillGaps = fill.HasValue, FillValue = fill ?? 0 };
        var (source, span) = await FrameInput.OpenAsync(o.Input, o.Start, o.End, sourceOptions, ct);
        SampleRate? rate = null;
        if (o.Resample is double hz)
        {
            if (!(hz > 0) || !double.IsFinite(hz)) throw new BadInputException($"--resample {hz}: a rate must be a positive number of Hz");
            rate = new SampleRate(hz);
        }

        if (ext == ".gwf" && rate is SampleRate target)
        {
            // Resampling frame by frame would put filter edges at every frame boundary: resample the span whole,
            // then cut it back on the input's frame boundaries.
            var (whole, frameSpans) = await ReadWithFrameSpansAsync(source, channels, span, ct);
            var resampled = TimeSeriesSignal.ResampleAll(whole, target);
            await GwfWriter.WriteFileAsync(o.Out, GwfFrameData.Split(resampled, frameSpans).ToList(), cancellationToken: ct);
            Report(o, $"wrote {o.Out}: {frameSpans.Count} frame(s), {channels.Count} channel(s) resampled to {target}, GPS {span}");
            return ExitCodes.Success;
        }

        if (ext == ".gwf")
        {
            var frames = new List<GwfFrameData>();
            await foreach (var chunk in source.ReadChunksAsync(channels, span, ct))
                frames.Add(new GwfFrameData(chunk.Span.Start, chunk.Span.Duration,
                    chunk.Channels.Select(s => GwfChannelData.FromSeries(s, timeOffset: (s.T0 - chunk.Span.Start).TotalSeconds)).ToList()));
            var covered = new SegmentList(frames.Select(f => f.Span)).Coalesce();
            var gaps = covered.Complement(span);
            if (frames.Count == 0 || (gaps.Count > 0 && !fill.HasValue))
                throw new FrameGapException($"{string.Join(", ", channels)}: no data for {string.Join(" ", gaps)} of {span}", gaps);
            await GwfWriter.WriteFileAsync(o.Out, frames, cancellationToken: ct);
            Report(o, $"wrote {o.Out}: {frames.Count} frame(s), {channels.Count} channel(s), GPS {span}" + (gaps.Count > 0 ? $", gaps left out: {gaps}" : ""));
            return ExitCodes.Success;
        }

        var data = await source.ReadAsync(channels, span, ct);
        IReadOnlyList<TimeSeries> series = rate is SampleRate r ? TimeSeriesSignal.ResampleAll(data.Channels, r) : data.Channels;
        if (ext == ".csv") await WriteCsvAsync(o.Out, series, ct);
        else await Hdf5TimeSeriesWriter.WriteAsync(o.Out, series, cancellationToken: ct);
        Report(o, $"wrote {o.Out}: {channels.Count} channel(s){(rate is null ? "" : $" resampled to {rate}")}, GPS {span}" + (data.Gaps.Count > 0 ? $", gaps filled with {fill}: {data.Gaps}" : ""));
        return ExitCodes.Success;
    }

    /// <summary>The span's channels as whole series plus the input's frame boundaries, in one pass over the frames.</summary>
    private static async Task<(IReadOnlyList<TimeSeries> Series, List<Segment> Frames)> ReadWithFrameSpansAsync(
        FrameSource source, IReadOnlyList<string> channels, Segment span, CancellationToken ct)
    {
        var frames = new List<Segment>();
        var parts = channels.Select(_ => new List<TimeSeries>()).ToArray();
        await foreach (var chunk in source.ReadChunksAsync(channels, span, ct))
        {
            if (frames.Count > 0 && chunk.Span.Start != frames[^1].End)
                throw new FrameGapException($"{string.Join(", ", channels)}: no data for [{frames[^1].End}, {chunk.Span.Start})",
                    new SegmentList([new Segment(frames[^1].End, chunk.Span.Start)]));
            frames.Add(chunk.Span);
            for (int c = 0; c < channels.Count; c++) parts[c].Add(chunk.Channels[c]);
        }
        if (frames.Count == 0) throw new BadInputException($"{string.Join(", ", channels)}: no data in {span}");
        var series = new TimeSeries[channels.Count];
        for (int c = 0; c < channels.Count; c++)
        {
            var first = parts[c][0];
            var samples = new double[parts[c].Sum(p => p.Length)];
            int at = 0;
            foreach (var p in parts[c]) { p.Samples.Span.CopyTo(samples.AsSpan(at)); at += p.Length; }
            series[c] = new TimeSeries(first.Channel, first.T0, first.SampleRate, samples, first.Unit);
        }
        return (series, frames);
    }

    private static void Report(CommonOptions o, string text)
    {
        if (!o.Quiet) Console.Error.WriteLine(text);
    }


    private static Task WriteCsvAsync(string path, IReadOnlyList<TimeSeries> series, CancellationToken ct)
    {
        var first = series[0];
        foreach (var s in series)
            if (s.SampleRate != first.SampleRate || s.T0 != first.T0 || s.Length != first.Length)
                throw new BadInputException($"CSV output needs channels on one time grid: {s.Channel} ({s.SampleRate} from {s.T0}) differs from {first.Channel} ({first.SampleRate} from {first.T0}); use .h5");
        return AtomicFile.WriteAsync(path, async (stream, token) =>
        {
            await using var w = new StreamWriter(stream, new UTF8Encoding(false), 1 << 16, leaveOpen: true);
            var header = new StringBuilder("gps_time");
            foreach (var s in series) header.Append(',').Append(s.Channel.Value);
            await w.WriteLineAsync(header.ToString());
            var line = new StringBuilder();
            for (int i = 0; i < first.Length; i++)
            {
                line.Clear();
                line.Append(first.TimeAt(i).ToString());
                foreach (var s in series) line.Append(',').Append(s.Samples.Span[i].ToString("R", CultureInfo.InvariantCulture));
                await w.WriteLineAsync(line, token);
            }
        }, ct);
    }

    // ------------------------------------------------------------------ verify

    private static async Task<int> VerifyAsync(VerifyOptions o, CancellationToken ct)
    {
        if (IsHdf5(o.File))
        {
            var h5 = await Hdf5TimeSeriesReader.ReadAsync(o.File, ct);
            Console.Out.WriteLine($"{o.File}: OK (HDF5, {h5.Layout} layout, {h5.Series.Count} series read completely)");
            return ExitCodes.Success;
        }
        await using var file = await GwfFile.OpenAsync(o.File, new GwfReadOptions { VerifyChecksums = false }, ct);
        var result = await file.VerifyAsync(ct);
        string summary = $"{result.Structures} structures, {result.ChecksumsVerified} structure checksums, {result.FramesVerified} frame checksums, file checksum {(result.FileChecksumVerified ? "checked" : "absent")}";
        if (result.IsValid)
        {
            Console.Out.WriteLine($"{o.File}: OK ({summary})");
            return ExitCodes.Success;
        }
        foreach (var p in result.Problems.Skip(1).Take(20)) Console.Error.WriteLine($"  also: {p}");
        Console.Error.WriteLine($"gwrepro frames: {o.File}: {result.Problems.Count} problem(s); first: {result.Problems[0]} ({summary})");
        return ExitCodes.BadInput;
    }
}
