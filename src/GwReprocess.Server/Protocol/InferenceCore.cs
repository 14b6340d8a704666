using System.Globalization;
using Grpc.Core;
using GwReprocess.Server.Execution;
using GwReprocess.Server.Repository;
using GwReprocess.Server.SharedMemory;
using Inference;

namespace GwReprocess.Server.Protocol;

/// <summary>What the gRPC and HTTP front ends share: the models, readiness, metadata and the decode → schedule → encode path.</summary>
public sealed class InferenceCore(ModelManager models)
{
    /// <summary>Version reported in ServerMetadata (Triton's form; "name" says it is not Triton).</summary>
    public const string ServerName = "gwrepro";

    /// <summary>Triton's extension list, minus what is not implemented (classification, CUDA shared memory, trace, logging).</summary>
    public static readonly string[] Extensions = ["sequence", "model_repository", "schedule_policy", "model_configuration", "system_shared_memory", "binary_tensor_data", "parameters", "statistics"];

    private volatile bool _ready;

    public ModelManager Models { get; } = models;

    /// <summary>Registered system shared-memory regions (Triton's extension).</summary>
    public SystemSharedMemoryRegistry SharedMemory { get; } = new();

    public bool Ready => _ready;

    public void MarkReady(bool ready) => _ready = ready;

    public void CheckExplicitControl()
    {
        if (Models.Mode != ModelControlMode.Explicit)
            throw InferenceException.Unavailable("explicit model load / unload is not allowed if polling is enabled");
    }

    public ServerMetadataResponse ServerMetadata()
    {
        var r = new ServerMetadataResponse
        {
            Name = ServerName,
            Version = typeof(InferenceCore).Assembly.GetName().Version?.ToString(3) ?? "0.0.0",
        };
        r.Extensions.AddRange(Extensions);
        return r;
    }

    /// <summary>Whether the model (or the given version) serves requests now; false for an unknown, unloaded or still loading one.</summary>
    /// <remarks>
    /// Triton's core (server.cc, InferenceServer::ModelIsReady) answers success with ready false whenever the model lookup fails,
    /// so clients read "not ready" and may load the model, rather than an error.
    /// </remarks>
    public bool ModelReady(string name, string version)
    {
        ModelVersion v;
        try { v = Models.Acquire(name, version, SequenceId.None, false); }
        catch (InferenceException e) when (e.Code is StatusCode.Unavailable or StatusCode.NotFound) { return false; }
        try { return !v.IsRetired && !v.IsDisposed; }
        finally { v.Release(); }
    }

    public ModelMetadataResponse ModelMetadata(string name, string version)
    {
        var v = Models.Acquire(name, version, SequenceId.None, false);
        try
        {
            var c = v.Config;
            var r = new ModelMetadataResponse { Name = name, Platform = c.Platform.Length > 0 ? c.Platform : c.Backend };
            if (version.Length > 0) r.Versions.Add(version);
            else r.Versions.AddRange(Models.Versions(name).Select(x => x.ToString(CultureInfo.InvariantCulture)));
            foreach (var i in c.Input) r.Inputs.Add(Tensor(i.Name, i.DataType, i.Dims, c.MaxBatchSize));
            foreach (var o in c.Output) r.Outputs.Add(Tensor(o.Name, o.DataType, o.Dims, c.MaxBatchSize));
            return r;
        }
        finally { v.Release(); }
    }

    private static ModelMetadataResponse.Types.TensorMetadata Tensor(string name, DataType type, IEnumerable<long> dims, int maxBatch)
    {
        var t = new ModelMetadataResponse.Types.TensorMetadata { Name = name, Datatype = TensorTypes.ToProtocol(type) };
        if (maxBatch >= 1) t.Shape.Add(-1);
        t.Shape.AddRange(dims);
        return t;
    }

    public ModelStatisticsResponse Statistics(string name, string version)
    {
        var r = new ModelStatisticsResponse();
        if (name.Length > 0) Models.Versions(name); // NOT_FOUND for unknown models
        foreach (var v in Models.ReadyVersions.OrderBy(v => v.Name, StringComparer.Ordinal).ThenBy(v => v.Version))
        {
            if (name.Length > 0 && v.Name != name) continue;
            if (version.Length > 0 && v.Version.ToString(CultureInfo.InvariantCulture) != version) continue;
            r.ModelStats.Add(v.Statistics.ToProto());
        }
        if (name.Length > 0 && version.Length > 0 && r.ModelStats.Count == 0)
            throw InferenceException.NotFound($"Request for unknown model: '{name}' version {version} is not found");
        return r;
    }

    /// <summary>The whole inference path: pick the version, validate and decode against its config, run, record.</summary>
    public async Task<InferenceResult> InferAsync(ModelInferRequest request, long arrival, CancellationToken cancellationToken)
    {
        if (!Ready) throw InferenceException.Unavailable("Server not ready");
        var (sequence, start, end) = RequestDecoder.SequenceParameters(request.Parameters);
        var v = Models.Acquire(request.ModelName, request.ModelVersion, sequence, start);
        // The regions a request names stay mapped until its outputs are written and detached from them.
        using var lease = new SharedMemoryLease(SharedMemory);
        try
        {
            InferenceRequest decoded;
            try { decoded = RequestDecoder.Decode(request, v.Config, sequence, start, end, arrival, lease); }
            catch (InferenceException)
            {
                // Refused before reaching a scheduler: Triton's uncategorized core failure.
                v.Statistics.RecordFailure(arrival, Metrics.FailureReason.Other);
                throw;
            }
            var result = await Models.InferAsync(v, decoded, cancellationToken).ConfigureAwait(false);
            if (!lease.HoldsRegions) return result;
            lease.WriteOutputs(result);
            return SharedMemoryLease.Detach(result);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw new InferenceException(StatusCode.Cancelled, "request cancelled");
        }
        finally { v.Release(); }
    }
}
