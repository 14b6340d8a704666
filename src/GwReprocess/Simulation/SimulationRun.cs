using System.Text.Json;
using GwReprocess.Frames;
using GwReprocess.Frames.Gwf;
using GwReprocess.IO;
using GwReprocess.Storage;
using GwReprocess.Time;

namespace GwReprocess.Simulation;

/// <summary>Where a simulation's files go: a small seam so a bucket can replace the local directory without touching the simulator.</summary>
public interface ISimulationOutput
{
    /// <summary>Writes <paramref name="name"/> (a relative path) atomically: it appears complete or not at all.</summary>
    Task WriteAsync(string name, Func<Stream, CancellationToken, Task> write, CancellationToken cancellationToken);

    /// <summary>The location of <paramref name="name"/> as a frame cache should list it (URL or path).</summary>
    string Locate(string name);
}

/// <summary>A local directory as simulation output (files committed by <see cref="AtomicFile"/>; caches list <c>file://localhost/abs/path</c>).</summary>
public sealed class DirectoryOutput(string directory) : ISimulationOutput
{
    public string Directory { get; } = Path.GetFullPath(directory);

    public Task WriteAsync(string name, Func<Stream, CancellationToken, Task> write, CancellationToken cancellationToken) =>
        AtomicFile.WriteAsync(Path.Combine(Directory, name), write, cancellationToken);

    public string Locate(string name) => "file://localhost" + Path.Combine(Directory, name);
}

/// <summary>A bucket prefix (s3://, gs://, file://) as simulation output: each file is staged locally, then written atomically.</summary>
/// <remarks>The GWF writer writes forward into a stream while object stores want a finished body, so a frame file is built in a
/// temporary local file (memory stays bounded whatever the frame size) and uploaded; a failed upload leaves nothing visible.</remarks>
public sealed class BucketOutput(IBucket bucket, string prefix) : ISimulationOutput
{
    private readonly string _prefix = BucketUri.AsPrefix(prefix);

    /// <summary>Where the files go, for messages.</summary>
    public string Location => bucket.UriOf(_prefix).ToString();

    public async Task WriteAsync(string name, Func<Stream, CancellationToken, Task> write, CancellationToken cancellationToken)
    {
        string staged = Path.Combine(Path.GetTempPath(), $"gwrepro-sim-{Guid.NewGuid():N}-{Path.GetFileName(name)}");
        try
        {
            await using (var file = new FileStream(staged, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20, FileOptions.Asynchronous))
                await write(file, cancellationToken).ConfigureAwait(false);
            await using var body = new FileStream(staged, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.Asynchronous);
            await bucket.WriteAsync(_prefix + name, body, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            File.Delete(staged);
        }
    }

    public string Locate(string name) => bucket.UriOf(_prefix + name).ToString();
}

/// <summary>One frame file the run wrote.</summary>
public sealed record SimulatedFile(string Ifo, string Name, Segment Span, string Location);

/// <summary>What a run wrote: frame files, per-detector caches and segment files, the injection table and the coupling truth.</summary>
public sealed record SimulationResult(IReadOnlyList<SimulatedFile> Files, IReadOnlyDictionary<string, string> Caches,
    IReadOnlyDictionary<string, string> SegmentFiles, IReadOnlyDictionary<string, SegmentList> Segments,
    string InjectionTable, IReadOnlyList<BbhInjection> Injections, IReadOnlyDictionary<string, CouplingTruth> Truth);

/// <summary>Progress of a run: simulated seconds done (summed over detectors) of the total; <see cref="FileWritten"/> when <see cref="File"/> was just committed.</summary>
public readonly record struct SimulationProgress(double SecondsDone, double SecondsTotal, string Ifo, string File, bool FileWritten = false);

/// <summary>
/// Writes a simulation: per detector, frame files <c>H-H1_SIM-GPS-DUR.gwf</c> (strain FrProcData float64 at 16384 Hz,
/// witnesses FrAdcData float64 at their native rates, frames of <see cref="SimulationOptions.FrameDuration"/> s),
/// a LAL cache <c>H1.lcf</c>, a segment file <c>H1-segments.txt</c>, plus <c>injections.csv</c> and <c>truth.json</c>.
/// </summary>
/// <remarks>Detectors run in parallel; each renders and writes one frame at a time, so memory stays at a few frames whatever the span.</remarks>
public static class SimulationRun
{
    /// <summary>File name of the coupling truth (JSON) in the output.</summary>
    public const string TruthFileName = "truth.json";

    /// <summary>The cache file name of a detector.</summary>
    public static string CacheName(string ifo) => $"{ifo}.lcf";

    /// <summary>The segment file name of a detector.</summary>
    public static string SegmentFileName(string ifo) => $"{ifo}-segments.txt";

