using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Grpc.Core;
using Grpc.Net.Client;
using Inference;

namespace GwReprocess.Inference;

/// <summary>What to stream where: the model (or ensemble), its input and the outputs to bring back, the sequence, and the window of unanswered requests.</summary>
/// <remarks>InputName takes the updates (for gwe2e <c>snapshot_update</c>); OutputNames are requested and decoded (empty = every output
/// the server returns); SequenceId is the Triton correlation id (1 .. 2^63-1), one per stream; MaxInFlight bounds the requests sent and not yet answered.</remarks>
public sealed record InferenceStreamOptions(InferenceEndpoint Endpoint, string Model, string InputName,
    IReadOnlyList<string> OutputNames, ulong SequenceId, int MaxInFlight);

/// <summary>One answered request: its id, its FP32 outputs by name, and the time from sending it to its answer arriving.</summary>
public sealed record InferenceResult(long RequestId, IReadOnlyDictionary<string, float[]> Outputs, TimeSpan RoundTrip)
{
    /// <summary>Output <paramref name="name"/>, which must hold <paramref name="expected"/> values; a server that answers otherwise breaks the contract (not transient).</summary>
    /// <param name="name">The output tensor's name.</param>
    /// <param name="expected">The number of values it must hold.</param>
    /// <param name="server">The server's address, for the error.</param>
    public float[] Output(string name, int expected, string server)
    {
        if (!Outputs.TryGetValue(name, out var v))
            throw new InferenceStreamException($"{server}: response {RequestId} has no output '{name}'", false);
        if (v.Length != expected)
            throw new InferenceStreamException($"{server}: output '{name}' of response {RequestId} has {v.Length} values, expected {expected}", false);
        return v;
    }
}

/// <summary>One <c>ModelStreamInfer</c> call carrying one sequence, with a bounded window of unanswered requests.</summary>
/// <remarks>
/// Requests are FP32 raw contents of shape [1, channels, samples], id = the decimal request id, with the sequence parameters.
/// The stream is opened with <c>triton_grpc_error: true</c>, so a server that rejects a request ends the stream with the
/// gRPC status (NotFound, InvalidArgument, ...) instead of an in-band message; in-band errors from servers that ignore
/// the header are reported as transient. After the request with <c>end</c> the request side is completed, and
/// <see cref="ReadAllAsync"/> finishes once every request has been answered. A failure is reported once, by whichever
/// of <see cref="SendAsync"/> and <see cref="ReadAllAsync"/> comes next, after every answer that arrived before it.
/// Byte counts are serialized messages plus their 5-byte gRPC length prefix (what crosses the HTTP/2 stream).
/// </remarks>
public sealed class InferenceStream : IAsyncDisposable
{
    /// <summary>gRPC message framing: 1 compression flag + 4 length bytes before every message.</summary>
    private const int GrpcFrameBytes = 5;

    private readonly InferenceStreamOptions _options;
    private readonly GrpcChannel _channel;
    private readonly AsyncDuplexStreamingCall<ModelInferRequest, ModelStreamInferResponse> _call;
    private readonly CancellationTokenSource _callCancel = new();
    private readonly CancellationTokenSource _failed = new();
    private readonly SemaphoreSlim _window;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly ConcurrentDictionary<long, long> _sentAt = new();
    private readonly Channel<InferenceResult> _results = Channel.CreateUnbounded<InferenceResult>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly string _where;
    private readonly Task _reader;
    private InferenceStreamException? _failure;
    private volatile bool _ended;
    private bool _disposed;
    private long _bytesSent, _bytesReceived, _sent, _answered;

    private InferenceStream(InferenceStreamOptions options)
    {
        _options = options;
        _where = $"inference stream to {options.Endpoint.Address} (model '{options.Model}', sequence {options.SequenceId})";
        _window = new SemaphoreSlim(options.MaxInFlight, options.MaxInFlight);
        _channel = options.Endpoint.CreateChannel();
        var headers = options.Endpoint.Headers();
        headers.Add("triton_grpc_error", "true");
        _call = new GRPCInferenceService.GRPCInferenceServiceClient(_channel).ModelStreamInfer(headers, cancellationToken: _callCancel.Token);
        _reader = Task.Run(ReadLoopAsync);
    }

