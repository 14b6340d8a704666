using System.Diagnostics;
using GwReprocess.Inference;
using GwReprocess.Storage;

namespace GwReprocess.Jobs;

/// <summary>The job's reconnects after transient stream errors: how many are left, how long to wait, and where the server is now.</summary>
/// <remarks>
/// The wait is drawn with full jitter (<see cref="RetryPolicy"/>): when a server restarts, every HTCondor job streaming to it
/// fails at once, and without jitter they would all come back in lockstep.
/// </remarks>
internal sealed class ReconnectSchedule(ClientJobSettings settings, IClientJobReporter reporter, Random? random = null)
{
    /// <summary>Longest wait before a reconnect.</summary>
    public static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    private readonly RetryPolicy _policy = new(settings.Retries + 1, settings.Backoff, MaxBackoff, random);

    /// <summary>Reconnects made so far.</summary>
    public int Retries { get; private set; }

    /// <summary>Reconnects the job may make.</summary>
    public int MaxRetries => _policy.MaxAttempts - 1;

    /// <summary>True when every reconnect is spent.</summary>
    public bool Exhausted => Retries >= MaxRetries;

    /// <summary>Counts one more reconnect and returns the wait before it.</summary>
    public TimeSpan Next()
    {
        if (Exhausted) throw new InvalidOperationException("no reconnects left");
        return _policy.DelayFor(++Retries);
    }

    /// <summary>Before the first connect and each reconnect: looks the server up again (a restarted server node may publish a new address) and waits until it is ready.</summary>
    /// <remarks>Never a cached address: the rendezvous is read again whenever the server at the last one is not ready within a few seconds, until the job's ready deadline.</remarks>
    /// <returns>The endpoint to reconnect to.</returns>
    public async Task<InferenceEndpoint> ReconnectAsync(InferenceEndpoint endpoint, CancellationToken ct)
    {
        var progress = new LineProgress(reporter.Info);
        if (settings.ResolveAddress is not { } resolve)
        {
            foreach (var model in settings.ModelsStreamedTo)
                await ServerReadiness.WaitAsync(endpoint, model, settings.ReadyDeadline, progress, ct).ConfigureAwait(false);
            return endpoint;
        }
        // A server that died leaves its old address behind until its replacement publishes a new one: probe briefly, look again.
        var clock = Stopwatch.StartNew();
        while (true)
        {
            string address = await resolve(ct).ConfigureAwait(false);
            if (address != endpoint.Address) reporter.Info($"server {settings.Server} is now at {address}");
            endpoint = endpoint with { Address = address };
            var left = settings.ReadyDeadline - clock.Elapsed;
            try
            {
                foreach (var model in settings.ModelsStreamedTo)
                    await ServerReadiness.WaitAsync(endpoint, model, left < TimeSpan.FromSeconds(5) ? left : TimeSpan.FromSeconds(5), progress, ct).ConfigureAwait(false);
                return endpoint;
            }
            catch (TimeoutException) when (clock.Elapsed < settings.ReadyDeadline)
            {
            }
        }
    }
}
