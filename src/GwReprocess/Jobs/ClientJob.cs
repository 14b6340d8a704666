using System.Diagnostics;
using System.Runtime.ExceptionServices;
using GwReprocess.Cleaning;
using GwReprocess.Inference;
using GwReprocess.Storage;
using GwReprocess.Time;

namespace GwReprocess.Jobs;

/// <summary>
/// One client job: read frames → resample to 4096 Hz → standardise → snapshot updates → stream → place responses →
/// average noise windows → band-pass → subtract → cleaned GWF + scores HDF5 per output frame → checkpoint → done.
/// A strain-only workflow against a detection-only ensemble (<see cref="StreamContract.Detection"/>) streams the strains
/// alone and writes only the scores HDF5 per output span, checkpointed the same way.
/// </summary>
/// <remarks>
/// <para>Every output frame is a pure function of the data from its stream's start onwards, and the stream of a frame
/// starts at the same place relative to it whatever came before: streams start at the padded start plus a whole number
/// of updates, so restarts (resume, reconnect) reproduce the same windows in the same batch slots; the aggregated noise
/// of a sample only uses windows inside real data; the band-pass runs per frame over the frame plus <c>margin</c> on both
/// sides. So a restarted job writes byte-identical frames.</para>
/// <para>Each stream (<see cref="StreamAttempt"/>) runs its stages concurrently with bounded channels between them: update
/// production → sender → noise assembly → cleaned-frame writing. The in-flight window bounds what the server holds; the
/// channels bound memory.</para>
/// </remarks>
public sealed class ClientJob(ClientJobSettings settings, IClientJobReporter reporter)
{
    /// <summary>The processing rate.</summary>
    public const int Rate = 4096;

    /// <summary>Allowance for the resamplers' start-up (zeros before the first input): outputs this far into a stream no longer depend on where it started.</summary>
    public static readonly GpsDuration ResamplerSettling = GpsDuration.FromSeconds(1);

    private readonly ClientJobSettings _s = settings;
    private readonly string _prefix = BucketUri.AsPrefix(settings.OutputPrefix);

    /// <summary>The layout learned from the server (after <see cref="RunAsync"/> started streaming).</summary>
    public StreamLayout? Layout { get; private set; }

    /// <summary>The output frames (a detection-only job's score spans): the first detector's input file boundaries intersected with the job's core segment.</summary>
    public IReadOnlyList<Segment> OutputFrames()
    {
        var core = _s.Job.Core;
        var first = _s.Detectors[0];
        var frames = new SortedSet<Segment>();
        foreach (var e in first.Frames.Cache.Select(core))
        {
            var start = GpsTime.Max(e.Span.Start, core.Start);
            var end = GpsTime.Min(e.Span.End, core.End);
            if (end > start) frames.Add(new Segment(start, end));
        }
        var list = new List<Segment>();
        foreach (var f in frames)
        {
            // Overlapping files: keep the earlier file's span, as the frame source does.
            if (list.Count > 0 && f.Start < list[^1].End)
            {
                if (f.End <= list[^1].End) continue;
                list.Add(new Segment(list[^1].End, f.End));
            }
            else list.Add(f);
        }
        if (list.Count == 0) throw new BadInputException($"{first.Ifo}: no frame file covers the job's segment {core}");
        return list;
    }

