using System.Globalization;
using Grpc.Core;
using GwReprocess.Cleaning;
using GwReprocess.Inference;
using Inference;

namespace GwReprocess.Jobs;

/// <summary>Asks the server which model (and which version of it) estimates each detector's noise, for the provenance written into cleaned frames.</summary>
/// <remarks>
/// The cleaner is the ensemble step that produces the detector's noise output; under the hermes contract with a server-side
/// aggregator, the step that feeds the aggregator. A step pinning a version (<c>model_version</c> &gt; 0) ran that version; one
/// asking for the latest ran the newest version the server has ready (ModelMetadata), as the server routes it.
/// </remarks>
internal static class ModelProvenance
{
    /// <summary>One provenance per detector of <paramref name="layout"/>, in its order; a server that will not say (an RPC error) gives version 0 ("unknown") and a note.</summary>
    public static async Task<IReadOnlyList<CleaningProvenance>> ResolveAsync(InferenceEndpoint endpoint, StreamLayout layout, string workflow,
        Action<string> note, CancellationToken ct)
    {
        using var channel = endpoint.CreateChannel();
        var client = new GRPCInferenceService.GRPCInferenceServiceClient(channel);
        var headers = endpoint.Headers();
        var configs = new Dictionary<string, ModelConfig?>(StringComparer.Ordinal);
        var latest = new Dictionary<string, long>(StringComparer.Ordinal);

        async Task<ModelConfig?> ConfigAsync(string name)
        {
            if (configs.TryGetValue(name, out var known)) return known;
            ModelConfig? c = null;
            try { c = (await client.ModelConfigAsync(new ModelConfigRequest { Name = name }, headers, cancellationToken: ct)).Config; }
            catch (RpcException e) when (e.StatusCode != StatusCode.Cancelled) { note($"provenance: ModelConfig '{name}': {e.StatusCode}: {e.Status.Detail}"); }
            return configs[name] = c;
        }

        async Task<long> LatestAsync(string name)
        {
            if (latest.TryGetValue(name, out long known)) return known;
            long v = 0;
            try
            {
                var m = await client.ModelMetadataAsync(new ModelMetadataRequest { Name = name }, headers, cancellationToken: ct);
                foreach (var text in m.Versions)
                    if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long parsed)) v = Math.Max(v, parsed);
            }
            catch (RpcException e) when (e.StatusCode != StatusCode.Cancelled) { note($"provenance: ModelMetadata '{name}': {e.StatusCode}: {e.Status.Detail}"); }
            return latest[name] = v;
        }

        var result = new List<CleaningProvenance>();
        foreach (var d in layout.Detectors)
        {
            string ensemble = d.Hermes?.Model ?? layout.Model;
            string output = d.Hermes?.Output ?? d.NoiseOutput;
            var config = await ConfigAsync(ensemble).ConfigureAwait(false);
            var steps = config?.EnsembleScheduling?.Step;
            var step = steps?.FirstOrDefault(s => s.OutputMap.Values.Contains(output));
            // The aggregator only averages what the network before it estimated: that network is the cleaner.
            if (step is not null && d.Hermes is { ServerAggregated: true })
                step = steps!.FirstOrDefault(s => s != step && s.OutputMap.Values.Any(step.InputMap.Values.Contains)) ?? step;
            long ensembleVersion = await LatestAsync(ensemble).ConfigureAwait(false);
            if (step is null)
            {
                result.Add(new CleaningProvenance(ensemble, ensembleVersion, ensemble, ensembleVersion, workflow));
                continue;
            }
            long version = step.ModelVersion > 0 ? step.ModelVersion : await LatestAsync(step.ModelName).ConfigureAwait(false);
            // A noise-sum only adds a linear cleaner's estimate and DeepClean's: the cleaners are the steps feeding it.
            var summed = new List<(string, long)>();
            if (step.InputMap.ContainsKey(Models.NoiseSumNetwork.LinearInput) && step.InputMap.ContainsKey(Models.NoiseSumNetwork.NonlinearInput))
                foreach (var input in (string[])[Models.NoiseSumNetwork.LinearInput, Models.NoiseSumNetwork.NonlinearInput])
                    if (steps!.FirstOrDefault(s => s.OutputMap.Values.Contains(step.InputMap[input])) is { } part)
                        summed.Add((part.ModelName, part.ModelVersion > 0 ? part.ModelVersion : await LatestAsync(part.ModelName).ConfigureAwait(false)));
            result.Add(new CleaningProvenance(step.ModelName, version, ensemble, ensembleVersion, workflow) { Summed = summed });
        }
        return result;
    }
}
