using System.Diagnostics;
using System.Globalization;
using System.Text;
using GwReprocess.Storage;

namespace GwReprocess.Jobs;

/// <summary>A start barrier in a run's rendezvous prefix: <c>ready/&lt;job&gt;</c> markers, and one <c>start</c> object holding the common start time.</summary>
/// <remarks>
/// Works on any bucket (a shared filesystem on the LDG, Cloud Storage on HEPCloud). Every client writes its ready marker;
/// the first one to see the barrier satisfied — everyone ready, or the timeout reached under a policy that allows going
/// without everyone — publishes the start time with put-if-absent, so exactly one start time exists and every client
/// (including late ones) sleeps until that same instant.
/// </remarks>
public sealed class ReadinessBarrier(IBucket bucket, string prefix, string job, BarrierPolicy policy)
{
    private readonly string _prefix = BucketUri.AsPrefix(prefix);

    private string ReadyPrefix => _prefix + "ready/";
    private string StartKey => _prefix + "start";

    /// <summary>Announces this job as ready, waits for the barrier, and returns once the common start time has come.</summary>
    public async Task<BarrierResult> JoinAsync(CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        string me = $"{Environment.MachineName} {Environment.ProcessId} {DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()}";
        // A retried job finds its own old marker: that is fine, it was ready then and is ready now.
        await bucket.PutIfAbsentAsync(ReadyPrefix + job, Encoding.UTF8.GetBytes(me), cancellationToken).ConfigureAwait(false);

        var poll = TimeSpan.FromMilliseconds(Math.Clamp(policy.Expected * 5, 100, 2000));
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (await ReadStartAsync(cancellationToken).ConfigureAwait(false) is { } published)
                return await WaitUntilAsync(published, clock, cancellationToken).ConfigureAwait(false);

            int ready = await CountReadyAsync(cancellationToken).ConfigureAwait(false);
            bool timedOut = clock.Elapsed >= policy.Timeout;
            string? reason = null;
            if (ready >= policy.Expected) reason = $"all {policy.Expected} clients ready";
            else if (timedOut)
            {
                reason = policy.Mode switch
                {
                    BarrierMode.All => throw new TimeoutException($"start barrier in {bucket.UriOf(_prefix)}: only {ready} of {policy.Expected} clients ready after {policy.Timeout.TotalSeconds:0.#} s (policy: all)"),
                    BarrierMode.Quorum when ready < policy.Quorum => throw new TimeoutException($"start barrier in {bucket.UriOf(_prefix)}: {ready} of {policy.Expected} clients ready after {policy.Timeout.TotalSeconds:0.#} s, below the quorum of {policy.Quorum}"),
                    BarrierMode.Quorum => $"quorum: {ready} of {policy.Expected} clients ready after the {policy.Timeout.TotalSeconds:0.#} s timeout (quorum {policy.Quorum})",
                    _ => $"timeout-then-go: {ready} of {policy.Expected} clients ready after the {policy.Timeout.TotalSeconds:0.#} s timeout",
                };
            }
            if (reason is not null)
            {
                var start = DateTimeOffset.UtcNow + policy.Lead;
                var record = new StartRecord(start, ready, policy.Expected, ready < policy.Expected, reason);
                await bucket.PutIfAbsentAsync(StartKey, Encoding.UTF8.GetBytes(record.Format() + " " + job), cancellationToken).ConfigureAwait(false);
                // Whoever won the put, the stored record is the one everybody uses.
                continue;
            }
            await Task.Delay(poll, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<BarrierResult> WaitUntilAsync(StartRecord start, Stopwatch clock, CancellationToken ct)
    {
        var delay = start.Time - DateTimeOffset.UtcNow;
        if (delay > TimeSpan.Zero) await Task.Delay(delay, ct).ConfigureAwait(false);
        return new BarrierResult(start.Time, start.Ready, start.Expected, clock.Elapsed, start.Incomplete, start.Reason);
    }

    private async Task<int> CountReadyAsync(CancellationToken ct)
    {
        int n = 0;
        await foreach (var _ in bucket.ListAsync(ReadyPrefix, ct).ConfigureAwait(false)) n++;
        return n;
    }

    private async Task<StartRecord?> ReadStartAsync(CancellationToken ct)
    {
        if (!await bucket.ExistsAsync(StartKey, ct).ConfigureAwait(false)) return null;
        var text = Encoding.UTF8.GetString(await bucket.ReadAllBytesAsync(StartKey, ct).ConfigureAwait(false));
        return StartRecord.Parse(text, bucket.UriOf(StartKey).ToString());
    }

    /// <summary>The content of the <c>start</c> object: Unix milliseconds, ready, expected, incomplete flag, reason (and the publishing job).</summary>
    private sealed record StartRecord(DateTimeOffset Time, int Ready, int Expected, bool Incomplete, string Reason)
    {
        public string Format() => string.Create(CultureInfo.InvariantCulture,
            $"{Time.ToUnixTimeMilliseconds()}\t{Ready}\t{Expected}\t{(Incomplete ? 1 : 0)}\t{Reason}\t");

        public static StartRecord Parse(string text, string source)
        {
            var f = text.Split('\t');
            if (f.Length < 5 || !long.TryParse(f[0], NumberStyles.None, CultureInfo.InvariantCulture, out long ms)
                || !int.TryParse(f[1], out int ready) || !int.TryParse(f[2], out int expected))
                throw new BadInputException($"{source}: not a GwReprocess start record");
            return new StartRecord(DateTimeOffset.FromUnixTimeMilliseconds(ms), ready, expected, f[3] == "1", f[4]);
        }
    }
}
