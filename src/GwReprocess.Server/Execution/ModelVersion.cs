using GwReprocess.Server.Metrics;
using Inference;

namespace GwReprocess.Server.Execution;

/// <summary>Outputs of one model execution and the Stopwatch timestamp at which it started (the end of queueing).</summary>
public sealed record ExecutionOutputs(Dictionary<string, TensorData> Outputs, long StartTimestamp);

/// <summary>One loaded, servable version of a model; counted leases keep it alive while requests or sequences use it after a reload retires it.</summary>
public abstract class ModelVersion : IDisposable, IAsyncDisposable
{
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _leases;
    private int _retired;
    private int _disposed;
    private int _releasing;

    protected ModelVersion(string name, long version, ModelConfig config)
    {
        Name = name;
        Version = version;
        Config = config;
        Statistics = new ModelVersionStatistics(name, version);
    }

    public string Name { get; }

    public long Version { get; }

    /// <summary>The normalized config (defaults filled as Triton's ModelConfig RPC returns them).</summary>
    public ModelConfig Config { get; }

    public ModelVersionStatistics Statistics { get; }

    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>Sequences holding state in this version (a retired version lives until they end or idle out).</summary>
    public virtual int LiveSequences => 0;

    /// <summary>Raised when a sequence gives up its state here (END, idle timeout, or a START that never ran), so routers can forget it.</summary>
    public event Action<ModelVersion, SequenceId>? SequenceFreed;

    protected void OnSequenceFreed(SequenceId id) => SequenceFreed?.Invoke(this, id);

    /// <summary>Takes a lease unless the version is already disposed.</summary>
    public bool TryAcquire()
    {
        Interlocked.Increment(ref _leases);
        if (!IsDisposed) return true;
        Interlocked.Decrement(ref _leases);
        return false;
    }

    public void Release()
    {
        Interlocked.Decrement(ref _leases);
        DisposeIfDrained();
    }

    /// <summary>No new requests will be routed here; dispose once in-flight requests and live sequences are done.</summary>
    public void Retire()
    {
        Interlocked.Exchange(ref _retired, 1);
        DisposeIfDrained();
    }

    public bool IsRetired => Volatile.Read(ref _retired) != 0;

    protected void DisposeIfDrained()
    {
        while (Volatile.Read(ref _retired) != 0 && Volatile.Read(ref _leases) == 0 && LiveSequences == 0)
        {
            // Claim, then look again: TryAcquire counts its lease before it reads the flag, so a lease taken between the
            // check above and the claim is seen here and keeps the version alive (its Release comes back here).
            if (Interlocked.CompareExchange(ref _disposed, 1, 0) != 0) return;
            if (Volatile.Read(ref _leases) == 0 && LiveSequences == 0)
            {
                // The last lease is let go on a request's path: that path does not wait for the release.
                _ = ReleaseAsync();
                return;
            }
            Interlocked.Exchange(ref _disposed, 0);
            // A forced release that started meanwhile keeps the version disposed.
            if (Volatile.Read(ref _releasing) != 0) Interlocked.Exchange(ref _disposed, 1);
            // That lease may have been released before the flag was put back (its own check then lost the claim): look again.
        }
    }

    /// <summary>Runs a validated request; statistics are recorded by the caller.</summary>
    public abstract Task<InferenceResult> InferAsync(InferenceRequest request, CancellationToken cancellationToken);

    /// <summary>Releases what the version holds, for versions with nothing to wait for.</summary>
    protected virtual void DisposeResources() { }

    /// <summary>Releases what the version holds once what runs on it has finished; by default <see cref="DisposeResources"/>.</summary>
    protected virtual ValueTask DisposeResourcesAsync()
    {
        DisposeResources();
        return ValueTask.CompletedTask;
    }

    /// <summary>Starts the release without waiting for it (leases or not); <see cref="DisposeAsync"/> waits.</summary>
    public void Dispose()
    {
        _ = ForceRelease();
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases the version (leases or not) and completes once executions running on it have finished and its resources are gone.</summary>
    public async ValueTask DisposeAsync()
    {
        await ForceRelease().ConfigureAwait(false);
        GC.SuppressFinalize(this);
    }

    private Task ForceRelease()
    {
        Interlocked.Exchange(ref _disposed, 1);
        var released = ReleaseAsync();
        // Again: DisposeIfDrained may have put the flag back meanwhile, having seen no release under way yet.
        Interlocked.Exchange(ref _disposed, 1);
        return released;
    }

    /// <summary>Runs <see cref="DisposeResourcesAsync"/> once, whoever asks first; every caller gets its completion.</summary>
    private Task ReleaseAsync()
    {
        if (Interlocked.Exchange(ref _releasing, 1) == 0) _ = CompleteReleaseAsync();
        return _released.Task;
    }

    private async Task CompleteReleaseAsync()
    {
        try
        {
            await DisposeResourcesAsync().ConfigureAwait(false);
            _released.TrySetResult();
        }
        catch (Exception e)
        {
            _released.TrySetException(e);
        }
    }

    /// <summary>Batch size of a request: the first dim when the model batches, else 1.</summary>
    public long BatchSize(InferenceRequest request)
    {
        if (Config.MaxBatchSize <= 0) return 1;
        foreach (var t in request.Inputs.Values) return t.Shape.Length > 0 ? t.Shape[0] : 1;
        return 1;
    }

    /// <summary>The requested outputs (or all config outputs) taken from an execution's outputs, in order.</summary>
    protected InferenceResult Select(InferenceRequest request, IReadOnlyDictionary<string, TensorData> outputs)
    {
        var names = request.RequestedOutputs ?? Config.Output.Select(o => o.Name).ToList();
        var list = new List<(string, TensorData)>(names.Count);
        foreach (var n in names)
        {
            if (!outputs.TryGetValue(n, out var t)) throw InferenceException.Backend($"model '{Name}' did not produce output '{n}'");
            list.Add((n, t));
        }
        return new InferenceResult(Name, Version, list);
    }
}
