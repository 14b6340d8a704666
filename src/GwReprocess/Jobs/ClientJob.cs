using System.Diagnostics;
using System.Threading.Channels;
using GwReprocess.Data;
using GwReprocess.Dsp;
using GwReprocess.Frames;
using GwReprocess.Frames.Gwf;
using GwReprocess.Frames.Hdf5;
using GwReprocess.Inference;
using GwReprocess.Storage;
using GwReprocess.Time;

namespace GwReprocess.Jobs;

/// <summary>How a client job ended.</summary>
/// <param name="FramesWritten">Output frames this run committed.</param>
/// <param name="FramesSkipped">Frames an earlier run had committed.</param>
/// <param name="Retries">Reconnects after transient stream errors.</param>
/// <param name="AlreadyDone">True when the done marker existed and nothing was run.</param>
/// <param name="WallSeconds">Wall time of this run.</param>
/// <param name="DataSeconds">Seconds of the job's segment streamed for the first time in this run.</param>
public sealed record ClientJobResult(int FramesWritten, int FramesSkipped, int Retries, bool AlreadyDone, double WallSeconds, double DataSeconds);

/// <summary>A client job failed for good (after its retries): exit 1 with <see cref="Exception.Message"/> as the reason.</summary>
public sealed class ClientJobFailedException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// One client job: read frames → resample to 4096 Hz → standardise → snapshot updates → stream → place responses →
/// average noise windows → band-pass → subtract → cleaned GWF + scores HDF5 per output frame → checkpoint → done.
/// </summary>
/// <remarks>
/// <para>Every output frame is a pure function of the data from its stream's start onwards, and the stream of a frame
/// starts at the same place relative to it whatever came before: streams start at the padded start plus a whole number
/// of updates, so restarts (resume, reconnect) reproduce the same windows in the same batch slots; the aggregated noise
/// of a sample only uses windows inside real data; the band-pass runs per frame over the frame plus <c>margin</c> on both
/// sides. So a restarted job writes byte-identical frames.</para>
/// <para>Stages run concurrently with bounded channels between them: reader+resampler+builder → sender → receiver
/// (response placer, aggregators) → writer. The in-flight window bounds what the server holds; the channels bound memory.</para>
/// </remarks>
public sealed class ClientJob(ClientJobSettings settings, IClientJobReporter reporter)
{
    /// <summary>The processing rate.</summary>
    public const int Rate = 4096;

    /// <summary>Allowance for the resamplers' start-up (zeros before the first input): outputs this far into a stream no longer depend on where it started.</summary>
    public static readonly GpsDuration ResamplerSettling = GpsDuration.FromSeconds(1);

    /// <summary>Length of the pieces frames are cut into before resampling, so memory stays small whatever the frame length.</summary>
    private static readonly GpsDuration Piece = GpsDuration.FromSeconds(16);

    private readonly ClientJobSettings _s = settings;
    private readonly string _prefix = BucketUri.AsPrefix(settings.OutputPrefix);
    private InferenceEndpoint _endpoint = settings.Endpoint;
    private GpsTime _counted;  // data up to here has been counted as processed (once, across retries)

    /// <summary>The layout learned from the server (after <see cref="RunAsync"/> started streaming).</summary>
    public StreamLayout? Layout { get; private set; }

    /// <summary>The output frames: the first detector's input file boundaries intersected with the job's core segment.</summary>
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
        _counted = FirstMissing(frames, committed) is int fm and >= 0 ? frames[fm].Start : _s.Job.Core.End;
        int skipped = frames.Count(committed.Contains);
        if (skipped > 0) reporter.Info($"{_s.Job.Name}: {skipped} of {frames.Count} frame(s) already committed; resuming");

        var metrics = new JobMetricsRecorder(_s.Output, $"{_prefix}metrics/{_s.Job.Name}.csv", _s.Job.Name, _s.Server);
        await metrics.LoadAsync(ct).ConfigureAwait(false);