    /// <summary>The spans of <paramref name="ifo"/> with data: the whole span minus <see cref="SimulationOptions.Gaps"/> keyed random gaps.</summary>
    public static SegmentList ScienceSegments(SimulationOptions options, string ifo)
    {
        var span = options.Span;
        if (options.Gaps == 0) return new SegmentList([span]);
        var g = StreamKey.FromSeed(options.Seed).Derive(ifo).Derive("gaps").Derive(options.Start.Seconds).Derive(options.Duration).CreateGenerator();
        var gaps = new List<Segment>();
        for (int i = 0; i < options.Gaps; i++)
        {
            // 10-300 s, but never more than a quarter of the span, so short runs keep data.
            long longest = Math.Max(1, Math.Min(300, options.Duration / 4));
            long length = Math.Min(longest, 10 + (long)(g.NextDouble() * 291));
            long at = options.Start.Seconds + (long)(g.NextDouble() * (options.Duration - length + 1));
            gaps.Add(new Segment(at, at + length));
        }
        return new SegmentList([span]).Subtract(new SegmentList(gaps).Coalesce());
    }

    /// <summary>File spans of <paramref name="ifo"/>: science segments cut at GPS multiples of the frame length.</summary>
    public static IReadOnlyList<Segment> FileSpans(SimulationOptions options, string ifo)
    {
        var spans = new List<Segment>();
        foreach (var s in ScienceSegments(options, ifo))
        {
            long t = s.Start.Seconds, end = s.End.Seconds;
            while (t < end)
            {
                long next = Math.Min(end, (t / options.FrameLength + 1) * options.FrameLength);
                spans.Add(new Segment(t, next));
                t = next;
            }
        }
        return spans;
    }

    /// <summary>Runs the simulation into <paramref name="output"/>.</summary>
    public static async Task<SimulationResult> RunAsync(SimulationOptions options, ISimulationOutput output,
        IProgress<SimulationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        options.Validate();
        double total = options.Ifos.Sum(ifo => ScienceSegments(options, ifo).TotalDuration.TotalSeconds);
        double done = 0;
        object gate = new();
        void Report(string ifo, string file, double seconds, bool written)
        {
            SimulationProgress p;
            lock (gate) { done += seconds; p = new SimulationProgress(done, total, ifo, file, written); }
            progress?.Report(p);
        }

        var perIfo = await Task.WhenAll(options.Ifos.Select(ifo => Task.Run(
            () => WriteDetectorAsync(options, ifo, output, Report, cancellationToken), cancellationToken))).ConfigureAwait(false);

        var files = perIfo.SelectMany(x => x.Files).ToList();
        var caches = new Dictionary<string, string>();
        var segmentFiles = new Dictionary<string, string>();
        var segments = new Dictionary<string, SegmentList>();
        var truth = new Dictionary<string, CouplingTruth>();
        for (int d = 0; d < options.Ifos.Count; d++)
        {
            string ifo = options.Ifos[d];
            var cache = new FrameCache(perIfo[d].Files.Select(f => new FrameCacheEntry(ifo[..1], $"{ifo}_{options.FrameType}", f.Span, f.Location)));
            await WriteTextAsync(output, CacheName(ifo), cache.Format(), cancellationToken).ConfigureAwait(false);
            caches[ifo] = output.Locate(CacheName(ifo));
            var science = ScienceSegments(options, ifo);
            await WriteTextAsync(output, SegmentFileName(ifo), SegmentFile.Format(science, SegmentFileFormat.Plain), cancellationToken).ConfigureAwait(false);
            segmentFiles[ifo] = output.Locate(SegmentFileName(ifo));
            segments[ifo] = science;
            truth[ifo] = perIfo[d].Truth;
        }

        // The table lists injections whose coalescence falls in data written for at least one detector.
        var schedule = new InjectionSchedule(StreamKey.FromSeed(options.Seed), options.Ifos, options.Injections);
        var all = segments.Values.Aggregate(SegmentList.Empty, (a, b) => a.Union(b));
        var injections = schedule.Within(options.Span).Where(i => all.Any(s => s.Contains(i.GeocentTime))).ToList();
        await WriteTextAsync(output, InjectionTable.FileName, InjectionTable.Format(options.Ifos, injections), cancellationToken).ConfigureAwait(false);
        await WriteTextAsync(output, TruthFileName, TruthJson(options, truth, perIfo.Select(p => p.Witnesses).ToList()), cancellationToken).ConfigureAwait(false);
        return new SimulationResult(files, caches, segmentFiles, segments, output.Locate(InjectionTable.FileName), injections, truth);
    }

    private sealed record DetectorResult(List<SimulatedFile> Files, CouplingTruth Truth, IReadOnlyList<WitnessChannel> Witnesses);

