namespace GwReprocess.Jobs;

/// <summary>The job's side of the start barrier: it joins once its first update is built, and only its sender waits for the start.</summary>
/// <remarks>
/// Ready means ready to send: the first stream reads, resamples and builds its first update before the job joins, so after
/// the barrier nothing but sending remains and the clients begin together. Without a barrier the gate is open from the start.
/// </remarks>
internal sealed class StartGate
{
    private readonly TaskCompletionSource _primed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private StartGate(Func<Task, Task>? join) => Opened = join is null ? Task.CompletedTask : join(_primed.Task);

    /// <summary>Completes when the job may start sending (faults when joining the barrier failed).</summary>
    public Task Opened { get; }

    /// <summary>A gate on the job's barrier (from <paramref name="settings"/>), or an open one when it has none.</summary>
    public static StartGate For(ClientJobSettings settings, string prefix, JobMetricsRecorder metrics, IClientJobReporter reporter, CancellationToken ct)
    {
        if (settings.Barrier is not { } policy) return new StartGate(null);
        var barrier = new ReadinessBarrier(settings.Output, prefix + "rendezvous", settings.Job.Name, policy);
        return new StartGate(async primed =>
        {
            await primed.WaitAsync(ct).ConfigureAwait(false);
            var joined = await barrier.JoinAsync(ct).ConfigureAwait(false);
            metrics.BarrierWait(joined.Waited);
            reporter.Info($"{settings.Job.Name}: start barrier passed after {joined.Waited.TotalSeconds:F1} s: {joined.Reason}");
        });
    }

    /// <summary>The job is ready to send (or has nothing left to send): join the barrier.</summary>
    public void Prime() => _primed.TrySetResult();
}
