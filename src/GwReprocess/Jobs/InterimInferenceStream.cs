// INTERIM: the contract API of src/GwReprocess/Inference (CONTRACTS.md), written by helper "stream" on its branch.
// This file lets the client compile and run until that branch is merged; it is deleted at the merge.
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading.Channels;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Inference;

namespace GwReprocess.Jobs.Interim;

/// <summary>host:port plus optional bearer token / TLS.</summary>
public sealed record InferenceEndpoint(string Address, string? Token = null, bool Tls = false)
{
    internal GrpcChannel OpenChannel() => GrpcChannel.ForAddress((Tls ? "https://" : "http://") + Address,
        new GrpcChannelOptions { MaxReceiveMessageSize = null, MaxSendMessageSize = null });

    internal Metadata Headers() => Token is null ? new Metadata() : new Metadata { { "authorization", "Bearer " + Token } };
}

/// <summary>ServerReady + ModelReady with exponential backoff until a deadline.</summary>
public static class ServerReadiness
{
    public static async Task WaitAsync(InferenceEndpoint ep, string model, TimeSpan deadline, IProgress<string>? log, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var delay = TimeSpan.FromMilliseconds(100);
        string last = "";
        while (true)
        {
            try
            {
                using var channel = ep.OpenChannel();
                var client = new GRPCInferenceService.GRPCInferenceServiceClient(channel);
                if ((await client.ServerReadyAsync(new ServerReadyRequest(), ep.Headers(), cancellationToken: ct)).Ready
                    && (await client.ModelReadyAsync(new ModelReadyRequest { Name = model }, ep.Headers(), cancellationToken: ct)).Ready) return;
                last = $"model '{model}' not ready";
            }
            catch (RpcException e) { last = e.Status.Detail; }
            if (clock.Elapsed > deadline) throw new InferenceStreamException($"{ep.Address}: not ready after {deadline.TotalSeconds:0} s ({last})", true);
            log?.Report($"waiting for {ep.Address}: {last}");
            await Task.Delay(delay, ct);
            delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 5000));
        }
    }
}

/// <summary>"host:port" passes through; a plain name is looked up in &lt;rendezvous&gt;/servers/&lt;name&gt;.</summary>
public static class ServerAddress
{
    public static async Task<string> ResolveAsync(string server, string rendezvousPrefix, TimeSpan deadline, CancellationToken ct)
    {
        if (server.Contains(':')) return server;
        var (bucket, prefix) = GwReprocess.Storage.BucketFactory.Open(rendezvousPrefix);
        using (bucket)
        {
            string key = GwReprocess.Storage.BucketUri.AsPrefix(prefix) + "servers/" + server;
            var clock = Stopwatch.StartNew();
            while (true)
            {
                if (await bucket.ExistsAsync(key, ct)) return System.Text.Encoding.UTF8.GetString(await bucket.ReadAllBytesAsync(key, ct)).Trim();
                if (clock.Elapsed > deadline) throw new InferenceStreamException($"{bucket.UriOf(key)}: server '{server}' did not publish its address within {deadline.TotalSeconds:0} s", true);
                await Task.Delay(500, ct);
            }
        }
    }
}

public sealed record InferenceStreamOptions(InferenceEndpoint Endpoint, string Model, string InputName,
    IReadOnlyList<string> OutputNames, ulong SequenceId, int MaxInFlight);

public sealed record InferenceResult(long RequestId, IReadOnlyDictionary<string, float[]> Outputs, TimeSpan RoundTrip);

public sealed class InferenceStreamException(string message, bool transient, Exception? inner = null) : Exception(message, inner)
{
    public bool Transient { get; } = transient;
}

/// <summary>One ModelStreamInfer call carrying one sequence.</summary>
public sealed class InferenceStream : IAsyncDisposable
{
    private readonly InferenceStreamOptions _o;
    private readonly GrpcChannel _channel;
    private readonly AsyncDuplexStreamingCall<ModelInferRequest, ModelStreamInferResponse> _call;
    private readonly SemaphoreSlim _window;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<long, long> _sentAt = new();
    private long _bytesSent, _bytesReceived;

