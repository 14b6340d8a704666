using System.Diagnostics;
using Grpc.Core;
using GwReprocess.Server.Execution;
using GwReprocess.Server.Repository;
using GwReprocess.Server.SharedMemory;
using Inference;

namespace GwReprocess.Server.Protocol;

/// <summary>Triton's <c>inference.GRPCInferenceService</c> over the loaded models.</summary>
/// <remarks>
/// Not derived from the generated service base: Grpc.AspNetCore binds the methods this class declares through
/// <see cref="BindService"/>, which is the generated binding with the pooled request reader on ModelInfer and
/// ModelStreamInfer (same paths, same messages). Every RPC of the proto must be declared here (virtual, as the
/// binder requires), or binding fails at start.
/// </remarks>
[BindServiceMethod(typeof(TritonGrpcService), nameof(BindService))]
public class TritonGrpcService(InferenceCore core)
{
    /// <summary>Called by Grpc.AspNetCore (with a null service) to learn the methods and their marshallers.</summary>
    public static void BindService(ServiceBinderBase binder, TritonGrpcService? service) =>
        GRPCInferenceService.BindService(new PooledRequestBinder(binder), null!);

    /// <summary>Responses a stream may owe before the server stops reading from it (back-pressure on one client).</summary>
    private const int MaxInFlightPerStream = 64;

    private static async Task<T> Guard<T>(Func<Task<T>> call)
    {
        try { return await call().ConfigureAwait(false); }
        catch (InferenceException e) { throw new RpcException(new Status(e.Code, e.Message)); }
        catch (BadInputException e) { throw new RpcException(new Status(StatusCode.InvalidArgument, e.Message)); }
    }

    private static T GuardSync<T>(Func<T> call)
    {
        try { return call(); }
        catch (InferenceException e) { throw new RpcException(new Status(e.Code, e.Message)); }
    }

    public virtual Task<ServerLiveResponse> ServerLive(ServerLiveRequest request, ServerCallContext context) =>
        Task.FromResult(new ServerLiveResponse { Live = true });

    public virtual Task<ServerReadyResponse> ServerReady(ServerReadyRequest request, ServerCallContext context) =>
        Task.FromResult(new ServerReadyResponse { Ready = core.Ready });

    public virtual Task<ModelReadyResponse> ModelReady(ModelReadyRequest request, ServerCallContext context) =>
        Task.FromResult(GuardSync(() => new ModelReadyResponse { Ready = core.ModelReady(request.Name, request.Version) }));

    public virtual Task<ServerMetadataResponse> ServerMetadata(ServerMetadataRequest request, ServerCallContext context) =>
        Task.FromResult(core.ServerMetadata());

    public virtual Task<ModelMetadataResponse> ModelMetadata(ModelMetadataRequest request, ServerCallContext context) =>
        Task.FromResult(GuardSync(() => core.ModelMetadata(request.Name, request.Version)));

    public virtual Task<ModelConfigResponse> ModelConfig(ModelConfigRequest request, ServerCallContext context) =>
        Task.FromResult(GuardSync(() => new ModelConfigResponse { Config = core.Models.Config(request.Name, request.Version) }));

    public virtual Task<ModelStatisticsResponse> ModelStatistics(ModelStatisticsRequest request, ServerCallContext context) =>
        Task.FromResult(GuardSync(() => core.Statistics(request.Name, request.Version)));

    public virtual Task<RepositoryIndexResponse> RepositoryIndex(RepositoryIndexRequest request, ServerCallContext context) =>
        Guard(async () =>
        {
            var r = new RepositoryIndexResponse();
            foreach (var m in await core.Models.IndexAsync(request.Ready, context.CancellationToken).ConfigureAwait(false))
                r.Models.Add(new RepositoryIndexResponse.Types.ModelIndex { Name = m.Name, Version = m.Version, State = m.State, Reason = m.Reason });
            return r;
        });

    public virtual Task<RepositoryModelLoadResponse> RepositoryModelLoad(RepositoryModelLoadRequest request, ServerCallContext context) =>
        Guard(async () =>
        {
            core.CheckExplicitControl();
            if (request.Parameters.Count > 0)
                throw new InferenceException(StatusCode.Unimplemented, "load parameters (config override, file:<path>) are not supported by gwrepro serve");
            await core.Models.LoadAsync(request.ModelName, context.CancellationToken).ConfigureAwait(false);
            return new RepositoryModelLoadResponse();
        });

