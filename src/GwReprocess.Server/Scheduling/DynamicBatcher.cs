using System.Buffers;
using System.Diagnostics;
using GwReprocess.Server.Execution;
using Inference;

namespace GwReprocess.Server.Scheduling;

/// <summary>Triton's dynamic batcher: requests wait in per-priority queues under their queue policy (max_queue_size, timeout with REJECT or DELAY);
/// when an instance is free, requests with equal non-batch shapes are taken in priority order and concatenated along the batch dim up to a
/// preferred size or max_batch_size, waiting at most max_queue_delay_microseconds.</summary>
internal sealed class DynamicBatcher : IAsyncDisposable, IDisposable
{
    private sealed class Pending(InferenceRequest request, long batchSize, long enqueued, long deadline, CancellationToken cancellation)
    {
        public InferenceRequest Request { get; } = request;
        public long BatchSize { get; } = batchSize;
        public long Enqueued { get; } = enqueued;

        /// <summary>Stopwatch timestamp after which the queue policy applies; 0 = no timeout.</summary>
        public long Deadline { get; } = deadline;
        public CancellationToken Cancellation { get; } = cancellation;
        public TaskCompletionSource<ExecutionOutputs> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>One priority level: its policy, requests not timed out (arrival order) and DELAYed ones behind them.</summary>
    private sealed class Level(ModelQueuePolicy policy)
    {
        public ModelQueuePolicy Policy { get; } = policy;
        public LinkedList<Pending> Queue { get; } = new();
        public LinkedList<Pending> Delayed { get; } = new();
        public int Count => Queue.Count + Delayed.Count;
    }

    /// <summary>Triton's message for a request whose queue timeout expired with timeout_action REJECT.</summary>
    public const string TimeoutMessage = "Request timeout expired";

    private readonly IBatchExecutor _model;
    private readonly int _maxBatchSize;
    private readonly SortedSet<long> _preferred;
    private readonly long _maxPreferred;
    private readonly long _delayTicks;
    private readonly ulong _priorityLevels;
    private readonly ulong _defaultLevel;
    private readonly Level[] _levels;
    private readonly object _lock = new();
    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly MemoryPool<byte> _pool;
    private readonly TaskCompletionSource _disposed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource? _drained;
    private int _busy;
    private int _disposing;
    private bool _stopped;

    /// <summary>Starts the batcher's loop; batch inputs are assembled in buffers from <paramref name="pool"/> (default <see cref="MemoryPool{T}.Shared"/>, whose arrays come in the sizes batches need).</summary>
    public DynamicBatcher(IBatchExecutor model, ModelDynamicBatching config, int maxBatchSize, MemoryPool<byte>? pool = null)
    {
        _model = model;
        _pool = pool ?? MemoryPool<byte>.Shared;
        _maxBatchSize = maxBatchSize;
        _preferred = [.. config.PreferredBatchSize.Select(p => (long)p)];
        if (_preferred.Count == 0) _preferred.Add(maxBatchSize);
        _maxPreferred = _preferred.Max;
        _delayTicks = Ticks(config.MaxQueueDelayMicroseconds);
        _priorityLevels = config.PriorityLevels;
        Validate(model.Name, config);
        _defaultLevel = _priorityLevels == 0 ? 0 : config.DefaultPriorityLevel;
        // Level 0 alone without priorities; levels 1..N with them (1 is the highest), each with its own policy or the default one.
        var defaultPolicy = config.DefaultQueuePolicy ?? new ModelQueuePolicy();
        _levels = _priorityLevels == 0
            ? [new Level(defaultPolicy)]
            : [.. Enumerable.Range(1, checked((int)_priorityLevels)).Select(l => new Level(config.PriorityQueuePolicy.TryGetValue((ulong)l, out var p) ? p : defaultPolicy))];
        _loop = Task.Run(LoopAsync);
    }

    /// <summary>Triton's model-config checks on priorities (model load fails with them).</summary>
    private static void Validate(string name, ModelDynamicBatching config)
    {
        ulong levels = config.PriorityLevels;
        if (levels == 0) return;
        if (levels > 1_000_000) throw InferenceException.Invalid($"priority_levels {levels} is too large for {name}");
        if (config.DefaultPriorityLevel == 0 || config.DefaultPriorityLevel > levels)
            throw InferenceException.Invalid($"default priority level must be in range [1, {levels}] for {name}");
        foreach (var level in config.PriorityQueuePolicy.Keys)
            if (level == 0 || level > levels)
                throw InferenceException.Invalid($"priority queue policy must have priority level in range [1, {levels}] for {name}");
    }