    private static async Task<DetectorResult> WriteDetectorAsync(SimulationOptions options, string ifo, ISimulationOutput output,
        Action<string, string, double, bool> report, CancellationToken ct)
    {
        var sim = new DetectorSimulator(options, ifo);
        var files = new List<SimulatedFile>();
        int maxSeconds = (int)Math.Min(options.FrameDuration, options.FrameLength);
        // One set of buffers for the whole run: the writer is done with a frame's samples when WriteFrameAsync returns.
        var strain = new double[maxSeconds * options.StrainRate];
        var witnesses = sim.Witnesses.Select(w => new double[maxSeconds * w.SampleRate]).ToArray();
        var gwf = new GwfWriteOptions { Compression = GwfCompression.Raw };
        foreach (var span in FileSpans(options, ifo))
        {
            string name = GwfWriter.FileName(ifo[..1], $"{ifo}_{options.FrameType}", span);
            await output.WriteAsync(name, async (stream, token) =>
            {
                var writer = new GwfWriter(stream, gwf);
                uint number = 0;
                for (long t = span.Start.Seconds; t < span.End.Seconds; t += options.FrameDuration)
                {
                    token.ThrowIfCancellationRequested();
                    int seconds = (int)Math.Min(options.FrameDuration, span.End.Seconds - t);
                    var channels = new GwfChannelData[1 + witnesses.Length];
                    var s = strain.AsMemory(0, seconds * options.StrainRate);
                    sim.RenderStrain(t, seconds, s.Span);
                    channels[0] = new GwfChannelData(sim.StrainChannel, GwfChannelKind.Proc, options.StrainRate, s) { Unit = "strain" };
                    for (int i = 0; i < witnesses.Length; i++)
                    {
                        var w = sim.Witnesses[i];
                        var m = witnesses[i].AsMemory(0, seconds * w.SampleRate);
                        sim.RenderWitness(i, t, seconds, m.Span);
                        channels[1 + i] = new GwfChannelData(w.Name, GwfChannelKind.Adc, w.SampleRate, m) { Unit = w.Unit };
                    }
                    var frame = new GwfFrameData(GpsTime.FromSeconds(t), GpsDuration.FromSeconds(seconds), channels)
                    { Name = "GwReprocess-simulation", FrameNumber = number++ };
                    await writer.WriteFrameAsync(frame, token).ConfigureAwait(false);
                    report(ifo, name, seconds, false);
                }
                await writer.CompleteAsync(token).ConfigureAwait(false);
            }, ct).ConfigureAwait(false);
            files.Add(new SimulatedFile(ifo, name, span, output.Locate(name)));
            report(ifo, name, 0, true);
        }
        return new DetectorResult(files, sim.Truth, sim.Witnesses);
    }

    private static Task WriteTextAsync(ISimulationOutput output, string name, string text, CancellationToken ct) =>
        output.WriteAsync(name, async (stream, token) =>
        {
            await using var w = new StreamWriter(stream, new System.Text.UTF8Encoding(false), 1 << 16, leaveOpen: true);
            await w.WriteAsync(text.AsMemory(), token).ConfigureAwait(false);
        }, ct);

    private static string TruthJson(SimulationOptions options, Dictionary<string, CouplingTruth> truth, List<IReadOnlyList<WitnessChannel>> witnesses)
    {
        var doc = new Dictionary<string, object>
        {
            ["seed"] = options.Seed,
            ["start"] = options.Start.Seconds,
            ["duration"] = options.Duration,
            ["strain_rate"] = options.StrainRate,
            ["design_curve"] = "GwReprocess.Simulation.DesignCurve (Ajith 2011 aLIGO fit + seismic wall)",
            ["waveform"] = Waveforms.Name(options.Injections.Waveform),
            ["approximant"] = Waveforms.Describe(options.Injections.Waveform),
        };
        var detectors = new Dictionary<string, object>();
        for (int d = 0; d < options.Ifos.Count; d++)
        {
            var t = truth[options.Ifos[d]];
            detectors[options.Ifos[d]] = new Dictionary<string, object>
            {
                ["strain"] = t.Strain,
                ["witnesses"] = witnesses[d].Select(w => new Dictionary<string, object> { ["name"] = w.Name, ["rate"] = w.SampleRate, ["role"] = w.Role.ToString().ToLowerInvariant() }).ToList(),
                ["linear"] = t.Linear.Select(l => new Dictionary<string, object> { ["witness"] = l.Witness, ["coefficient"] = l.Coefficient }).ToList(),
                ["bilinear"] = t.Bilinear.Select(b => new Dictionary<string, object>
                {
                    ["modulator"] = b.Modulator, ["mains"] = b.Mains, ["modulation_hz"] = b.ModulationFrequency,
                    ["line_hz"] = b.LineFrequency, ["coefficient"] = b.Coefficient,
                }).ToList(),
                ["lines_hz"] = t.Lines,
                ["sidebands_hz"] = t.Sidebands,
            };
        }
        doc["detectors"] = detectors;
        return JsonSerializer.Serialize(doc, new JsonSerializerOptions { WriteIndented = true }) + "\n";
    }
}
