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
    private static readonly BlockingCollection<(Thread Thread, TaskCompletionSource Started)> Pending = [];

    private static readonly TaskCompletionSource<int> SpawnerTid = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private static readonly Thread Spawner = StartSpawner();

    /// <summary>Makes sure the spawner exists, from the calling thread (call before any thread is lowered).</summary>
    public static void EnsureStarted() => GC.KeepAlive(Spawner);

    /// <summary>The spawner's Linux thread id (whose nice value model threads take); null elsewhere.</summary>
    public static int? SpawnerThreadId
    {
        get
        {
            EnsureStarted();
            return SpawnerTid.Task.GetAwaiter().GetResult() is var tid && tid > 0 ? tid : null;
        }
    }

    /// <summary>Starts <paramref name="body"/> on a new background thread named <paramref name="name"/> (after the prefix), made by the spawner; completes once it runs, or fails when the system refuses a thread.</summary>
    public static Task Start(string name, Action body)
    {
        // The context of whoever asked (a test's, an Activity) is not the model thread's.
        var thread = new Thread(() => body()) { IsBackground = true, Name = InstanceThreadNames.Prefix + name };
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Pending.Add((thread, started));
        return started.Task;
    }

    /// <summary>Runs <paramref name="body"/> on a new model thread and completes with its result.</summary>
    public static async Task<T> RunAsync<T>(string name, Func<T> body)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        await Start(name, () =>
        {
            try { done.SetResult(body()); }
            catch (Exception e) { done.SetException(e); }
        }).ConfigureAwait(false);
        return await done.Task.ConfigureAwait(false);
    }

    private static Thread StartSpawner()
    {
        var spawner = new Thread(() =>
        {
            SpawnerTid.SetResult(OperatingSystem.IsLinux() ? ThreadId() : 0);
            foreach (var (thread, started) in Pending.GetConsumingEnumerable())
            {
                try
                {
                    thread.UnsafeStart();
                    started.SetResult();
                }
                catch (Exception e) when (e is ThreadStartException or OutOfMemoryException)
                {
                    started.SetException(new InferenceException(Grpc.Core.StatusCode.Internal, $"cannot start thread '{thread.Name}': {e.Message}"));
                }
            }
        }) { IsBackground = true, Name = InstanceThreadNames.Prefix + "spawner" };
        spawner.UnsafeStart();
        return spawner;
    }

    /// <summary>The calling thread's Linux thread id (/proc/thread-self points at /proc/PID/task/TID).</summary>
    private static int ThreadId()
    {
        try
        {
            var target = new FileInfo("/proc/thread-self").LinkTarget;
            return target is null ? 0 : int.Parse(Path.GetFileName(target), System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or FormatException or UnauthorizedAccessException)
        {
            return 0;
        }
    }
}