    /// <summary>Runs the job to completion (or skips it when done); transient stream errors are retried from the last committed frame.</summary>
    public async Task<ClientJobResult> RunAsync(CancellationToken ct)
    {
        var wall = Stopwatch.StartNew();
        var checkpoint = new JobCheckpoint(_s.Output, _s.OutputPrefix, _s.Job.Name);
        if (await checkpoint.IsDoneAsync(ct).ConfigureAwait(false))
        {
            reporter.Info($"{_s.Job.Name}: already done ({_s.Output.UriOf(checkpoint.DoneKey)}); nothing to do");
            return new ClientJobResult(0, 0, 0, true, 0, 0);
        }
        var frames = OutputFrames();
        CheckInputs();
        var committed = (await checkpoint.CommittedAsync(ct).ConfigureAwait(false)).ToHashSet();
        var countedTo = FirstMissing(frames, committed) is int fm and >= 0 ? frames[fm].Start : _s.Job.Core.End;
        int skipped = frames.Count(committed.Contains);

        var metrics = new JobMetricsRecorder(_s.Output, $"{_prefix}metrics/{_s.Job.Name}.csv", _s.Job.Name, _s.Server)
        {
            OnSent = _s.OnSent,
            OnAnswered = _s.OnAnswered,
        };
        await metrics.LoadAsync(ct).ConfigureAwait(false);

        var reconnects = new ReconnectSchedule(_s, reporter);
        // Through the rendezvous as on a reconnect: a server that died since the address was first read (a retried job,
        // a server killed before this job connected) comes back at a new address, and the old one would be waited on in vain.
        var endpoint = await reconnects.ReconnectAsync(_s.Endpoint, ct).ConfigureAwait(false);
        var layout = await StreamLayout.DiscoverAsync(endpoint, _s.Model,
            _s.Detectors.Select(d => (d.Ifo, d.Strain, d.Witnesses, d.Ensemble)).ToList(), ct).ConfigureAwait(false);
        Layout = layout;
        string unit = layout.DetectionOnly ? "score span" : "frame";
        if (skipped > 0) reporter.Info($"{_s.Job.Name}: {skipped} of {frames.Count} {unit}(s) already committed; resuming");
        if (layout.HighpassMismatch(_s.Cleaning.WitnessHighpass) is { } mismatch) throw new BadInputException(mismatch);
        if (!layout.DetectionOnly && _s.Cleaning.WitnessHighpass is { } hp && (_s.Job.Core.Start - _s.Job.Padded.Start).TotalSeconds < hp.SettlingSeconds)
            reporter.Info($"note: the witness high-pass ({hp}) settles in {hp.SettlingSeconds:F1} s, more than the job's padding of {(_s.Job.Core.Start - _s.Job.Padded.Start).TotalSeconds} s: a resumed frame may differ from a first run's by more than float rounding");
        foreach (var note in layout.Notes) reporter.Info("note: " + note);
        var geometry = StreamGeometry.Check(_s, layout, frames);
        var band = new CleaningBand(_s.Cleaning.BandLow, _s.Cleaning.BandHigh);
        // Provenance goes into cleaned frames; a detection-only job writes none.
        IReadOnlyList<CleaningProvenance> provenance = layout.DetectionOnly ? []
            : await ModelProvenance.ResolveAsync(endpoint, layout, _s.Workflow, reporter.Info, ct).ConfigureAwait(false);
        if (layout.DetectionOnly) reporter.Info(DetectionLine(layout));
        var context = new StreamContext(_s, reporter, layout, geometry, frames, checkpoint, metrics,
            StartGate.For(_s, _prefix, metrics, reporter, ct), new ProcessedData(_s.Job.Core, countedTo, metrics),
            new StrainCleaner(band, Rate, geometry.Margin),
            new CleanedFrameWriter(_s.Output, _prefix, _s.FrameType, _s.ChannelSuffix, band), provenance, _prefix, wall);

        var metricsLoop = JobMetricsLoop.Start(metrics, _s.MetricsInterval, reporter.Info, ct);
        int written = 0;
        double dataSeconds = 0;
        try
        {
            while (FirstMissing(frames, committed) is int first and >= 0)
            {
                var outcome = await new StreamAttempt(context, endpoint, committed, first).RunAsync(ct).ConfigureAwait(false);
                written += outcome.FramesWritten;
                dataSeconds += outcome.DataSeconds;
                switch (outcome.Failure)
                {
                    case null:
                        break;
                    case InferenceStreamException { Transient: true } ise:
                        if (reconnects.Exhausted)
                            throw new ClientJobFailedException($"{_s.Job.Name}: giving up after {reconnects.Retries} retries: {ise.Message}", ise);
                        var delay = reconnects.Next();
                        metrics.Retry();
                        reporter.Info($"{_s.Job.Name}: stream error ({ise.Message}); retry {reconnects.Retries} of {reconnects.MaxRetries} in {delay.TotalSeconds:0.0#} s from {unit} {FirstMissing(frames, committed) + 1} of {frames.Count}");
                        await Task.Delay(delay, ct).ConfigureAwait(false);
                        endpoint = await reconnects.ReconnectAsync(endpoint, ct).ConfigureAwait(false);
                        break;
                    case var failure:
                        ExceptionDispatchInfo.Capture(failure).Throw();
                        break;
                }
            }
            // A job that found nothing left to stream still shows up at the barrier: the others count on it.
            context.Gate.Prime();
            await context.Gate.Opened.ConfigureAwait(false);
            await checkpoint.MarkDoneAsync(ct).ConfigureAwait(false);
        }
        finally
        {
            await metricsLoop.StopAsync().ConfigureAwait(false);
        }
        return new ClientJobResult(written, skipped, reconnects.Retries, false, wall.Elapsed.TotalSeconds, dataSeconds);
    }

    /// <summary>What a detection-only job streams and writes, in one line.</summary>
    internal static string DetectionLine(StreamLayout layout) => string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"strain-only: '{layout.Model}' is detection-only: streaming {string.Join(", ", layout.Detectors.Select(d => d.Strain))} unscaled at {Rate} Hz " +
        $"([1, {layout.Channels}, {layout.UpdateSamples}] per request), one score per {layout.Stride} samples on a {layout.ScoreWindow / (double)Rate:0.###} s window " +
        $"(snapshot {layout.Kernel / (double)Rate:0.###} s{(layout.ScoreDelay > 0 ? $", window ending {layout.ScoreDelay / (double)Rate:0.###} s before it" : "")}); writing scores only, no cleaned frames");

    private static int FirstMissing(IReadOnlyList<Segment> frames, HashSet<Segment> committed)
    {
        for (int i = 0; i < frames.Count; i++) if (!committed.Contains(frames[i])) return i;
        return -1;
    }

    private void CheckInputs()
    {
        foreach (var d in _s.Detectors)
        {
            var gaps = d.Frames.Cache.Gaps(_s.Job.Padded);
            if (gaps.Count > 0)
                throw new BadInputException($"{d.Ifo}: no frame file covers {string.Join(" ", gaps.Take(3))} of the job's padded span {_s.Job.Padded}");
        }
    }
}