        await ServerReadiness.WaitAsync(_endpoint, _s.Model, _s.ReadyDeadline, new LineProgress(reporter.Info), ct).ConfigureAwait(false);
        var layout = await StreamLayout.DiscoverAsync(_endpoint, _s.Model,
            _s.Detectors.Select(d => (d.Ifo, d.Strain, d.Witnesses)).ToList(), ct).ConfigureAwait(false);
        Layout = layout;
        foreach (var note in layout.Notes) reporter.Info("note: " + note);
        var geometry = Geometry.Check(_s, layout, frames);

        // Ready means ready to send: the first stream reads, resamples and builds its first update, then the job joins the
        // barrier, and only the sender waits for the start; after it nothing but sending remains, so the clients begin together.
        var primed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var startGate = _s.Barrier is { } policy
            ? JoinBarrierAsync(primed.Task, new ReadinessBarrier(_s.Output, _prefix + "rendezvous", _s.Job.Name, policy), metrics, ct)
            : Task.CompletedTask;

        using var metricsStop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var metricsLoop = MetricsLoopAsync(metrics, metricsStop.Token);
        int written = 0, retries = 0;
        double dataSeconds = 0;
        try
        {
            while (true)
            {
                int first = FirstMissing(frames, committed);
                if (first < 0) break;
                try
                {
                    var run = new StreamRun(this, layout, geometry, frames, committed, first, checkpoint, metrics, wall, primed, startGate);
                    await run.RunAsync(ct).ConfigureAwait(false);
                    written += run.FramesWritten;
                    dataSeconds += run.DataSeconds;
                }
                catch (StreamRunException e) when (e.InnerException is InferenceStreamException { Transient: true } ise && !ct.IsCancellationRequested)
                {
                    written += e.FramesWritten;
                    dataSeconds += e.DataSeconds;
                    if (retries >= _s.Retries)
                        throw new ClientJobFailedException($"{_s.Job.Name}: giving up after {retries} retries: {ise.Message}", ise);
                    retries++;
                    metrics.Retry();
                    var delay = TimeSpan.FromTicks(Math.Min(_s.Backoff.Ticks << Math.Min(retries - 1, 10), TimeSpan.FromSeconds(30).Ticks));
                    reporter.Info($"{_s.Job.Name}: stream error ({ise.Message}); retry {retries} of {_s.Retries} in {delay.TotalSeconds:0.#} s from frame {FirstMissing(frames, committed) + 1} of {frames.Count}");
                    await Task.Delay(delay, ct).ConfigureAwait(false);
                    await ReconnectAsync(ct).ConfigureAwait(false);
                }
                catch (StreamRunException e)
                {
                    System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException!).Throw();
                }
            }
            // A job that found nothing left to stream still shows up at the barrier: the others count on it.
            primed.TrySetResult();
            await startGate.ConfigureAwait(false);
            await checkpoint.MarkDoneAsync(ct).ConfigureAwait(false);
        }
        finally
        {
            metricsStop.Cancel();
            try { await metricsLoop.ConfigureAwait(false); } catch (OperationCanceledException) { }
            try { await metrics.FlushAsync(CancellationToken.None).ConfigureAwait(false); }
            catch (Exception e) when (e is IOException or BadInputException) { reporter.Info($"warning: metrics not written: {e.Message}"); }
        }
        return new ClientJobResult(written, skipped, retries, false, wall.Elapsed.TotalSeconds, dataSeconds);
    }

    /// <summary>Before a retry: look the server up again (a restarted server node may publish a new address), and wait until it is ready.</summary>
    private async Task ReconnectAsync(CancellationToken ct)
    {
        if (_s.ResolveAddress is not { } resolve)
        {
            await ServerReadiness.WaitAsync(_endpoint, _s.Model, _s.ReadyDeadline, new LineProgress(reporter.Info), ct).ConfigureAwait(false);
            return;
        }
        // A server that died leaves its old address behind until its replacement publishes a new one: probe briefly, look again.
        var clock = Stopwatch.StartNew();
        while (true)
        {
            string address = await resolve(ct).ConfigureAwait(false);
            if (address != _endpoint.Address) reporter.Info($"server {_s.Server} is now at {address}");
            _endpoint = _endpoint with { Address = address };
            var left = _s.ReadyDeadline - clock.Elapsed;
            try
            {
                await ServerReadiness.WaitAsync(_endpoint, _s.Model, left < TimeSpan.FromSeconds(5) ? left : TimeSpan.FromSeconds(5), new LineProgress(reporter.Info), ct).ConfigureAwait(false);
                return;
            }
            catch (TimeoutException) when (clock.Elapsed < _s.ReadyDeadline)
            {
            }
        }
    }

    private async Task JoinBarrierAsync(Task primed, ReadinessBarrier barrier, JobMetricsRecorder metrics, CancellationToken ct)
    {
        await primed.WaitAsync(ct).ConfigureAwait(false);
        var joined = await barrier.JoinAsync(ct).ConfigureAwait(false);
        metrics.BarrierWait(joined.Waited);
        reporter.Info($"{_s.Job.Name}: start barrier passed after {joined.Waited.TotalSeconds:F1} s: {joined.Reason}");
    }

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

    private async Task MetricsLoopAsync(JobMetricsRecorder metrics, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            await Task.Delay(_s.MetricsInterval, ct).ConfigureAwait(false);
            try { await metrics.FlushAsync(ct).ConfigureAwait(false); }
            catch (Exception e) when (e is IOException or BadInputException) { reporter.Info($"warning: metrics not written: {e.Message}"); }
        }
    }

    private sealed class LineProgress(Action<string> line) : IProgress<string>
    {
        public void Report(string value) => line(value);
    }

    /// <summary>The sample arithmetic of a job: K, stride, update, margins, in samples at 4096 Hz, checked against the padding.</summary>
    internal sealed record Geometry(int Kernel, int Stride, int Update, int Margin, int Settling, AggregationOptions Aggregation, SecondOrderSections Band)
    {
        public static Geometry Check(ClientJobSettings s, StreamLayout layout, IReadOnlyList<Segment> frames)
        {
            int margin = Samples(s.Cleaning.Margin, "cleaning.margin");
            int settling = Samples(ResamplerSettling, "settling");
            int edge = Samples(s.Cleaning.Edge, "cleaning.edge");
            int? causal = s.Cleaning.CausalLatency is { } c ? Samples(c, "cleaning.causal_latency") : null;
            var aggregation = new AggregationOptions(layout.Kernel, layout.Stride, causal is null ? edge : 0, causal);
            try { aggregation.Validate(); }
            catch (ArgumentOutOfRangeException e) { throw new BadInputException($"[cleaning] {(causal is null ? "edge" : "causal_latency")}: {e.Message.Split('\n')[0].Split(" (Parameter")[0]}"); }

            double k = layout.Kernel / (double)Rate;
            var before = s.Job.Core.Start - s.Job.Padded.Start;
            var after = s.Job.Padded.End - s.Job.Core.End;
            if (before.TotalSeconds < k)
                throw new BadInputException($"{s.Job.Name}: padding {before} s is shorter than the model's window K/fs = {k:0.###} s: the first outputs would come from the snapshotter's zero-filled warm-up");
            double needBefore = k + s.Cleaning.Margin.TotalSeconds + ResamplerSettling.TotalSeconds;
            if (before.TotalSeconds < needBefore)
                throw new BadInputException($"{s.Job.Name}: padding {before} s is too short: it must hold the window K/fs = {k:0.###} s + the band-pass margin {s.Cleaning.Margin} s + {ResamplerSettling} s resampler settling = {needBefore:0.###} s");
            double needAfter = k + s.Cleaning.Margin.TotalSeconds + ResamplerSettling.TotalSeconds + layout.UpdateSamples / (double)Rate;
            if (after.TotalSeconds < needAfter)
                throw new BadInputException($"{s.Job.Name}: padding after the segment {after} s is too short: it must hold the window, the band-pass margin, the resampler settling and one update = {needAfter:0.###} s");
            foreach (var f in frames)
            {
                long offset = SamplesBetween(s.Job.Padded.Start, f.Start);
                if (offset % layout.Stride != 0 || SamplesBetween(f.Start, f.End) % layout.Stride != 0)
                    throw new BadInputException($"{s.Job.Name}: output frame {f} does not start and end on the {layout.Stride}-sample window grid of the stream started at {s.Job.Padded.Start}");
            }
            if (layout.UpdateSamples % 8 != 0)
                throw new BadInputException($"model '{layout.Model}': an update of {layout.UpdateSamples} samples is not a whole number of nanoseconds at 4096 Hz");
            return new Geometry(layout.Kernel, layout.Stride, layout.UpdateSamples, margin, settling, aggregation,
                Butterworth.Bandpass(8, s.Cleaning.BandLow, s.Cleaning.BandHigh, Rate));
        }

        private static int Samples(GpsDuration d, string what)
        {
            long ns = d.TotalNanoseconds * Rate;
            if (ns % 1_000_000_000 != 0) throw new BadInputException($"{what}: {d} s is not a whole number of samples at {Rate} Hz");
            return checked((int)(ns / 1_000_000_000));
        }
    }

    /// <summary>Samples at 4096 Hz from <paramref name="from"/> to <paramref name="to"/>; the interval must be a whole number of samples.</summary>
    internal static long SamplesBetween(GpsTime from, GpsTime to)
    {
        long ns = (to - from).TotalNanoseconds;
        long q = Math.DivRem(checked(ns * Rate), 1_000_000_000L, out long r);
        if (r != 0) throw new BadInputException($"[{from}, {to}) is not a whole number of samples at {Rate} Hz");
        return q;
    }

    /// <summary>The time <paramref name="samples"/> samples after <paramref name="origin"/>.</summary>
    internal static GpsTime After(GpsTime origin, long samples) => origin + TimeSeries.DurationOf(samples, SampleRate.Processing);

    /// <summary>A stream attempt's failure, carrying what it committed before failing.</summary>
    private sealed class StreamRunException(Exception inner, int framesWritten, double dataSeconds) : Exception(inner.Message, inner)
    {
        public int FramesWritten { get; } = framesWritten;
        public double DataSeconds { get; } = dataSeconds;
    }

    /// <summary>One sequence on the server: from the update grid point at or before (first missing frame − padding) to the padded end.</summary>
    private sealed class StreamRun
    {
        private readonly ClientJob _job;
        private readonly ClientJobSettings _s;
        private readonly StreamLayout _layout;
        private readonly Geometry _g;
        private readonly IReadOnlyList<Segment> _frames;
        private readonly HashSet<Segment> _committed;
        private readonly int _firstFrame;
        private readonly JobCheckpoint _checkpoint;
        private readonly JobMetricsRecorder _metrics;
        private readonly Stopwatch _wall;
        private readonly TaskCompletionSource _primed; // set when the first update is built (joins the barrier)
        private readonly Task _startGate;         // the start barrier: the sender waits for it, the reader does not
        private readonly GpsTime _start;          // stream sample 0
        private readonly long _updates;           // N
        private readonly SampleStore[] _strain, _noise;
        private readonly SampleStore _scores = new();
        private readonly CancellationTokenSource _cts = new();
        private Exception? _failure;

        public int FramesWritten { get; private set; }
        public double DataSeconds { get; private set; }

        public StreamRun(ClientJob job, StreamLayout layout, Geometry g, IReadOnlyList<Segment> frames, HashSet<Segment> committed, int firstFrame,
            JobCheckpoint checkpoint, JobMetricsRecorder metrics, Stopwatch wall, TaskCompletionSource primed, Task startGate)
        {
            _job = job;
            _s = job._s;
            _layout = layout;
            _g = g;
            _frames = frames;
            _committed = committed;
            _firstFrame = firstFrame;
            _checkpoint = checkpoint;
            _metrics = metrics;
            _wall = wall;
            _primed = primed;
            _startGate = startGate;
            var padded = _s.Job.Padded;
            var padding = _s.Job.Core.Start - padded.Start;
            // Start on the padded start's update grid, at least `padding` before the first missing frame.
            long want = SamplesBetween(padded.Start, frames[firstFrame].Start - padding);
            long startIndex = Math.Max(0, want / g.Update * g.Update);
            _start = After(padded.Start, startIndex);
            _updates = (SamplesBetween(_start, padded.End) - g.Settling) / g.Update;
            _strain = _s.Detectors.Select(_ => new SampleStore()).ToArray();
            _noise = _s.Detectors.Select(_ => new SampleStore()).ToArray();
        }

        private long Index(GpsTime t) => SamplesBetween(_start, t);

        public async Task RunAsync(CancellationToken ct)
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, _cts.Token);
            var token = linked.Token;
            var updates = Channel.CreateBounded<SnapshotUpdate>(new BoundedChannelOptions(4) { SingleReader = true, SingleWriter = true });
            var ready = Channel.CreateBounded<int>(new BoundedChannelOptions(2) { SingleReader = true, SingleWriter = true });
            InferenceStream? stream = null;
            try
            {
                stream = await InferenceStream.OpenAsync(new InferenceStreamOptions(_job._endpoint, _layout.Model, _layout.InputName,
                    _layout.OutputNames, _s.Job.SequenceId, _s.MaxInFlight), token).ConfigureAwait(false);
                _metrics.Attach(stream);
                var tasks = new[]
                {
                    Stage(() => ReadAndBuildAsync(updates.Writer, token)),
                    Stage(() => SendAsync(stream, updates.Reader, token)),
                    Stage(() => ReceiveAsync(stream, ready.Writer, token)),
                    Stage(() => WriteAsync(ready.Reader, token, ct)),
                };
                try { await Task.WhenAll(tasks).ConfigureAwait(false); }
                catch (Exception) when (_failure is not null || ct.IsCancellationRequested) { }
            }
            catch (InferenceStreamException e)
            {
                Fail(e);
            }
            finally
            {
                while (updates.Reader.TryRead(out var u)) u.Dispose();
                if (stream is not null)
                {
                    _metrics.Detach(stream);
                    try { await stream.DisposeAsync().ConfigureAwait(false); } catch (Exception) { /* the stream is gone either way */ }
                }
            }
            ct.ThrowIfCancellationRequested();
            if (_failure is not null) throw new StreamRunException(_failure, FramesWritten, DataSeconds);
        }

        private async Task Stage(Func<Task> body)
        {
            try { await body().ConfigureAwait(false); }
            catch (OperationCanceledException) when (_cts.IsCancellationRequested) { }
            catch (Exception e)
            {
                Fail(e);
                throw;
            }
        }

        private void Fail(Exception e)
        {
            Interlocked.CompareExchange(ref _failure, e, null);
            try { _cts.Cancel(); } catch (ObjectDisposedException) { }
        }

        // ---- reader: frames → pieces → resampled, standardised → updates --------------------------------------------

        private async Task ReadAndBuildAsync(ChannelWriter<SnapshotUpdate> output, CancellationToken ct)
        {
            var dets = _s.Detectors;
            int d0 = dets.Count;
            var builder = new UpdateBuilder(_layout.Scaling, _g.Update);
            var witnessOffset = new int[d0];
            for (int d = 1; d < d0; d++) witnessOffset[d] = witnessOffset[d - 1] + dets[d - 1].Witnesses.Count;
            int strainOffset = dets.Sum(d => d.Witnesses.Count);
            var span = new Segment(_start, _s.Job.Padded.End);
            var readers = dets.Select(d => d.Frames.ReadChunksAsync([.. d.Witnesses.Select(w => w.Value), d.Strain.Value], span, ct).GetAsyncEnumerator(ct)).ToArray();
            var resamplers = new MultiChannelResampler?[d0];
            var current = new FrameChunk?[d0];
            var cursor = Enumerable.Repeat(_start, d0).ToArray();
            var finished = new bool[d0];
            long produced = 0;
            try
            {
                void Append(int d, double[][] outs)
                {
                    int w = dets[d].Witnesses.Count;
                    for (int c = 0; c < w; c++) builder.Append(witnessOffset[d] + c, outs[c]);
                    builder.Append(strainOffset + d, outs[w]);
                    _strain[d].Append(outs[w]);
                }

                while (produced < _updates)
                {
                    int d = -1;
                    for (int i = 0; i < d0; i++)
                        if (!finished[i] && (d < 0 || cursor[i] < cursor[d])) d = i;
                    if (d < 0) break;
                    if (current[d] is null || cursor[d] >= current[d]!.Span.End)
                    {
                        if (!await readers[d].MoveNextAsync().ConfigureAwait(false))
                        {
                            finished[d] = true;
                            if (resamplers[d] is { } r) Append(d, r.Flush());
                            continue;
                        }
                        var chunk = readers[d].Current;
                        if (chunk.Span.Start != cursor[d])
                            throw new BadInputException($"{dets[d].Ifo}: no data for [{cursor[d]}, {chunk.Span.Start}) (next file {chunk.Location})");
                        resamplers[d] ??= CreateResampler(dets[d], chunk);
                        current[d] = chunk;
                    }
                    var piece = new Segment(cursor[d], GpsTime.Min(cursor[d] + Piece, current[d]!.Span.End));
                    Append(d, resamplers[d]!.Process(Slice(current[d]!, piece)));
                    cursor[d] = piece.End;
                    while (produced < _updates && builder.TryTake() is { } u)
                    {
                        await output.WriteAsync(u, ct).ConfigureAwait(false);
                        produced++;
                    }
                }
                if (produced < _updates)
                    throw new BadInputException($"{string.Join(", ", dets.Select(x => x.Ifo))}: frames end before the job's padded end {_s.Job.Padded.End} ({produced} of {_updates} updates)");
            }
            finally
            {
                foreach (var r in readers) await r.DisposeAsync().ConfigureAwait(false);
            }
            output.Complete();
        }

        private static MultiChannelResampler CreateResampler(DetectorInput d, FrameChunk chunk)
        {
            var rates = new List<(string, SampleRate)>();
            foreach (var series in chunk.Channels)
            {
                var filter = ResamplingFilter.ForRates(series.SampleRate, SampleRate.Processing, series.Channel.Value);
                if (!filter.IsIdentity && filter.HalfLength / (double)filter.Up / series.SampleRate.Hertz > ResamplerSettling.TotalSeconds)
                    throw new BadInputException($"{series.Channel}: at {series.SampleRate} its resampling filter reaches further than the {ResamplerSettling} s settling allowance");
                rates.Add((series.Channel.Value, series.SampleRate));
            }
            return MultiChannelResampler.ForRates(rates, SampleRate.Processing, Math.Max(1, Environment.ProcessorCount));
        }

        private static ReadOnlyMemory<double>[] Slice(FrameChunk chunk, Segment piece)
        {
            var result = new ReadOnlyMemory<double>[chunk.Channels.Count];
            for (int c = 0; c < result.Length; c++)
            {
                var s = chunk.Channels[c];
                long from = s.IndexOf(piece.Start), to = s.IndexOf(piece.End);
                if (from < 0 || to > s.Length) throw new BadInputException($"{s.Channel}: {chunk.Location} holds {s.Span}, not all of {piece}");
                var samples = s.Samples.Slice((int)from, (int)(to - from));
                foreach (double x in samples.Span)
                    if (!double.IsFinite(x))
                        throw new BadInputException($"{s.Channel}: non-finite sample in {piece} ({chunk.Location})");
                result[c] = samples;
            }
            return result;
        }

        // ---- sender ------------------------------------------------------------------------------------------------

        private async Task SendAsync(InferenceStream stream, ChannelReader<SnapshotUpdate> updates, CancellationToken ct)
        {
            if (!_startGate.IsCompleted)
            {
                await updates.WaitToReadAsync(ct).ConfigureAwait(false);
                _primed.TrySetResult();
                await _startGate.WaitAsync(ct).ConfigureAwait(false);
            }
            await foreach (var u in updates.ReadAllAsync(ct).ConfigureAwait(false))
            {
                using (u)
                {
                    await stream.SendAsync(u.Index, u.Memory, u.Channels, u.Samples, u.Index == 0, u.Index == _updates - 1, ct).ConfigureAwait(false);
                }
                _metrics.RequestSent();
            }
        }

        // ---- receiver: responses in order → aggregators, scores → frames ready -----------------------------------

        private async Task ReceiveAsync(InferenceStream stream, ChannelWriter<int> ready, CancellationToken ct)
        {
            var placer = new ResponsePlacer<InferenceResult>(_s.MaxInFlight + 1);
            var aggregators = _s.Detectors.Select(_ => new NoiseAggregator(_g.Aggregation)).ToArray();
            var scratch = new double[_g.Update + 2 * _g.Kernel];
            int next = _firstFrame;
            int b = _layout.Batch, k = _layout.Kernel;

            async Task ReleaseReadyAsync()
            {
                while (next < _frames.Count)
                {
                    if (_committed.Contains(_frames[next])) { next++; continue; }
                    long end = Index(_frames[next].End);
                    if (_noise.Any(n => n.End < end + _g.Margin) || _scores.End < end / _g.Stride) return;
                    await ready.WriteAsync(next++, ct).ConfigureAwait(false);
                }
            }

            void Drain(int d, bool all)
            {
                while (true)
                {
                    int n = all ? aggregators[d].DrainAll(scratch) : aggregators[d].Drain(scratch);
                    if (n == 0) return;
                    _noise[d].Append(scratch.AsSpan(0, n));
                }
            }

            await foreach (var r in stream.ReadAllAsync(ct).ConfigureAwait(false))
            {
                _metrics.Answered(r.RoundTrip);
                placer.Add(r.RequestId, r);
                while (placer.TryTake(out var x))
                {
                    for (int d = 0; d < _s.Detectors.Count; d++)
                    {
                        var noise = Output(x, _layout.Detectors[d].NoiseOutput, b * k);
                        for (int i = 0; i < b; i++) aggregators[d].Add(x.RequestId * b + i, noise.AsSpan(i * k, k));
                        Drain(d, false);
                    }
                    if (_layout.ScoreOutput is { } so)
                    {
                        var scores = Output(x, so, b);
                        var asDouble = new double[b];
                        for (int i = 0; i < b; i++) asDouble[i] = scores[i];
                        _scores.Append(asDouble);
                    }
                    else _scores.Append(new double[b]);
                    CountData(x.RequestId);
                    if (x.RequestId == _updates - 1)
                        for (int d = 0; d < _s.Detectors.Count; d++) Drain(d, true);
                    await ReleaseReadyAsync().ConfigureAwait(false);
                }
                if (placer.Next == _updates) break;
            }
            if (placer.Next < _updates)
                throw new InferenceStreamException($"{_job._endpoint.Address}: the stream ended after {placer.Next} of {_updates} responses", true);
            if (next < _frames.Count && _frames.Skip(next).Any(f => !_committed.Contains(f)))
                throw new InvalidOperationException($"frames from {_frames[next]} were never covered by the stream (internal error)");
            ready.Complete();
        }

        private float[] Output(InferenceResult r, string name, int expected)
        {
            if (!r.Outputs.TryGetValue(name, out var v))
                throw new InferenceStreamException($"{_job._endpoint.Address}: response {r.RequestId} has no output '{name}'", false);
            if (v.Length != expected)
                throw new InferenceStreamException($"{_job._endpoint.Address}: output '{name}' of response {r.RequestId} has {v.Length} values, expected {expected}", false);
            return v;
        }

        private void CountData(long requestId)
        {
            var answered = After(_start, (requestId + 1) * _g.Update);
            var end = GpsTime.Min(answered, _s.Job.Core.End);
            if (end <= _job._counted) return;
            var from = GpsTime.Max(_job._counted, _s.Job.Core.Start);
            if (end > from)
            {
                _metrics.Data(from.TotalSeconds, end.TotalSeconds);
                DataSeconds += (end - from).TotalSeconds;
            }
            _job._counted = end;
        }

        // ---- writer: band-pass, subtract, write, commit -------------------------------------------------------------

        /// <remarks>
        /// A frame once started is finished and committed even when another stage fails meanwhile (only the job's own
        /// cancellation stops it): its inputs are all in memory, and a bad frame later in the stream must not cost it.
        /// </remarks>
        private async Task WriteAsync(ChannelReader<int> ready, CancellationToken ct, CancellationToken jobCancellation)
        {
            await foreach (int i in ready.ReadAllAsync(ct).ConfigureAwait(false))
            {
                var frame = _frames[i];
                await WriteFrameAsync(frame, jobCancellation).ConfigureAwait(false);
                await _checkpoint.MarkCommittedAsync(frame, jobCancellation).ConfigureAwait(false);
                _committed.Add(frame);
                FramesWritten++;
                double processed = (frame.End - _frames[_firstFrame].Start).TotalSeconds;
                _job.Reporter.FrameCommitted(frame, i, _frames.Count, processed / Math.Max(1e-9, _wall.Elapsed.TotalSeconds));
                long keepFrom = (i + 1 < _frames.Count ? Index(_frames[i + 1].Start) : Index(frame.End)) - _g.Margin;
                foreach (var n in _noise) n.DropBefore(keepFrom);
                foreach (var s in _strain) s.DropBefore(keepFrom);
                _scores.DropBefore(Math.Max(0, keepFrom) / _g.Stride);
            }
        }

        private async Task WriteFrameAsync(Segment frame, CancellationToken ct)
        {
            long a = Index(frame.Start), z = Index(frame.End);
            int m = _g.Margin;
            for (int d = 0; d < _s.Detectors.Count; d++)
            {
                var det = _s.Detectors[d];
                var noise = _noise[d].Copy(a - m, z + m);
                for (int i = 0; i < noise.Length; i++)
                    if (double.IsNaN(noise[i]))
                        throw new InvalidOperationException($"{det.Ifo}: no noise window covers {After(_start, a - m + i)} (internal error)");
                var filtered = SosFilter.FilterZeroPhase(_g.Band, noise);
                var cleaned = _strain[d].Copy(a, z);
                for (int i = 0; i < cleaned.Length; i++) cleaned[i] -= filtered[m + i];
                string name = GwfWriter.FileName(det.Ifo[..1], $"{det.Ifo}_{_s.FrameType}", frame);
                var data = new GwfFrameData(frame.Start, frame.Duration,
                    [new GwfChannelData(det.Strain.Value + _s.ChannelSuffix, GwfChannelKind.Proc, Rate, cleaned)
                    {
                        Comment = $"{det.Strain} minus the {_layout.Model} noise estimate band-passed to {_s.Cleaning.BandLow:0.###}-{_s.Cleaning.BandHigh:0.###} Hz",
                    }]);
                using var buffer = new MemoryStream();
                var writer = new GwfWriter(buffer);
                await writer.WriteFrameAsync(data, ct).ConfigureAwait(false);
                await writer.CompleteAsync(ct).ConfigureAwait(false);
                await _s.Output.WriteAllBytesAsync($"{_job._prefix}cleaned/{det.Ifo}/{name}", buffer.GetBuffer().AsMemory(0, (int)buffer.Length), ct).ConfigureAwait(false);
            }
            if (_layout.ScoreOutput is not null) await WriteScoresAsync(frame, a, z, ct).ConfigureAwait(false);
        }

        private async Task WriteScoresAsync(Segment frame, long a, long z, CancellationToken ct)
        {
            string tag = string.Concat(_s.Detectors.Select(d => d.Ifo));
            var values = _scores.Copy(a / _g.Stride, z / _g.Stride);
            var series = new TimeSeries(new ChannelName($"{tag}:BBH_SCORE"), frame.Start + TimeSeries.DurationOf(_g.Stride, SampleRate.Processing),
                new SampleRate(Rate / (double)_g.Stride), values);
            string temp = Path.Combine(Path.GetTempPath(), $"gwrepro-scores-{Environment.ProcessId}-{Guid.NewGuid():N}.h5");
            try
            {
                await Hdf5TimeSeriesWriter.WriteAsync(temp, [series], new Dictionary<string, object> { ["window_seconds"] = _g.Kernel / (double)Rate },
                    cancellationToken: ct).ConfigureAwait(false);
                await using var file = File.OpenRead(temp);
                await _s.Output.WriteAsync($"{_job._prefix}scores/{tag}-{_s.FrameType}_SCORES-{frame.Start}-{frame.Duration}.h5", file, ct).ConfigureAwait(false);
            }
            finally
            {
                File.Delete(temp);
            }
        }
    }

    internal IClientJobReporter Reporter => reporter;
}
