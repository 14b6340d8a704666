namespace GwReprocess.Jobs;

/// <summary>Writes the job's metrics CSV every <see cref="ClientJobSettings.MetricsInterval"/> while it runs, and once more when it stops.</summary>
/// <remarks>A metrics file that cannot be written costs a warning, never the job.</remarks>
internal sealed class JobMetricsLoop
{
    private readonly JobMetricsRecorder _metrics;
    private readonly Action<string> _warn;
    private readonly CancellationTokenSource _stop;
    private readonly Task _loop;

    private JobMetricsLoop(JobMetricsRecorder metrics, TimeSpan interval, Action<string> warn, CancellationToken ct)
    {
        _metrics = metrics;
        _warn = warn;
        _stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        _loop = RunAsync(interval, _stop.Token);
    }

    /// <summary>Starts flushing <paramref name="metrics"/> every <paramref name="interval"/>.</summary>
    public static JobMetricsLoop Start(JobMetricsRecorder metrics, TimeSpan interval, Action<string> warn, CancellationToken ct) =>
        new(metrics, interval, warn, ct);

    /// <summary>Stops the loop and writes the final rows (even when the job was cancelled).</summary>
    public async Task StopAsync()
    {
        _stop.Cancel();
        try { await _loop.ConfigureAwait(false); } catch (OperationCanceledException) { }
        _stop.Dispose();
        await FlushAsync(CancellationToken.None).ConfigureAwait(false);
    }

    private async Task RunAsync(TimeSpan interval, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            await Task.Delay(interval, ct).ConfigureAwait(false);
            await FlushAsync(ct).ConfigureAwait(false);
        }
    }

    private async Task FlushAsync(CancellationToken ct)
    {
        try { await _metrics.FlushAsync(ct).ConfigureAwait(false); }
        catch (Exception e) when (e is IOException or BadInputException) { _warn($"warning: metrics not written: {e.Message}"); }
    }
}
