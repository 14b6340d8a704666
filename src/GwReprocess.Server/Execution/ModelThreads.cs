using System.Collections.Concurrent;

namespace GwReprocess.Server.Execution;

/// <summary>Starts the threads that run models (instance threads, session loading) from one long-lived thread made when the server starts.</summary>
/// <remarks>
/// Linux gives a new thread its creator's scheduling priority and name. Started from here, model threads keep the
/// server's own priority even when <c>--transport-nice</c> has lowered the transport thread that asked for them, and
/// ONNX Runtime's intra-op threads, made while a session loads, inherit an <see cref="InstanceThreadNames.Prefix"/>
/// name, by which the transport priority leaves them alone.
/// </remarks>
internal static class ModelThreads
{
    private static readonly BlockingCollection<Thread> Pending = [];

    private static readonly Thread Spawner = StartSpawner();

    /// <summary>Makes sure the spawner exists, from the calling thread (call before any thread is lowered).</summary>
    public static void EnsureStarted() => GC.KeepAlive(Spawner);

    /// <summary>Starts <paramref name="body"/> on a new background thread named <paramref name="name"/> (after the prefix), created by the spawner.</summary>
    public static void Start(string name, Action body)
    {
        var thread = new Thread(() => body()) { IsBackground = true, Name = InstanceThreadNames.Prefix + name };
        Pending.Add(thread);
    }

    /// <summary>Runs <paramref name="body"/> on a new model thread and completes with its result.</summary>
    public static Task<T> RunAsync<T>(string name, Func<T> body)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        Start(name, () =>
        {
            try { done.SetResult(body()); }
            catch (Exception e) { done.SetException(e); }
        });
        return done.Task;
    }

    private static Thread StartSpawner()
    {
        var spawner = new Thread(() =>
        {
            foreach (var thread in Pending.GetConsumingEnumerable()) thread.Start();
        }) { IsBackground = true, Name = InstanceThreadNames.Prefix + "spawner" };
        spawner.Start();
        return spawner;
    }
}
