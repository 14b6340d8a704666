using System.Threading.Channels;
using GwReprocess.Inference;
using GwReprocess.Time;

namespace GwReprocess.Jobs;

/// <summary>
/// One sequence on the server, from the update grid point at or before (first missing frame − padding) to the padded end:
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
        _assembler = new NoiseAssembler(job, _memory, new HashSet<Segment>(committed), firstFrame, endpoint.Address);
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
        InferenceStream? stream = null;
        try
        {
            stream = await InferenceStream.OpenAsync(new InferenceStreamOptions(_endpoint, layout.Model, layout.InputName,
                layout.OutputNames, s.Job.SequenceId, s.MaxInFlight), token).ConfigureAwait(false);
            _job.Metrics.Attach(stream);
            var tasks = new[]
            {
                Stage(() => _producer.RunAsync(updates.Writer, token)),
                Stage(() => SendAsync(stream, updates.Reader, token)),
                Stage(() => _assembler.RunAsync(stream, ready.Writer, token)),
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
            if (stream is not null)
            {
                _job.Metrics.Detach(stream);
                try { await stream.DisposeAsync().ConfigureAwait(false); } catch (Exception) { /* the stream is gone either way */ }
            }
        }
        ct.ThrowIfCancellationRequested();
        return new StreamAttemptOutcome(_committer.FramesWritten, _assembler.DataSeconds, _failure);
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

    /// <summary>Sends the updates in order; before the first, primes the start barrier and waits for it to open.</summary>
    private async Task SendAsync(InferenceStream stream, ChannelReader<SnapshotUpdate> updates, CancellationToken ct)
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
                await stream.SendAsync(u.Index, u.Memory, u.Channels, u.Samples, u.Index == 0, u.Index == last, ct).ConfigureAwait(false);
            }
            _job.Metrics.RequestSent();
        }
    }
}
