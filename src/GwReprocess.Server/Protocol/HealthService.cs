using Grpc.Core;
using Grpc.Health.V1;

namespace GwReprocess.Server.Protocol;

/// <summary>grpc.health.v1.Health as Triton answers it: SERVING when the server is ready (any service name), NOT_SERVING otherwise.</summary>
public sealed class HealthService(InferenceCore core) : Health.HealthBase
{
    private HealthCheckResponse Status() => new()
    {
        Status = core.Ready ? HealthCheckResponse.Types.ServingStatus.Serving : HealthCheckResponse.Types.ServingStatus.NotServing,
    };

    public override Task<HealthCheckResponse> Check(HealthCheckRequest request, ServerCallContext context) => Task.FromResult(Status());

    public override async Task Watch(HealthCheckRequest request, IServerStreamWriter<HealthCheckResponse> responseStream, ServerCallContext context)
    {
        var last = Status();
        await responseStream.WriteAsync(last).ConfigureAwait(false);
        try
        {
            while (!context.CancellationToken.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), context.CancellationToken).ConfigureAwait(false);
                var now = Status();
                if (now.Status == last.Status) continue;
                await responseStream.WriteAsync(now).ConfigureAwait(false);
                last = now;
            }
        }
        catch (OperationCanceledException) { }
    }
}