    private static long Ticks(ulong microseconds) =>
        (long)Math.Min(long.MaxValue / 2, microseconds * (double)Stopwatch.Frequency / 1e6);

    /// <summary>Requests in the queues now (those being formed into a batch included, executing ones not).</summary>
    public int QueuedCount
    {
        get { lock (_lock) return _levels.Sum(l => l.Count); }
    }

    /// <summary>The priority level a request waits at: 0 or out of range means the default level (Triton's rule).</summary>
    private Level LevelOf(ulong priority)
    {
        if (_priorityLevels == 0) return _levels[0];
        ulong level = priority == 0 || priority > _priorityLevels ? _defaultLevel : priority;
        return _levels[level - 1];
    }

    public Task<ExecutionOutputs> EnqueueAsync(InferenceRequest request, CancellationToken cancellationToken)
    {
        long batchSize = _model.BatchSize(request);
        var level = LevelOf(request.Priority);
        var policy = level.Policy;
        ulong timeout = policy.DefaultTimeoutMicroseconds;
        // Triton: a request may shorten the level's timeout, never lengthen it (and cannot add one where the default is none).
        if (policy.AllowTimeoutOverride && request.TimeoutMicroseconds != 0 && request.TimeoutMicroseconds < timeout) timeout = request.TimeoutMicroseconds;
        long now = Stopwatch.GetTimestamp();
        var p = new Pending(request, batchSize, now, timeout == 0 ? 0 : now + Ticks(timeout), cancellationToken);
        lock (_lock)
        {
            if (_stopped) throw InferenceException.Unavailable($"model '{_model.Name}' is unloading");
            if (policy.MaxQueueSize != 0 && level.Count >= policy.MaxQueueSize)
                throw InferenceException.Rejection(StatusPrefix(request) + "Exceeds maximum queue size");
            level.Queue.AddLast(p);
        }
        Wake();
        if (cancellationToken.CanBeCanceled)
        {
            // A cancelled request leaves the queue (and frees its place under max_queue_size) when the batcher next looks: wake it then.
            var registration = cancellationToken.UnsafeRegister(static s => ((DynamicBatcher)s!).Wake(), this);
            p.Done.Task.ContinueWith(static (_, r) => ((CancellationTokenRegistration)r!).Dispose(), registration,
                CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
        return p.Done.Task;
    }

    /// <summary>Triton's request prefix on scheduler messages.</summary>
    private static string StatusPrefix(InferenceRequest request) => $"[request id: {(request.Id.Length > 0 ? request.Id : "<id_unknown>")}] ";

    private void Wake()
    {
        try { if (_wake.CurrentCount == 0) _wake.Release(); }
        catch (SemaphoreFullException) { }
        catch (ObjectDisposedException) { }
    }

    private async Task LoopAsync()
    {
        var finished = new List<(Pending Request, bool Cancelled)>();
        InferenceException? failure = null;
        try
        {
            while (true)
            {
                List<Pending>? batch = null;
                long wait;
                lock (_lock)
                {
                    long now = Stopwatch.GetTimestamp();
                    ApplyPolicy(now, finished);
                    if (_stop.IsCancellationRequested) break;
                    if (_busy < _model.Instances) wait = FormBatch(now, out batch);
                    else
                    {
                        long due = ClosestRejectDeadline();
                        wait = due == long.MaxValue ? long.MaxValue : due - now;
                    }
                    if (batch is not null) _busy++;
                }
                foreach (var (p, cancelled) in finished)
                {
                    if (cancelled) p.Done.TrySetCanceled(p.Cancellation);
                    else p.Done.TrySetException(InferenceException.Rejection(TimeoutMessage));
                }
                finished.Clear();
                if (batch is not null)
                {
                    // Off the loop: an executor may run synchronously (ORT's Run does), and the loop must keep forming
                    // batches for the other instances and firing timeouts and cancellations meanwhile.
                    _ = Task.Run(() => ExecuteAsync(batch));
                    continue;
                }
                if (wait == long.MaxValue) await _wake.WaitAsync(_stop.Token).ConfigureAwait(false);
                else if (wait > 0)
                {
                    // SemaphoreSlim waits in whole milliseconds: round up (at most 1 ms late) rather than down to a
                    // zero-length wait that would spin until the deadline; at most an hour.
                    int ms = (int)Math.Clamp(Math.Ceiling(wait * 1000.0 / Stopwatch.Frequency), 1, 3_600_000);
                    await _wake.WaitAsync(ms, _stop.Token).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) { }
        catch (Exception e)
        {
            // A batcher that died must not leave its requests waiting forever: they fail, and so do later ones.
            failure = new InferenceException(Grpc.Core.StatusCode.Internal, $"model '{_model.Name}': dynamic batcher failed: {e.Message}");
        }
        // Requests the policy already took off the queues when the loop stopped are answered too.
        foreach (var (p, cancelled) in finished)
        {
            if (cancelled) p.Done.TrySetCanceled(p.Cancellation);
            else p.Done.TrySetException(failure ?? InferenceException.Rejection(TimeoutMessage));
        }
        List<Pending> left;
        lock (_lock)
        {
            _stopped = true;
            left = [.. _levels.SelectMany(l => l.Queue.Concat(l.Delayed))];
            foreach (var l in _levels)
            {
                l.Queue.Clear();
                l.Delayed.Clear();
            }
        }
        foreach (var p in left) p.Done.TrySetException(failure ?? InferenceException.Unavailable($"model '{_model.Name}' is unloading"));
    }

    /// <summary>Drops cancelled requests; timed-out ones are rejected (REJECT) or moved behind the ones still in time (DELAY).</summary>
    private void ApplyPolicy(long now, List<(Pending, bool)> finished)
    {
        foreach (var level in _levels)
        {
            bool delay = level.Policy.TimeoutAction == ModelQueuePolicy.Types.TimeoutAction.Delay;
            for (var node = level.Queue.First; node is not null;)
            {
                var next = node.Next;
                var p = node.Value;
                if (p.Cancellation.IsCancellationRequested)
                {
                    level.Queue.Remove(node);
                    finished.Add((p, true));
                }
                else if (p.Deadline != 0 && now > p.Deadline)
                {
                    level.Queue.Remove(node);
                    if (delay) level.Delayed.AddLast(node);
                    else finished.Add((p, false));
                }
                node = next;
            }
            for (var node = level.Delayed.First; node is not null;)
            {
                var next = node.Next;
                if (node.Value.Cancellation.IsCancellationRequested)
                {
                    level.Delayed.Remove(node);
                    finished.Add((node.Value, true));
                }
                node = next;
            }
        }
    }

    /// <summary>While every instance is busy, the batcher still wakes when a REJECT timeout falls due, so the client hears at its timeout.</summary>
    private long ClosestRejectDeadline()
    {
        long closest = long.MaxValue;
        foreach (var level in _levels)
        {
            if (level.Policy.TimeoutAction != ModelQueuePolicy.Types.TimeoutAction.Reject) continue;
            foreach (var p in level.Queue)
                if (p.Deadline != 0 && p.Deadline < closest) closest = p.Deadline;
        }
        return closest == long.MaxValue ? long.MaxValue : closest + 1;
    }

    private IEnumerable<LinkedListNode<Pending>> InOrder()
    {
        foreach (var level in _levels)
        {
            for (var n = level.Queue.First; n is not null; n = n.Next) yield return n;
            for (var n = level.Delayed.First; n is not null; n = n.Next) yield return n;
        }
    }

    /// <summary>Triton's batch choice over the queues in priority order: the largest preferred size reached unless the queue delay is exceeded,
    /// else everything compatible once it can grow no more or the delay is over. Returns how long to wait when nothing is to run yet.</summary>
    private long FormBatch(long now, out List<Pending>? batch)
    {
        batch = null;
        var pending = new List<LinkedListNode<Pending>>();
        long size = 0, oldest = long.MaxValue, closestTimeout = long.MaxValue;
        int bestPreferredCount = 0;
        bool sendNow = false;
        foreach (var node in InOrder())
        {
            var p = node.Value;
            if (pending.Count > 0)
            {
                if (size + p.BatchSize > _maxBatchSize || !Compatible(pending[0].Value.Request, p.Request))
                {
                    sendNow = true;
                    break;
                }
            }
            pending.Add(node);
            size += p.BatchSize;
            oldest = Math.Min(oldest, p.Enqueued);
            if (p.Deadline != 0 && node.List == LevelOf(p.Request.Priority).Queue) closestTimeout = Math.Min(closestTimeout, p.Deadline);
            if (_preferred.Contains(size)) bestPreferredCount = pending.Count;
            if (size >= _maxPreferred) break;
        }
        if (pending.Count == 0) return long.MaxValue;
        bool delayExceeded = _delayTicks != 0 && now - oldest >= _delayTicks;
        int take;
        if (bestPreferredCount > 0 && !delayExceeded) take = bestPreferredCount;
        else if (sendNow || size >= _maxPreferred || _delayTicks == 0 || delayExceeded) take = pending.Count;
        else
        {
            long until = oldest + _delayTicks;
            if (closestTimeout != long.MaxValue) until = Math.Min(until, closestTimeout + 1);
            return Math.Max(1, until - now);
        }
        batch = new List<Pending>(take);
        for (int i = 0; i < take; i++)
        {
            pending[i].List!.Remove(pending[i]);
            batch.Add(pending[i].Value);
        }
        return 0;
    }

    private static bool Compatible(InferenceRequest a, InferenceRequest b)
    {
        if (a.Inputs.Count != b.Inputs.Count) return false;
        foreach (var (name, t) in a.Inputs)
        {
            if (!b.Inputs.TryGetValue(name, out var u) || u.Type != t.Type || u.Shape.Length != t.Shape.Length) return false;
            for (int i = 1; i < t.Shape.Length; i++) if (t.Shape[i] != u.Shape[i]) return false;
        }
        // Requested outputs do not split batches (Triton does not): the batch runs their union and each request
        // gets its own back.
        return true;
    }

    private async Task ExecuteAsync(List<Pending> batch)
    {
        BatchInputs? inputs = null;
        try
        {
            var live = batch.Where(p => !p.Cancellation.IsCancellationRequested).ToList();
            foreach (var p in batch.Except(live)) p.Done.TrySetCanceled(p.Cancellation);
            if (live.Count == 0) return;
            // A batch is formed only when an instance is free: its requests stop being pending now.
            foreach (var p in live) p.Request.LeavePending();
            long size = live.Sum(p => p.BatchSize);
            inputs = BatchInputs.Assemble([.. live.Select(p => p.Request)], size, _pool);
            var wanted = live.Select(p => _model.OutputsFor(p.Request)).ToList();
            var union = new List<string>(wanted[0]);
            foreach (var w in wanted)
                foreach (var name in w)
                    if (!union.Contains(name)) union.Add(name);
            // Never cancelled once started: the execution must have let go of the pooled inputs before they are handed back.
            var e = await _model.RunAsync(inputs.Tensors, union, CancellationToken.None).ConfigureAwait(false);
            if (live.Count == 1)
            {
                live[0].Done.TrySetResult(e);
                return;
            }
            // Responses outlive the batch's buffers.
            var outputs = inputs.CopiedOut(e.Outputs);
            long row = 0;
            for (int j = 0; j < live.Count; j++)
            {
                var p = live[j];
                p.Done.TrySetResult(new ExecutionOutputs(BatchOutputs.Rows(_model.Name, outputs, wanted[j], size, row, p.BatchSize), e.StartTimestamp));
                row += p.BatchSize;
            }
        }
        catch (Exception ex)
        {
            foreach (var p in batch) p.Done.TrySetException(ex);
        }
        finally
        {
            inputs?.Dispose();
            lock (_lock)
            {
                _busy--;
                if (_busy == 0 && _stopped) _drained?.TrySetResult();
            }
            Wake();
        }
    }

    /// <summary>
    /// Stops the batcher: requests still queued are answered at once (UNAVAILABLE: the model is unloading), new ones are
    /// refused, and the task ends once the executions already running have finished, so that the owner can dispose the
    /// instances next. No thread waits meanwhile.
    /// </summary>
    public ValueTask DisposeAsync() => new(Stop());

    /// <summary>
    /// Starts <see cref="DisposeAsync"/> without waiting for it: for owners that dispose nothing the running executions
    /// use (tests, benchmarks). Owners of the instances await <see cref="DisposeAsync"/> instead.
    /// </summary>
    public void Dispose() => _ = Stop();

    private Task Stop()
    {
        if (Interlocked.Exchange(ref _disposing, 1) == 0) _ = StopAsync();
        return _disposed.Task;
    }

    private async Task StopAsync()
    {
        try
        {
            _stop.Cancel();
            // The loop answers what is left in the queues and sets _stopped before it ends; it catches its own failures.
            await _loop.ConfigureAwait(false);
            Task running;
            lock (_lock)
            {
                _stopped = true;
                running = _busy == 0 ? Task.CompletedTask : (_drained = new(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
            }
            await running.ConfigureAwait(false);
        }
        finally
        {
            _stop.Dispose();
            _disposed.TrySetResult();
        }
    }
}
