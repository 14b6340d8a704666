using System.Collections.Concurrent;
namespace GwReprocess.Server.Execution;

/// <summary>How model instance threads are named.</summary>
public static class InstanceThreadNames
{
    /// <summary>Instance threads' names start with this (Linux shows the first 15 characters in /proc/PID/task/TID/comm, top -H and perf).</summary>
    public const string Prefix = "ORT:";
}

/// <summary>One dedicated thread per model instance, as Triton runs each backend instance on its own thread: executions queue for the next free instance and run back to back on a thread that stays hot.</summary>
/// <remarks>
/// On the thread pool an execution hops to whichever worker the previous one's completion woke, competes with
/// Kestrel's socket and HTTP/2 work for the same workers, and starts with a cold core's caches. An instance
/// thread takes the next queued execution the moment it finishes one; the caller's continuation (encoding the
/// response) runs on the pool, so the instance is never held by transport work.
/// </remarks>
internal sealed class InstanceThreads<TInstance> : IDisposable
{
    private readonly BlockingCollection<Execution> _queue = new(new ConcurrentQueue<Execution>());
    // Per instance: executions that must run on that instance (a sequence slot whose state lives in its device memory).
    private readonly BlockingCollection<Execution>[] _own;
    private readonly CountdownEvent _running;

    /// <summary>The instance threads a thread belongs to, if it is one of them.</summary>
    [ThreadStatic]
    private static InstanceThreads<TInstance>? t_owner;

    internal InstanceThreads(string model, long version, IReadOnlyList<TInstance> instances)
    {
        _running = new CountdownEvent(instances.Count);
        _own = new BlockingCollection<Execution>[instances.Count];
        for (int i = 0; i < instances.Count; i++) _own[i] = new(new ConcurrentQueue<Execution>());
        var starts = new Task[instances.Count];
        for (int i = 0; i < instances.Count; i++)
        {
            var instance = instances[i];
            var queues = new[] { _own[i], _queue };
            starts[i] = ModelThreads.Start($"{model} v{version} #{i}", () =>
            {
                t_owner = this;
                try { Loop(instance, queues); }
                finally { _running.Signal(); }
            });
        }
        try
        {
            Task.WaitAll(starts);
        }
        catch (AggregateException e)
        {
            // Threads that never started will not count down; the others end on the completed queue.
            foreach (var t in starts)
                if (t.IsFaulted) _running.Signal();
            Dispose();
            throw e.InnerExceptions[0];
        }
    }

    /// <summary>Runs <paramref name="run"/> on the next free instance; <paramref name="starting"/> is told when an instance takes it. Cancelled while queued, it never runs.</summary>
    internal Task<T> RunAsync<T>(Func<TInstance, T> run, Action? starting, CancellationToken cancellationToken) =>
        Enqueue(_queue, run, starting, cancellationToken);

    /// <summary>Runs <paramref name="run"/> on instance <paramref name="instance"/> only, in the order such calls are made; otherwise as <see cref="RunAsync{T}"/>.</summary>
    internal Task<T> RunOnAsync<T>(int instance, Func<TInstance, T> run, Action? starting, CancellationToken cancellationToken) =>
        Enqueue(_own[instance], run, starting, cancellationToken);

    private static Task<T> Enqueue<T>(BlockingCollection<Execution> queue, Func<TInstance, T> run, Action? starting, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var e = new Execution<T>(run, starting, cancellationToken);
        if (cancellationToken.CanBeCanceled) e.Registration = cancellationToken.Register(static s => ((Execution)s!).CancelIfQueued(), e);
        try
        {
            queue.Add(e, CancellationToken.None);
        }
        catch (InvalidOperationException)
        {
            e.Registration.Dispose();
            throw new ObjectDisposedException(nameof(InstanceThreads<TInstance>), "the model version was unloaded");
        }
        return e.Task;
    }

    private static void Loop(TInstance instance, BlockingCollection<Execution>[] queues)
    {
        while (true)
        {
            Execution? e;
            try
            {
                // The instance's own queue first: a sequence tied to it has nowhere else to run.
                if (BlockingCollection<Execution>.TryTakeFromAny(queues, out e, Timeout.Infinite) < 0) return;
            }
            catch (ArgumentException)
            {
                // Both queues are completed and empty.
                return;
            }
            e!.RunIfQueued(instance);
        }
    }

    /// <summary>Lets queued executions finish, then ends the threads (the instances are the owner's to dispose afterwards).</summary>
    public void Dispose()
    {
        _queue.CompleteAdding();
        foreach (var q in _own) q.CompleteAdding();
        if (!ReferenceEquals(t_owner, this))
        {
            _running.Wait();
            _queue.Dispose();
            foreach (var q in _own) q.Dispose();
            _running.Dispose();
            return;
        }
        // Nothing an instance thread runs releases the model's last lease (completions run on the pool), so this cannot
        // happen; waiting here for the others while this one's queue still holds work would hang instead of failing.
        throw new InvalidOperationException("a model instance thread disposed its own model");
    }

    private abstract class Execution
    {
        private const int Queued = 0, Taken = 1;
        private int _state;

        public CancellationTokenRegistration Registration;

        public void CancelIfQueued()
        {
            if (Interlocked.CompareExchange(ref _state, Taken, Queued) == Queued) SetCanceled();
        }

        public void RunIfQueued(TInstance instance)
        {
            if (Interlocked.CompareExchange(ref _state, Taken, Queued) != Queued) return;
            Registration.Dispose();
            Run(instance);
        }

        protected abstract void Run(TInstance instance);

        protected abstract void SetCanceled();
    }

    private sealed class Execution<T>(Func<TInstance, T> run, Action? starting, CancellationToken cancellationToken) : Execution
    {
        // Continuations go to the pool: the instance thread goes straight on to the next execution.
        private readonly TaskCompletionSource<T> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<T> Task => _done.Task;

        protected override void Run(TInstance instance)
        {
            try
            {
                starting?.Invoke();
                _done.TrySetResult(run(instance));
            }
            catch (Exception ex)
            {
                _done.TrySetException(ex);
            }
        }

        protected override void SetCanceled() => _done.TrySetCanceled(cancellationToken);
    }
}
