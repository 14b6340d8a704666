using System.Diagnostics;
using Grpc.Core;
using GwReprocess.Server.Execution;
using GwReprocess.Server.Repository;
using Inference;

namespace GwReprocess.Server.Protocol;

/// <summary>Triton's <c>inference.GRPCInferenceService</c> over the loaded models.</summary>
public sealed class TritonGrpcService(InferenceCore core) : GRPCInferenceService.GRPCInferenceServiceBase
{
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

    public override Task<ServerLiveResponse> ServerLive(ServerLiveRequest request, ServerCallContext context) =>
        Task.FromResult(new ServerLiveResponse { Live = true });

    public override Task<ServerReadyResponse> ServerReady(ServerReadyRequest request, ServerCallContext context) =>
        Task.FromResult(new ServerReadyResponse { Ready = core.Ready });

    public override Task<ModelReadyResponse> ModelReady(ModelReadyRequest request, ServerCallContext context) =>
        Task.FromResult(GuardSync(() => new ModelReadyResponse { Ready = core.ModelReady(request.Name, request.Version) }));

    public override Task<ServerMetadataResponse> ServerMetadata(ServerMetadataRequest request, ServerCallContext context) =>
        Task.FromResult(core.ServerMetadata());

    public override Task<ModelMetadataResponse> ModelMetadata(ModelMetadataRequest request, ServerCallContext context) =>
        Task.FromResult(GuardSync(() => core.ModelMetadata(request.Name, request.Version)));

    public override Task<ModelConfigResponse> ModelConfig(ModelConfigRequest request, ServerCallContext context) =>
        Task.FromResult(GuardSync(() => new ModelConfigResponse { Config = core.Models.Config(request.Name, request.Version) }));

    public override Task<ModelStatisticsResponse> ModelStatistics(ModelStatisticsRequest request, ServerCallContext context) =>
        Task.FromResult(GuardSync(() => core.Statistics(request.Name, request.Version)));

    public override Task<RepositoryIndexResponse> RepositoryIndex(RepositoryIndexRequest request, ServerCallContext context) =>
        Guard(async () =>
        {
            var r = new RepositoryIndexResponse();
            foreach (var m in await core.Models.IndexAsync(request.Ready, context.CancellationToken).ConfigureAwait(false))
                r.Models.Add(new RepositoryIndexResponse.Types.ModelIndex { Name = m.Name, Version = m.Version, State = m.State, Reason = m.Reason });
            return r;
        });

    public override Task<RepositoryModelLoadResponse> RepositoryModelLoad(RepositoryModelLoadRequest request, ServerCallContext context) =>
        Guard(async () =>
        {
            core.CheckExplicitControl();
            if (request.Parameters.Count > 0)
                throw new InferenceException(StatusCode.Unimplemented, "load parameters (config override, file:<path>) are not supported by gwrepro serve");
            await core.Models.LoadAsync(request.ModelName, context.CancellationToken).ConfigureAwait(false);
            return new RepositoryModelLoadResponse();
        });

    public override Task<RepositoryModelUnloadResponse> RepositoryModelUnload(RepositoryModelUnloadRequest request, ServerCallContext context) =>
        Guard(async () =>
        {
            core.CheckExplicitControl();
            await core.Models.UnloadAsync(request.ModelName, context.CancellationToken).ConfigureAwait(false);
            return new RepositoryModelUnloadResponse();
        });

    public override Task<ModelInferResponse> ModelInfer(ModelInferRequest request, ServerCallContext context) =>
        Guard(async () =>
        {
            var result = await core.InferAsync(request, Stopwatch.GetTimestamp(), context.CancellationToken).ConfigureAwait(false);
            return RequestDecoder.Encode(result, request.Id);
        });

    public override async Task ModelStreamInfer(IAsyncStreamReader<ModelInferRequest> requestStream, IServerStreamWriter<ModelStreamInferResponse> responseStream, ServerCallContext context)
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
                previousWrite = WriteInOrderAsync(previousWrite, work, responseStream, inFlight, endOnError ? e =>
                {
                    failure ??= e;
                    abort.Cancel();
                } : null);
            }
            await previousWrite.ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (failure is not null) { }
        if (failure is not null) throw failure;
    }

    private async Task<(ModelStreamInferResponse Response, StatusCode Code)> RunInOrderAsync(Task after, ModelInferRequest request, long arrival, CancellationToken ct)
    {
        try { await after.ConfigureAwait(false); }
        catch { /* the previous request's failure was reported in its own response */ }
        try
        {
            var result = await core.InferAsync(request, arrival, ct).ConfigureAwait(false);
            return (new ModelStreamInferResponse { InferResponse = RequestDecoder.Encode(result, request.Id) }, StatusCode.OK);
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

    private static async Task WriteInOrderAsync(Task previous, Task<(ModelStreamInferResponse Response, StatusCode Code)> work,
        IServerStreamWriter<ModelStreamInferResponse> stream, SemaphoreSlim inFlight, Action<RpcException>? endWith)
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

    public override Task<SystemSharedMemoryStatusResponse> SystemSharedMemoryStatus(SystemSharedMemoryStatusRequest request, ServerCallContext context) =>
        Task.FromResult(new SystemSharedMemoryStatusResponse());

    public override Task<SystemSharedMemoryRegisterResponse> SystemSharedMemoryRegister(SystemSharedMemoryRegisterRequest request, ServerCallContext context) =>
        throw new RpcException(new Status(StatusCode.Unimplemented, "system shared memory is not supported by gwrepro serve"));

    public override Task<SystemSharedMemoryUnregisterResponse> SystemSharedMemoryUnregister(SystemSharedMemoryUnregisterRequest request, ServerCallContext context) =>
        Task.FromResult(new SystemSharedMemoryUnregisterResponse());

    public override Task<CudaSharedMemoryStatusResponse> CudaSharedMemoryStatus(CudaSharedMemoryStatusRequest request, ServerCallContext context) =>
        Task.FromResult(new CudaSharedMemoryStatusResponse());

    public override Task<CudaSharedMemoryRegisterResponse> CudaSharedMemoryRegister(CudaSharedMemoryRegisterRequest request, ServerCallContext context) =>
        throw new RpcException(new Status(StatusCode.Unimplemented, "CUDA shared memory is not supported by gwrepro serve"));

    public override Task<CudaSharedMemoryUnregisterResponse> CudaSharedMemoryUnregister(CudaSharedMemoryUnregisterRequest request, ServerCallContext context) =>
        Task.FromResult(new CudaSharedMemoryUnregisterResponse());

    public override Task<TraceSettingResponse> TraceSetting(TraceSettingRequest request, ServerCallContext context) =>
        throw new RpcException(new Status(StatusCode.Unimplemented, "tracing is not supported by gwrepro serve"));

    public override Task<LogSettingsResponse> LogSettings(LogSettingsRequest request, ServerCallContext context) =>
        throw new RpcException(new Status(StatusCode.Unimplemented, "log settings are not supported by gwrepro serve"));
}
