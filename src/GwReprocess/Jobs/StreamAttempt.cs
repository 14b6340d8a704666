using System.Threading.Channels;
using GwReprocess.Inference;
using GwReprocess.Time;

namespace GwReprocess.Jobs;

/// <summary>
/// One sequence on the server (one per detector under the hermes contract), from the update grid point at or before (first missing frame − padding) to the padded end:
/// update production → sender → noise assembly → cleaned-frame writing, with bounded channels between them.
/// </summary>
/// <remarks>The first stage to fail cancels the others; frames already committed stay committed, and the job reconnects from the next missing one.</remarks>
internal sealed class StreamAttempt
{
    private readonly StreamContext _job;
    private readonly InferenceEndpoint _endpoint;
    private readonly StreamMemory _memory;
    private readonly UpdateProducer _producer;
    private readonly NoiseAssembler _assembler;
    private readonly FrameCommitter _committer;
    private readonly HermesNoiseAssembler? _hermes;
    private readonly CancellationTokenSource _cts = new();
    private Exception? _failure;

    /// <param name="job">The job's shared context.</param>
    /// <param name="endpoint">The server to stream to.</param>
    /// <param name="committed">Frames committed so far (the attempt adds the ones it writes).</param>
    /// <param name="firstFrame">The first frame not committed yet.</param>
    public StreamAttempt(StreamContext job, InferenceEndpoint endpoint, HashSet<Segment> committed, int firstFrame)
    {
        _job = job;
        _endpoint = endpoint;
        _memory = new StreamMemory(job.Settings, job.Geometry, job.Frames[firstFrame].Start);
        _producer = new UpdateProducer(job, _memory);
        // The assembler reads its own copy: the committer adds to the set on another thread, and only frames the assembler has
        // already released, so the copy answers every question the assembler asks exactly as the live set would.
        var assemblerCommitted = new HashSet<Segment>(committed);
        _assembler = new NoiseAssembler(job, _memory, assemblerCommitted, firstFrame, endpoint.Address);
        _hermes = job.Layout.Contract == StreamContract.Hermes ? new HermesNoiseAssembler(job, _memory, assemblerCommitted, firstFrame, endpoint.Address) : null;
        _committer = new FrameCommitter(job, _memory, committed, firstFrame);
    }

    /// <summary>Streams until the padded end or the first failure; throws only when <paramref name="ct"/> (the job's) is cancelled.</summary>
    public async Task<StreamAttemptOutcome> RunAsync(CancellationToken ct)
    {
        var s = _job.Settings;
        var layout = _job.Layout;
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, _cts.Token);
        var token = linked.Token;
        var updates = Channel.CreateBounded<SnapshotUpdate>(new BoundedChannelOptions(4) { SingleReader = true, SingleWriter = true });
        var ready = Channel.CreateBounded<int>(new BoundedChannelOptions(2) { SingleReader = true, SingleWriter = true });
        var streams = new List<InferenceStream>();
        try
        {
            if (layout.Contract == StreamContract.Hermes)
            {
                for (int d = 0; d < layout.Detectors.Count; d++)
                {
                    var h = layout.Detectors[d].Hermes!;
                    streams.Add(await InferenceStream.OpenAsync(new InferenceStreamOptions(_endpoint, h.Model, h.InputName, [h.Output],
                        HermesSequenceId(s.Job.SequenceId, d), s.MaxInFlight), token).ConfigureAwait(false));
                }
            }
            else
            {
                streams.Add(await InferenceStream.OpenAsync(new InferenceStreamOptions(_endpoint, layout.Model, layout.InputName,
                    layout.OutputNames, s.Job.SequenceId, s.MaxInFlight), token).ConfigureAwait(false));
            }
            foreach (var stream in streams) _job.Metrics.Attach(stream);
            var tasks = new[]
            {
                Stage(() => _producer.RunAsync(updates.Writer, token)),
                Stage(() => SendAsync(streams, updates.Reader, token)),
                Stage(() => _hermes is not null ? _hermes.RunAsync(streams, ready.Writer, token) : _assembler.RunAsync(streams[0], ready.Writer, token)),
                Stage(() => _committer.RunAsync(ready.Reader, token, ct)),
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
            foreach (var stream in streams)
            {
                _job.Metrics.Detach(stream);
                try { await stream.DisposeAsync().ConfigureAwait(false); } catch (Exception) { /* the stream is gone either way */ }
            }
        }
        ct.ThrowIfCancellationRequested();
        return new StreamAttemptOutcome(_committer.FramesWritten, _hermes?.DataSeconds ?? _assembler.DataSeconds, _failure);
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

    /// <summary>Detector <paramref name="detector"/>'s sequence id under the hermes contract: the job's id plus detector·2^56, so ids stay distinct across jobs and detectors.</summary>
    internal static ulong HermesSequenceId(ulong job, int detector) => job + ((ulong)detector << 56);

    /// <summary>Sends the updates in order (under hermes, each detector's witness rows on its own stream); before the first, primes the start barrier and waits for it to open.</summary>
    private async Task SendAsync(IReadOnlyList<InferenceStream> streams, ChannelReader<SnapshotUpdate> updates, CancellationToken ct)
    {
        var gate = _job.Gate;
        if (!gate.Opened.IsCompleted)
        {
            await updates.WaitToReadAsync(ct).ConfigureAwait(false);
            gate.Prime();
            await gate.Opened.WaitAsync(ct).ConfigureAwait(false);
        }
        long last = _memory.Updates - 1;
        await foreach (var u in updates.ReadAllAsync(ct).ConfigureAwait(false))
        {
            using (u)
            {
                bool start = u.Index == 0, end = u.Index == last;
                if (_job.Layout.Contract == StreamContract.Hermes)
                {
                    // Witness rows of a detector are contiguous in the channel-major update (witnesses in detector order, then strains).
                    int row = 0;
                    for (int d = 0; d < streams.Count; d++)
                    {
                        int w = _job.Layout.Detectors[d].Witnesses.Count;
                        await streams[d].SendAsync(u.Index, u.Memory.Slice(row * u.Samples, w * u.Samples), w, u.Samples, start, end, ct).ConfigureAwait(false);
                        _job.Metrics.RequestSent();
                        row += w;
                    }
                }
                else
                {
                    await streams[0].SendAsync(u.Index, u.Memory, u.Channels, u.Samples, start, end, ct).ConfigureAwait(false);
                    _job.Metrics.RequestSent();
                }
            }
        }
    }
}