    /// <summary>Opens the stream (the call starts; the connection is made as the first request goes out).</summary>
    public static Task<InferenceStream> OpenAsync(InferenceStreamOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.MaxInFlight < 1) throw new ArgumentOutOfRangeException(nameof(options), options.MaxInFlight, "MaxInFlight must be at least 1");
        if (options.SequenceId == 0 || options.SequenceId > long.MaxValue) throw new ArgumentOutOfRangeException(nameof(options), options.SequenceId, "SequenceId must be 1 .. 2^63-1");
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(new InferenceStream(options));
    }

    /// <summary>Bytes of the requests written so far.</summary>
    public long BytesSent => Interlocked.Read(ref _bytesSent);

    /// <summary>Bytes of the responses read so far.</summary>
    public long BytesReceived => Interlocked.Read(ref _bytesReceived);

    /// <summary>Requests written so far.</summary>
    public long RequestsSent => Interlocked.Read(ref _sent);

    /// <summary>Requests answered so far.</summary>
    public long Answered => Interlocked.Read(ref _answered);

    /// <summary>Requests sent and not yet answered.</summary>
    public int InFlight => _sentAt.Count;

    /// <summary>Sends one update of shape [1, <paramref name="channels"/>, <paramref name="samples"/>]; waits first while <see cref="InferenceStreamOptions.MaxInFlight"/> requests are unanswered.</summary>
    /// <remarks><paramref name="start"/> marks the first request of the sequence (the server resets its state); after the request with <paramref name="end"/> the request side is closed.</remarks>
    /// <exception cref="InferenceStreamException">The stream failed (now or earlier).</exception>
    public async ValueTask SendAsync(long requestId, ReadOnlyMemory<float> update, int channels, int samples, bool start, bool end, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (update.Length != (long)channels * samples) throw new ArgumentException($"update has {update.Length} values, expected channels x samples = {channels} x {samples}");
        ThrowIfFailed();
        if (_ended) throw new InvalidOperationException($"{_where}: the sequence has already ended");

        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _failed.Token);
        try { await _window.WaitAsync(wait.Token).ConfigureAwait(false); }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested) { ThrowIfFailed(); throw; }

        var request = InferRequests.InSequence(
            InferRequests.Fp32(_options.Model, _options.InputName, update.Span, [1, channels, samples], requestId.ToString(CultureInfo.InvariantCulture), _options.OutputNames),
            _options.SequenceId, start, end);
        int bytes = request.CalculateSize() + GrpcFrameBytes;
        if (!_sentAt.TryAdd(requestId, Stopwatch.GetTimestamp()))
        {
            _window.Release();
            throw new ArgumentException($"{_where}: request id {requestId} is already in flight");
        }
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await _call.RequestStream.WriteAsync(request, cancellationToken).ConfigureAwait(false);
            Interlocked.Add(ref _bytesSent, bytes);
            Interlocked.Increment(ref _sent);
            if (end)
            {
                _ended = true;
                await _call.RequestStream.CompleteAsync().ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested) { throw; }
        catch (Exception e) when (e is RpcException or InvalidOperationException or IOException)
        {
            // The response side knows why the call died (status, lost connection); give the reader a moment to say so.
            await Task.WhenAny(_reader, Task.Delay(TimeSpan.FromSeconds(2), CancellationToken.None)).ConfigureAwait(false);
            Fail(e is RpcException rpc ? InferenceStreamException.FromRpc(rpc, _where)
                : new InferenceStreamException($"{_where}: lost the stream while sending request {requestId}: {e.Message}", transient: true, inner: e));
            ThrowIfFailed();
            throw;
        }
        finally { _writeLock.Release(); }
    }

    /// <summary>The answers in arrival order; ends when every request up to the one with <c>end</c> is answered.</summary>
    /// <exception cref="InferenceStreamException">After the answers that arrived before the failure.</exception>
    public async IAsyncEnumerable<InferenceResult> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var reader = _results.Reader;
        while (true)
        {
            bool more;
            try { more = await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false); }
            catch (Exception) when (!cancellationToken.IsCancellationRequested && _failure is not null) { throw _failure; }
            if (!more)
            {
                if (_failure is not null) throw _failure;
                yield break;
            }
            while (reader.TryRead(out var r)) yield return r;
        }
    }

    private void ThrowIfFailed()
    {
        if (Volatile.Read(ref _failure) is { } f) throw f;
    }

    private void Fail(InferenceStreamException e)
    {
        if (Interlocked.CompareExchange(ref _failure, e, null) is not null) return;
        _results.Writer.TryComplete(e);
        _failed.Cancel();
    }

    private async Task ReadLoopAsync()
    {
        try
        {
            await foreach (var response in _call.ResponseStream.ReadAllAsync(_callCancel.Token).ConfigureAwait(false))
            {
                Interlocked.Add(ref _bytesReceived, response.CalculateSize() + GrpcFrameBytes);
                string id = response.InferResponse?.Id ?? "";
                if (response.ErrorMessage.Length > 0)
                {
                    Fail(new InferenceStreamException($"{_where}: request {(id.Length > 0 ? id : "?")} failed in-band: {response.ErrorMessage}", transient: true));
                    return;
                }
                if (!long.TryParse(id, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long requestId) || !_sentAt.TryRemove(requestId, out long sentAt))
                {
                    Fail(new InferenceStreamException($"{_where}: the server answered request id '{id}', which is not in flight", transient: false));
                    return;
                }
                var roundTrip = Stopwatch.GetElapsedTime(sentAt);
                Dictionary<string, float[]> outputs;
                try { outputs = Decode(response.InferResponse!); }
                catch (InvalidDataException e)
                {
                    Fail(new InferenceStreamException($"{_where}: request {requestId}: {e.Message}", transient: false, inner: e));
                    return;
                }
                Interlocked.Increment(ref _answered);
                _window.Release();
                _results.Writer.TryWrite(new InferenceResult(requestId, outputs, roundTrip));
            }
            if (!_ended || !_sentAt.IsEmpty)
                Fail(new InferenceStreamException($"{_where}: the server closed the stream with {_sentAt.Count} request(s) unanswered{(_ended ? "" : " before the sequence ended")}", transient: true));
            else
                _results.Writer.TryComplete();
        }
        catch (RpcException e) when (!_callCancel.IsCancellationRequested || e.StatusCode != StatusCode.Cancelled)
        {
            Fail(InferenceStreamException.FromRpc(e, _where));
        }
        catch (OperationCanceledException) when (_callCancel.IsCancellationRequested)
        {
            Fail(new InferenceStreamException($"{_where}: closed", transient: true));
        }
        catch (RpcException) when (_callCancel.IsCancellationRequested)
        {
            Fail(new InferenceStreamException($"{_where}: closed", transient: true));
        }
        catch (Exception e) when (e is IOException or HttpRequestException or InvalidOperationException)
        {
            Fail(new InferenceStreamException($"{_where}: lost the stream: {e.Message}", transient: true, inner: e));
        }
    }

    private Dictionary<string, float[]> Decode(ModelInferResponse response)
    {
        var outputs = new Dictionary<string, float[]>(StringComparer.Ordinal);
        if (_options.OutputNames.Count == 0)
            foreach (var o in response.Outputs) outputs[o.Name] = InferRequests.Output(response, o.Name);
        else
            foreach (var name in _options.OutputNames) outputs[name] = InferRequests.Output(response, name);
        return outputs;
    }

    /// <summary>Cancels the call if it is still open and releases the connection.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;
        await _callCancel.CancelAsync().ConfigureAwait(false);
        try { await _reader.ConfigureAwait(false); }
        catch (Exception) { /* the reader reports through Fail, never by throwing */ }
        _call.Dispose();
        _channel.Dispose();
        _callCancel.Dispose();
        _failed.Dispose();
        _window.Dispose();
        _writeLock.Dispose();
    }
}