    private InferenceStream(InferenceStreamOptions o)
    {
        _o = o;
        _channel = o.Endpoint.OpenChannel();
        _call = new GRPCInferenceService.GRPCInferenceServiceClient(_channel).ModelStreamInfer(o.Endpoint.Headers());
        _window = new SemaphoreSlim(o.MaxInFlight, o.MaxInFlight);
    }

    public static Task<InferenceStream> OpenAsync(InferenceStreamOptions o, CancellationToken ct) => Task.FromResult(new InferenceStream(o));

    public long BytesSent => Interlocked.Read(ref _bytesSent);
    public long BytesReceived => Interlocked.Read(ref _bytesReceived);

    public async ValueTask SendAsync(long requestId, ReadOnlyMemory<float> update, int channels, int samples, bool start, bool end, CancellationToken ct)
    {
        await _window.WaitAsync(ct);
        var r = new ModelInferRequest { ModelName = _o.Model, Id = requestId.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        var t = new ModelInferRequest.Types.InferInputTensor { Name = _o.InputName, Datatype = "FP32" };
        t.Shape.AddRange([1, channels, samples]);
        r.Inputs.Add(t);
        r.RawInputContents.Add(ByteString.CopyFrom(MemoryMarshal.AsBytes(update.Span)));
        r.Parameters["sequence_id"] = new InferParameter { Int64Param = (long)_o.SequenceId };
        r.Parameters["sequence_start"] = new InferParameter { BoolParam = start };
        r.Parameters["sequence_end"] = new InferParameter { BoolParam = end };
        _sentAt[requestId] = Stopwatch.GetTimestamp();
        try { await _call.RequestStream.WriteAsync(r, ct); }
        catch (RpcException e) { throw Wrap(e); }
        catch (InvalidOperationException e) { throw new InferenceStreamException($"{_o.Endpoint.Address}: stream lost ({e.Message})", true, e); }
        Interlocked.Add(ref _bytesSent, r.CalculateSize());
        if (end) await _call.RequestStream.CompleteAsync();
    }

    public async IAsyncEnumerable<InferenceResult> ReadAllAsync([EnumeratorCancellation] CancellationToken ct)
    {
        while (true)
        {
            bool more;
            try { more = await _call.ResponseStream.MoveNext(ct); }
            catch (RpcException e) when (!ct.IsCancellationRequested) { throw Wrap(e); }
            if (!more) yield break;
            var m = _call.ResponseStream.Current;
            Interlocked.Add(ref _bytesReceived, m.CalculateSize());
            if (m.ErrorMessage.Length > 0) throw new InferenceStreamException($"{_o.Endpoint.Address}: {m.ErrorMessage}", true);
            var resp = m.InferResponse;
            long id = long.Parse(resp.Id, System.Globalization.CultureInfo.InvariantCulture);
            var outputs = new Dictionary<string, float[]>();
            for (int i = 0; i < resp.Outputs.Count; i++)
                outputs[resp.Outputs[i].Name] = MemoryMarshal.Cast<byte, float>(resp.RawOutputContents[i].Span).ToArray();
            var rt = _sentAt.TryRemove(id, out long t0) ? Stopwatch.GetElapsedTime(t0) : TimeSpan.Zero;
            _window.Release();
            yield return new InferenceResult(id, outputs, rt);
        }
    }

    private InferenceStreamException Wrap(RpcException e) => new($"{_o.Endpoint.Address}: {e.Status.StatusCode}: {e.Status.Detail}",
        e.StatusCode is not (StatusCode.InvalidArgument or StatusCode.NotFound or StatusCode.Unauthenticated or StatusCode.PermissionDenied), e);

    public async ValueTask DisposeAsync()
    {
        _call.Dispose();
        _channel.Dispose();
        await Task.CompletedTask;
    }
}
