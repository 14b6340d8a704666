using System.Net;
using System.Net.Sockets;
using Amazon.Runtime;

namespace GwReprocess.Storage;

/// <summary>Retries a store request on throttling, 5xx and connection failures with exponential backoff and full jitter.</summary>
/// <remarks>
/// Full jitter (a uniform delay in [0, min(cap, base·2^attempt))) spreads the retries of many HTCondor jobs hitting one
/// store at once, instead of having them all come back in lockstep.
/// </remarks>
public sealed class RetryPolicy(int maxAttempts, TimeSpan baseDelay, TimeSpan maxDelay, Random? random = null)
{
    private readonly Random _random = random ?? Random.Shared;

    public int MaxAttempts { get; } = Math.Max(1, maxAttempts);

    /// <summary>Attempts made by the call that finished last (for tests and logs; racy under concurrent calls).</summary>
    public int LastAttempts { get; private set; }

    /// <summary>Called before each retry with the attempt number, the delay and the error (never with credentials).</summary>
    public Action<int, TimeSpan, Exception>? OnRetry { get; init; }

    /// <summary>The delay before retry number <paramref name="retry"/> (1 for the first retry).</summary>
    public TimeSpan DelayFor(int retry)
    {
        double cap = Math.Min(maxDelay.TotalMilliseconds, baseDelay.TotalMilliseconds * Math.Pow(2, retry - 1));
        return TimeSpan.FromMilliseconds(_random.NextDouble() * cap);
    }

    /// <summary>Runs <paramref name="operation"/>, retrying transient failures.</summary>
    public async Task<T> ExecuteAsync<T>(Func<CancellationToken, Task<T>> operation, CancellationToken cancellationToken)
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                var result = await operation(cancellationToken).ConfigureAwait(false);
                LastAttempts = attempt;
                return result;
            }
            catch (Exception e) when (attempt < MaxAttempts && IsTransient(e, cancellationToken))
            {
                var delay = DelayFor(attempt);
                OnRetry?.Invoke(attempt, delay, e);
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                LastAttempts = attempt;
                throw;
            }
        }
    }

    /// <summary>True for errors a retry may cure: throttling, server errors, timeouts and broken connections.</summary>
    public static bool IsTransient(Exception e, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested) return false;
        switch (e)
        {
            case AmazonServiceException s:
                int status = (int)s.StatusCode;
                if (status >= 500 || status == 429) return true;
                return s.ErrorCode is "SlowDown" or "Throttling" or "ThrottlingException" or "RequestTimeout"
                    or "RequestTimeoutException" or "ConditionalRequestConflict" or "OperationAborted";
            case HttpRequestException h:
                // A refused connection is not transient for a misconfigured endpoint, but it is for a restarting server; retry a few times.
                return h.StatusCode is null or >= HttpStatusCode.InternalServerError;
            case SocketException or IOException:
                return true;
            case OperationCanceledException:
                return true; // an HTTP timeout, not the caller's token (checked above)
            case AmazonClientException c when c.InnerException is not null:
                return IsTransient(c.InnerException, cancellationToken);
            default:
                return false;
        }
    }
}