    public virtual Task<RepositoryModelUnloadResponse> RepositoryModelUnload(RepositoryModelUnloadRequest request, ServerCallContext context) =>
        Guard(async () =>
        {
            core.CheckExplicitControl();
            await core.Models.UnloadAsync(request.ModelName, context.CancellationToken).ConfigureAwait(false);
            return new RepositoryModelUnloadResponse();
        });

    public virtual Task<ModelInferResponse> ModelInfer(ModelInferRequest request, ServerCallContext context)
    {
        // The pooled input buffers go back once the response is on the wire (an output could, in principle, alias an input).
        context.GetHttpContext().Response.RegisterForDispose(new RequestRelease(request));
        return Guard(async () =>
        {
            var result = await core.InferAsync(request, Stopwatch.GetTimestamp(), context.CancellationToken).ConfigureAwait(false);
            return RequestDecoder.Encode(result, request);
        });
    }

    private sealed class RequestRelease(ModelInferRequest request) : IDisposable
    {
        public void Dispose() => InferRequestMarshaller.Release(request);
    }

    public virtual async Task ModelStreamInfer(IAsyncStreamReader<ModelInferRequest> requestStream, IServerStreamWriter<ModelStreamInferResponse> responseStream, ServerCallContext context)
    {
        // Triton: errors go in-band unless the client opened the stream with triton_grpc_error: true.
        bool endOnError = context.RequestHeaders.GetValue("triton_grpc_error") is "true";
        using var abort = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
        var ct = abort.Token;
        RpcException? failure = null;
        var inFlight = new SemaphoreSlim(MaxInFlightPerStream);
        var sequenceTails = new Dictionary<SequenceId, Task>();
        Task previousWrite = Task.CompletedTask;
        try
        {
            await foreach (var request in requestStream.ReadAllAsync(ct).ConfigureAwait(false))
            {
                await inFlight.WaitAsync(ct).ConfigureAwait(false);
                long arrival = Stopwatch.GetTimestamp();
                SequenceId key = SequenceId.None;
                try { key = RequestDecoder.SequenceParameters(request.Parameters).Id; }
                catch (InferenceException) { }
                Task after = !key.IsNone && sequenceTails.TryGetValue(key, out var tail) ? tail : Task.CompletedTask;
                var work = RunInOrderAsync(after, request, arrival, ct);
                if (!key.IsNone) sequenceTails[key] = work;
                if (sequenceTails.Count > 4 * MaxInFlightPerStream)
                    foreach (var k in sequenceTails.Where(p => p.Value.IsCompleted).Select(p => p.Key).ToList()) sequenceTails.Remove(k);
                previousWrite = WriteInOrderAsync(previousWrite, request, work, responseStream, inFlight, endOnError ? e =>
                {
                    failure ??= e;
                    abort.Cancel();
                } : null);
            }
            await previousWrite.ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (failure is not null) { }
        catch (Exception e) when (failure is null && ClientGone(e, context))
        {
            // A client that drops its stream is ordinary on a busy server, and there is no one left to answer: Triton's stream
            // handler (stream_infer_handler.cc) only notes the cancellation at verbose level 1, so this says nothing.
            return;
        }
        if (failure is not null) throw failure;
    }

    /// <summary>The stream failed because its client went away (reset the stream, closed the connection), not through a fault of ours.</summary>
    /// <remarks>
    /// Kestrel fails the read or write with an IOException ("The client reset the request stream.") and may cancel the call's token
    /// only a moment later, so an IOException counts by itself; nothing else on this path reads or writes a stream.
    /// </remarks>
    private static bool ClientGone(Exception e, ServerCallContext context) =>
        e is IOException || context.CancellationToken.IsCancellationRequested && e is OperationCanceledException or InvalidOperationException;

    private async Task<(ModelStreamInferResponse Response, StatusCode Code)> RunInOrderAsync(Task after, ModelInferRequest request, long arrival, CancellationToken ct)
    {
        try { await after.ConfigureAwait(false); }
        catch { /* the previous request's failure was reported in its own response */ }
        try
        {
            var result = await core.InferAsync(request, arrival, ct).ConfigureAwait(false);
            return (new ModelStreamInferResponse { InferResponse = RequestDecoder.Encode(result, request) }, StatusCode.OK);
        }
        catch (InferenceException e)
        {
            return (new ModelStreamInferResponse { ErrorMessage = e.Message, InferResponse = new ModelInferResponse { Id = request.Id } }, e.Code);
        }
        catch (BadInputException e)
        {
            return (new ModelStreamInferResponse { ErrorMessage = e.Message, InferResponse = new ModelInferResponse { Id = request.Id } }, StatusCode.InvalidArgument);
        }
    }

    private static async Task WriteInOrderAsync(Task previous, ModelInferRequest request, Task<(ModelStreamInferResponse Response, StatusCode Code)> work,
        IServerStreamWriter<ModelStreamInferResponse> stream, SemaphoreSlim inFlight, Action<RpcException>? endWith)
    {
        try
        {
            await previous.ConfigureAwait(false);
            var (response, code) = await work.ConfigureAwait(false);
            try
            {
                if (endWith is not null && code != StatusCode.OK)
                {
                    endWith(new RpcException(new Status(code, response.ErrorMessage)));
                    return;
                }
                await stream.WriteAsync(response).ConfigureAwait(false);
            }
            finally { inFlight.Release(); }
        }
        finally
        {
            // The request's pooled buffers go back only when nothing runs on them any more (its response is serialized by now).
            if (!work.IsCompleted)
            {
                try { await work.ConfigureAwait(false); }
                catch { /* reported by the stream's own failure */ }
            }
            InferRequestMarshaller.Release(request);
        }
    }

    /// <summary>Passes the generated methods through, swapping the request marshaller of ModelInfer and ModelStreamInfer.</summary>
    private sealed class PooledRequestBinder(ServiceBinderBase inner) : ServiceBinderBase
    {
        private static Method<TRequest, TResponse> Pooled<TRequest, TResponse>(Method<TRequest, TResponse> method) where TRequest : class where TResponse : class =>
            typeof(TRequest) == typeof(ModelInferRequest)
                ? new Method<TRequest, TResponse>(method.Type, method.ServiceName, method.Name, (Marshaller<TRequest>)(object)InferRequestMarshaller.Instance, method.ResponseMarshaller)
                : method;

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, UnaryServerMethod<TRequest, TResponse>? handler) =>
            inner.AddMethod(Pooled(method), handler);

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ClientStreamingServerMethod<TRequest, TResponse>? handler) =>
            inner.AddMethod(Pooled(method), handler);

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ServerStreamingServerMethod<TRequest, TResponse>? handler) =>
            inner.AddMethod(Pooled(method), handler);

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, DuplexStreamingServerMethod<TRequest, TResponse>? handler) =>
            inner.AddMethod(Pooled(method), handler);
    }

    public virtual Task<SystemSharedMemoryStatusResponse> SystemSharedMemoryStatus(SystemSharedMemoryStatusRequest request, ServerCallContext context) =>
        Task.FromResult(GuardSync(() => core.SharedMemory.Status(request.Name)));

    public virtual Task<SystemSharedMemoryRegisterResponse> SystemSharedMemoryRegister(SystemSharedMemoryRegisterRequest request, ServerCallContext context) =>
        Task.FromResult(GuardSync(() =>
        {
            core.SharedMemory.Register(request.Name, request.Key, request.Offset, request.ByteSize);
            return new SystemSharedMemoryRegisterResponse();
        }));

    public virtual Task<SystemSharedMemoryUnregisterResponse> SystemSharedMemoryUnregister(SystemSharedMemoryUnregisterRequest request, ServerCallContext context) =>
        Task.FromResult(GuardSync(() =>
        {
            core.SharedMemory.Unregister(request.Name);
            return new SystemSharedMemoryUnregisterResponse();
        }));

    public virtual Task<CudaSharedMemoryStatusResponse> CudaSharedMemoryStatus(CudaSharedMemoryStatusRequest request, ServerCallContext context) =>
        Task.FromResult(GuardSync(() => request.Name.Length == 0 ? new CudaSharedMemoryStatusResponse() : throw CudaSharedMemory.NotFound(request.Name, core.SharedMemory)));

    public virtual Task<CudaSharedMemoryRegisterResponse> CudaSharedMemoryRegister(CudaSharedMemoryRegisterRequest request, ServerCallContext context) =>
        Task.FromResult(GuardSync<CudaSharedMemoryRegisterResponse>(() => throw CudaSharedMemory.RegisterRefused(request.Name)));

    public virtual Task<CudaSharedMemoryUnregisterResponse> CudaSharedMemoryUnregister(CudaSharedMemoryUnregisterRequest request, ServerCallContext context) =>
        Task.FromResult(new CudaSharedMemoryUnregisterResponse());

    public virtual Task<TraceSettingResponse> TraceSetting(TraceSettingRequest request, ServerCallContext context) =>
        throw new RpcException(new Status(StatusCode.Unimplemented, "tracing is not supported by gwrepro serve"));

    public virtual Task<LogSettingsResponse> LogSettings(LogSettingsRequest request, ServerCallContext context) =>
        throw new RpcException(new Status(StatusCode.Unimplemented, "log settings are not supported by gwrepro serve"));
}
