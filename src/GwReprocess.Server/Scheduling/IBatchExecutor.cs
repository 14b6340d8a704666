using GwReprocess.Server.Execution;
using Inference;

namespace GwReprocess.Server.Scheduling;

/// <summary>What the dynamic batcher runs batches on: a model version's instances.</summary>
internal interface IBatchExecutor
{
    string Name { get; }

    /// <summary>Executions that can run at once; the batcher forms a batch only when one of them is free, so waiting happens in its queue.</summary>
    int Instances { get; }

    long BatchSize(InferenceRequest request);

    IReadOnlyList<string> OutputsFor(InferenceRequest request);

    /// <summary>Runs one execution; the task ends only once the execution has let go of <paramref name="inputs"/>, whose buffers the batcher then hands back to its pool.</summary>
    Task<ExecutionOutputs> RunAsync(IReadOnlyDictionary<string, TensorData> inputs, IReadOnlyList<string> outputNames, CancellationToken cancellationToken);
}
