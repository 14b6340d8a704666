using Grpc.Core;
using GwReprocess.Server.Execution;
using Inference;

namespace GwReprocess.Server.Scheduling;

/// <summary>Triton's ensemble scheduler: each step runs as soon as every ensemble tensor its input_map names is available; sequence id and flags go to every step.</summary>
public sealed class EnsembleModelVersion(string name, long version, ModelConfig config,
    Func<InferenceRequest, CancellationToken, Task<InferenceResult>> dispatch) : ModelVersion(name, version, config)
{
    /// <summary>The models the steps call (loaded before the ensemble).</summary>
    public IEnumerable<string> StepModels => Config.EnsembleScheduling.Step.Select(s => s.ModelName).Distinct();

    public override async Task<InferenceResult> InferAsync(InferenceRequest request, CancellationToken cancellationToken)
    {
        var steps = Config.EnsembleScheduling.Step;
        var tensors = new Dictionary<string, TensorData>(request.Inputs, StringComparer.Ordinal);
        var started = new bool[steps.Count];
        var running = new Dictionary<Task<InferenceResult>, int>();
        int done = 0;
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        using var failFast = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        while (done < steps.Count)
        {
            for (int i = 0; i < steps.Count; i++)
            {
                if (started[i] || !steps[i].InputMap.Values.All(tensors.ContainsKey)) continue;
                started[i] = true;
                var step = steps[i];
                var inputs = new Dictionary<string, TensorData>(StringComparer.Ordinal);
                foreach (var (modelTensor, ensembleTensor) in step.InputMap) inputs[modelTensor] = tensors[ensembleTensor];
                var sub = new InferenceRequest
                {
                    ModelName = step.ModelName,
                    ModelVersion = step.ModelVersion > 0 ? step.ModelVersion.ToString(System.Globalization.CultureInfo.InvariantCulture) : "",
                    Id = request.Id,
                    Inputs = inputs,
                    RequestedOutputs = [.. step.OutputMap.Keys],
                    Sequence = request.Sequence,
                    SequenceStart = request.SequenceStart,
                    SequenceEnd = request.SequenceEnd,
                    // Triton hands the timeout to every step; the priority does not survive the ensemble's own level normalization (it has no levels).
                    TimeoutMicroseconds = request.TimeoutMicroseconds,
                };
                running[dispatch(sub, failFast.Token)] = i;
            }
            if (running.Count == 0)
                throw new InferenceException(StatusCode.Internal, $"ensemble '{Name}': steps {string.Join(", ", Enumerable.Range(0, steps.Count).Where(i => !started[i]).Select(i => steps[i].ModelName))} wait for tensors no step produces");
            var finished = await Task.WhenAny(running.Keys).ConfigureAwait(false);
            int index = running[finished];
            running.Remove(finished);
            InferenceResult result;
            try { result = await finished.ConfigureAwait(false); }
            catch
            {
                failFast.Cancel();
                // Steps already running read the request's tensors (possibly pooled transport buffers): let them finish before the caller lets go.
                try { await Task.WhenAll(running.Keys).ConfigureAwait(false); }
                catch { /* their failures are secondary to the one reported */ }
                throw;
            }
            foreach (var (modelTensor, ensembleTensor) in steps[index].OutputMap)
            {
                var output = result.Outputs.FirstOrDefault(o => o.Name == modelTensor);
                if (output.Tensor is null) throw new InferenceException(StatusCode.Internal, $"ensemble '{Name}': step '{steps[index].ModelName}' returned no '{modelTensor}'");
                tensors[ensembleTensor] = output.Tensor;
            }
            done++;
        }
        Statistics.RecordSuccess(request.ArrivalTimestamp, Metrics.ModelVersionStatistics.ElapsedNs(request.ArrivalTimestamp, start), BatchSize(request));
        return Select(request, tensors);
    }
}
