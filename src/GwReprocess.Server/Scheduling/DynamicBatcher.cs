using System.Diagnostics;
using System.Threading.Channels;
using GwReprocess.Server.Execution;
using Inference;

namespace GwReprocess.Server.Scheduling;

/// <summary>Triton's dynamic batcher: queued requests with equal non-batch shapes are concatenated along the batch dim up to a preferred size or max_batch_size, waiting at most max_queue_delay_microseconds.</summary>
public sealed class DynamicBatcher : IDisposable
{
    private sealed record Pending(InferenceRequest Request, long BatchSize, TaskCompletionSource<ExecutionOutputs> Done, CancellationToken Cancellation);

    private readonly OnnxModelVersion _model;
    private readonly int _maxBatchSize;
    private readonly HashSet<long> _preferred;
    private readonly long _delayTicks;
    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public DynamicBatcher(OnnxModelVersion model, ModelDynamicBatching config, int maxBatchSize)
    {
        _model = model;
        _maxBatchSize = maxBatchSize;
        _preferred = [.. config.PreferredBatchSize.Select(p => (long)p)];
        if (_preferred.Count == 0) _preferred.Add(maxBatchSize);
        _delayTicks = (long)(config.MaxQueueDelayMicroseconds * (double)Stopwatch.Frequency / 1e6);
        _loop = Task.Run(LoopAsync);
    }

    public Task<ExecutionOutputs> EnqueueAsync(InferenceRequest request, CancellationToken cancellationToken)
    {
        var p = new Pending(request, _model.BatchSize(request), new TaskCompletionSource<ExecutionOutputs>(TaskCreationOptions.RunContinuationsAsynchronously), cancellationToken);
        if (!_queue.Writer.TryWrite(p)) throw InferenceException.Unavailable($"model '{_model.Name}' is unloading");
        return p.Done.Task;
    }

    private async Task LoopAsync()
    {
        Pending? carry = null;
        var reader = _queue.Reader;
        try
        {
            while (true)
            {
                var first = carry ?? await reader.ReadAsync(_stop.Token).ConfigureAwait(false);
                carry = null;
                var batch = new List<Pending> { first };
                long size = first.BatchSize;
                long deadline = first.Request.ArrivalTimestamp + _delayTicks;
                while (size < _maxBatchSize && !_preferred.Contains(size))
                {
                    if (reader.TryRead(out var next))
                    {
                        if (size + next.BatchSize <= _maxBatchSize && Compatible(first.Request, next.Request))
                        {
                            batch.Add(next);
                            size += next.BatchSize;
                            continue;
                        }
                        carry = next;
                        break;
                    }
                    long wait = deadline - Stopwatch.GetTimestamp();
                    if (wait <= 0) break;
                    using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
                    timeout.CancelAfter(TimeSpan.FromSeconds(wait / (double)Stopwatch.Frequency));
                    try { await reader.WaitToReadAsync(timeout.Token).ConfigureAwait(false); }
                    catch (OperationCanceledException) when (!_stop.IsCancellationRequested) { break; }
                }
                _ = ExecuteAsync(batch, size);
            }
        }
        catch (OperationCanceledException) { }
        catch (ChannelClosedException) { }
        carry?.Done.TrySetException(InferenceException.Unavailable($"model '{_model.Name}' is unloading"));
        while (reader.TryRead(out var left)) left.Done.TrySetException(InferenceException.Unavailable($"model '{_model.Name}' is unloading"));
    }

    private static bool Compatible(InferenceRequest a, InferenceRequest b)
    {
        if (a.Inputs.Count != b.Inputs.Count) return false;
        foreach (var (name, t) in a.Inputs)
        {
            if (!b.Inputs.TryGetValue(name, out var u) || u.Type != t.Type || u.Shape.Length != t.Shape.Length) return false;
            for (int i = 1; i < t.Shape.Length; i++) if (t.Shape[i] != u.Shape[i]) return false;
        }
        var ao = a.RequestedOutputs;
        var bo = b.RequestedOutputs;
        return ao is null ? bo is null : bo is not null && ao.SequenceEqual(bo);
    }

    private async Task ExecuteAsync(List<Pending> batch, long size)
    {
        try
        {
            var live = batch.Where(p => !p.Cancellation.IsCancellationRequested).ToList();
            foreach (var p in batch.Except(live)) p.Done.TrySetCanceled(p.Cancellation);
            if (live.Count == 0) return;
            size = live.Sum(p => p.BatchSize);
            var first = live[0].Request;
            var inputs = new Dictionary<string, TensorData>(StringComparer.Ordinal);
            foreach (var (name, t) in first.Inputs)
            {
                if (live.Count == 1) { inputs[name] = t; continue; }
                var shape = (long[])t.Shape.Clone();
                shape[0] = size;
                var bytes = new byte[live.Sum(p => p.Request.Inputs[name].Bytes.Length)];
                int offset = 0;
                foreach (var p in live)
                {
                    var src = p.Request.Inputs[name].Bytes.Span;
                    src.CopyTo(bytes.AsSpan(offset));
                    offset += src.Length;
                }
                inputs[name] = new TensorData(t.Type, shape, bytes);
            }
            var e = await _model.RunAsync(inputs, _model.OutputsFor(first), CancellationToken.None).ConfigureAwait(false);
            if (live.Count == 1)
            {
                live[0].Done.TrySetResult(e);
                return;
            }
            long row = 0;
            foreach (var p in live)
            {
                var outputs = new Dictionary<string, TensorData>(StringComparer.Ordinal);
                foreach (var (name, t) in e.Outputs)
                {
                    if (t.Shape.Length == 0 || t.Shape[0] != size)
                        throw new InferenceException(Grpc.Core.StatusCode.Internal, $"model '{_model.Name}': output '{name}' has shape {TensorTypes.Format(t.Shape)}, not batch {size} first");
                    var shape = (long[])t.Shape.Clone();
                    shape[0] = p.BatchSize;
                    if (t.Type == DataType.TypeString)
                    {
                        // Variable-size elements: find the byte range of this request's rows by walking the lengths.
                        long rowElements = t.ElementCount / size;
                        int from = BytesTensor.Offset(t.Bytes.Span, row * rowElements);
                        int to = from + BytesTensor.Offset(t.Bytes.Span[from..], p.BatchSize * rowElements);
                        outputs[name] = new TensorData(t.Type, shape, t.Bytes[from..to]);
                        continue;
                    }
                    long rowBytes = t.Bytes.Length / size;
                    outputs[name] = new TensorData(t.Type, shape, t.Bytes.Slice((int)(row * rowBytes), (int)(p.BatchSize * rowBytes)));
                }
                row += p.BatchSize;
                p.Done.TrySetResult(new ExecutionOutputs(outputs, e.StartTimestamp));
            }
        }
        catch (Exception ex)
        {
            foreach (var p in batch) p.Done.TrySetException(ex);
        }
    }

    public void Dispose()
    {
        _queue.Writer.TryComplete();
        _stop.Cancel();
        try { _loop.Wait(TimeSpan.FromSeconds(1)); } catch (AggregateException) { }
        _stop.Dispose();
    }
}
