namespace GwReprocess.Jobs;

/// <summary>Releases responses in request order whatever order they arrive in; a response that never comes is noticed, not skipped.</summary>
/// <typeparam name="T">The response payload.</typeparam>
public sealed class ResponsePlacer<T>
{
    private readonly SortedDictionary<long, T> _waiting = new();
    private readonly int _maxOutOfOrder;
    private long _next;

    /// <param name="maxOutOfOrder">How far ahead of the oldest missing response others may arrive (the in-flight window).</param>
    /// <param name="first">The request id expected first (a restarted sequence resumes from its first missing request).</param>
    public ResponsePlacer(int maxOutOfOrder, long first = 0)
    {
        if (maxOutOfOrder <= 0) throw new ArgumentOutOfRangeException(nameof(maxOutOfOrder));
        _maxOutOfOrder = maxOutOfOrder;
        _next = first;
    }

    /// <summary>The request id the next released response must have.</summary>
    public long Next => _next;

    /// <summary>Responses held back waiting for an earlier one.</summary>
    public int Waiting => _waiting.Count;

    /// <summary>Accepts a response; duplicates (a retried request answered twice) are ignored and reported.</summary>
    /// <returns>False when the response was a duplicate.</returns>
    public bool Add(long requestId, T response)
    {
        if (requestId < _next || _waiting.ContainsKey(requestId)) return false;
        if (requestId - _next >= _maxOutOfOrder)
            throw new InvalidOperationException($"response {requestId} arrived {requestId - _next} requests ahead of missing response {_next} (window {_maxOutOfOrder})");
        _waiting.Add(requestId, response);
        return true;
    }

    /// <summary>Takes the next response in order, if it has arrived.</summary>
    public bool TryTake(out T response)
    {
        if (_waiting.Remove(_next, out response!))
        {
            _next++;
            return true;
        }
        return false;
    }
}
