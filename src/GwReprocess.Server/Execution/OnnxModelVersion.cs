using System.Buffers;
using System.Diagnostics;
using Grpc.Core;
using GwReprocess.Server.Scheduling;
using Inference;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace GwReprocess.Server.Execution;

/// <summary>How ONNX Runtime sessions are made: thread counts, the GPUs there are, and what to do when a GPU instance finds no CUDA.</summary>
public sealed record OnnxSessionSettings(int IntraOpThreads = 0, int InterOpThreads = 0, bool AllowCpuFallback = false, bool AllowSpinning = false)
{
    /// <summary>The GPUs instances can be placed on (none by default).</summary>
    public GpuEnvironment Gpus { get; init; } = GpuEnvironment.CpuOnly;
}

/// <summary>An ONNX model version: one InferenceSession per instance, fronted by the sequence batcher, the dynamic batcher or nothing.</summary>
public sealed class OnnxModelVersion : ModelVersion, IBatchExecutor
{
    private readonly OnnxInstance[] _sessions;
    private readonly InstanceThreads<OnnxInstance> _instances;
    private readonly SequenceBatcher? _sequences;
    private readonly DynamicBatcher? _batcher;
    private readonly HashSet<string> _graphOutputs;

    /// <summary>The execution providers the sessions use ("CPU", "CUDA" or "CUDA+CPU").</summary>
    public string Device { get; }

    /// <summary>Where each instance runs, in instance order.</summary>
    public IReadOnlyList<InstancePlacement> Placements => [.. _sessions.Select(s => s.Placement)];

    /// <summary>Why instances asked for on a GPU run on the CPU (--allow-cpu-fallback); null when none do.</summary>
    public string? Fallback { get; }

    /// <summary>One line per instance for the startup log: model, version, instance, group, device.</summary>
    public IEnumerable<string> DescribeInstances() =>
        _sessions.Select(s => s.Describe(Name, Version) + (_sequences is { DeviceState: true } ? ", sequence state kept in its memory" : ""));

    private OnnxModelVersion(string name, long version, ModelConfig config, OnnxInstance[] sessions, string? fallback, byte[]?[] initialStates, bool deviceState)
        : base(name, version, config)
    {
        _sessions = sessions;
        Fallback = fallback;
        bool gpu = sessions.Any(s => s.Placement.OnGpu), cpu = sessions.Any(s => !s.Placement.OnGpu);
        Device = gpu && cpu ? "CUDA+CPU" : gpu ? "CUDA" : "CPU";
        _graphOutputs = [.. sessions[0].Session.OutputMetadata.Keys];
        if (config.SequenceBatching is { } sb)
            _sequences = new SequenceBatcher(this, sb, config.MaxBatchSize, sessions.Length, initialStates, id =>
            {
                OnSequenceFreed(id);
                DisposeIfDrained();
            }, deviceState);
        else if (config.DynamicBatching is { } db)
            // Triton keeps the dynamic batcher (and so its queue policy) for max_batch_size 0, one request per execution.
            _batcher = new DynamicBatcher(this, db, Math.Max(1, config.MaxBatchSize));
        // Last: the batchers above may refuse the config, and threads started before that would never end.
        _instances = new InstanceThreads<OnnxInstance>(name, version, sessions);
    }

    public override int LiveSequences => _sequences?.LiveSequences ?? 0;

    public int Instances => _sessions.Length;

    /// <summary>Creates the sessions and checks the config against the graph; errors say what does not match.</summary>
    public static OnnxModelVersion Load(string name, long version, ModelConfig config, byte[] onnx, OnnxSessionSettings settings,
        Func<string, byte[]>? readInitialState = null)
    {
        var plan = PlacementPlan.For(name, config.InstanceGroup, settings.Gpus, settings.AllowCpuFallback);
        var io = IoBindingChoice.From(name, config);
        var sessions = new List<OnnxInstance>();
        try
        {
            foreach (var placement in plan.Instances)
            {
                using var options = new SessionOptions
                {
                    IntraOpNumThreads = Parameter(config, "intra_op_thread_count", settings.IntraOpThreads),
                    InterOpNumThreads = Parameter(config, "inter_op_thread_count", settings.InterOpThreads),
                    LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
                };
                // Spinning intra-op threads would take the cores the gRPC/Kestrel threads need between runs.
                options.AddSessionConfigEntry("session.intra_op.allow_spinning", settings.AllowSpinning ? "1" : "0");
                // Each instance's session is pinned to its own device: its CUDA provider allocates and runs there only.
                if (placement.OnGpu) options.AppendExecutionProvider_CUDA(placement.DeviceId);
                var session = new InferenceSession(onnx, options);
                InstanceIoBinding? binding = null;
                string? refused = io.Mode == IoBindingMode.Off ? $"parameter {IoBindingChoice.IoBindingParameter} is off" : null;
                try
                {
                    if (io.Binds(placement))
                        binding = placement.OnGpu ? InstanceIoBinding.TryCreateCuda(session, placement.DeviceId, out refused) : InstanceIoBinding.CreateCpu(session);
                }
                catch
                {
                    session.Dispose();
                    throw;
                }
                sessions.Add(new OnnxInstance(session, placement, binding, refused));
            }
            var states = CheckAgainstGraph(name, config, sessions[0].Session, readInitialState);
            bool deviceState = io.DeviceState && sessions.All(s => s.Binding is not null) && DeviceStateFits(config);
            return new OnnxModelVersion(name, version, config, [.. sessions], plan.Fallback, states, deviceState);
        }
        catch
        {
            foreach (var s in sessions) s.Dispose();
            throw;
        }
    }

    /// <summary>State can stay on the device when every tensor of the model binds (no strings) and every state has a fixed shape for its double buffer.</summary>
    private static bool DeviceStateFits(ModelConfig config)
    {
        if (config.SequenceBatching is not { State.Count: > 0 } sb) return false;
        foreach (var i in config.Input) if (i.DataType == DataType.TypeString) return false;
        foreach (var o in config.Output) if (o.DataType == DataType.TypeString) return false;
        foreach (var st in sb.State)
        {
            if (st.DataType == DataType.TypeString) return false;
            var dims = st.InitialState.Count == 1 && st.InitialState[0].Dims.Count > 0 ? st.InitialState[0].Dims : st.Dims;
            foreach (var d in dims) if (d < 0) return false;
        }
        return true;
    }

    private static int Parameter(ModelConfig config, string key, int fallback) =>
        config.Parameters.TryGetValue(key, out var p) && int.TryParse(p.StringValue, out int v) && v >= 0 ? v : fallback;

    /// <summary>Triton's ONNX backend checks: every config input/output, state and control input exists in the graph with its type; nothing else is a graph input.</summary>
    private static byte[]?[] CheckAgainstGraph(string name, ModelConfig config, InferenceSession session, Func<string, byte[]>? readInitialState)
    {
        var inputs = session.InputMetadata;
        var outputs = session.OutputMetadata;
        var expected = new HashSet<string>(StringComparer.Ordinal);
        void CheckInput(string tensor, DataType type, string what)
        {
            if (!inputs.TryGetValue(tensor, out var meta))
                throw new InferenceException(StatusCode.InvalidArgument, $"model '{name}': {what} '{tensor}' is not an input of the ONNX graph (graph inputs: {string.Join(", ", inputs.Keys)})");
            if (meta.IsTensor && type != DataType.TypeInvalid && TensorTypes.FromOrt(meta.ElementDataType) != type)
                throw new InferenceException(StatusCode.InvalidArgument, $"model '{name}': {what} '{tensor}' is {TensorTypes.ToProtocol(type)} in the config but {meta.ElementDataType} in the ONNX graph");
            expected.Add(tensor);
        }
        void CheckOutput(string tensor, DataType type, string what)
        {
            if (!outputs.TryGetValue(tensor, out var meta))
                throw new InferenceException(StatusCode.InvalidArgument, $"model '{name}': {what} '{tensor}' is not an output of the ONNX graph (graph outputs: {string.Join(", ", outputs.Keys)})");
            if (meta.IsTensor && TensorTypes.FromOrt(meta.ElementDataType) != type)
                throw new InferenceException(StatusCode.InvalidArgument, $"model '{name}': {what} '{tensor}' is {TensorTypes.ToProtocol(type)} in the config but {meta.ElementDataType} in the ONNX graph");
        }
        foreach (var i in config.Input)
        {
            CheckInput(i.Name, i.DataType, "input");
            if (config.MaxBatchSize > 0 && inputs[i.Name].Dimensions is { Length: > 0 } d && d[0] > 0)
                throw new InferenceException(StatusCode.InvalidArgument, $"model '{name}': max_batch_size {config.MaxBatchSize} needs a variable first dimension on input '{i.Name}', the ONNX graph fixes it to {d[0]}");
        }
        foreach (var o in config.Output)
        {
            CheckOutput(o.Name, o.DataType, "output");
        }
        var initial = new byte[]?[config.SequenceBatching?.State.Count ?? 0];
        if (config.SequenceBatching is { } sb)
        {
            for (int s = 0; s < sb.State.Count; s++)
            {
                var st = sb.State[s];
                CheckInput(st.InputName, st.DataType, "state input");
                CheckOutput(st.OutputName, st.DataType, "state output");
                if (st.InitialState.Count > 1) throw new InferenceException(StatusCode.InvalidArgument, $"model '{name}': state '{st.InputName}' has more than one initial_state");
                if (st.InitialState.Count == 1 && st.InitialState[0].StateDataCase == ModelSequenceBatching.Types.InitialState.StateDataOneofCase.DataFile)
                {
                    if (readInitialState is null) throw new InferenceException(StatusCode.InvalidArgument, $"model '{name}': initial_state data_file needs a repository");
                    initial[s] = readInitialState(st.InitialState[0].DataFile);
                }
            }
            foreach (var c in sb.ControlInput)
            {
                foreach (var k in c.Control)
                    if (k.Kind == ModelSequenceBatching.Types.Control.Types.Kind.ControlSequenceCorrid && k.DataType == DataType.TypeString)
                        throw new InferenceException(StatusCode.Unimplemented, $"model '{name}': string CORRID control input '{c.Name}' is not supported by gwrepro serve's ONNX backend");
                CheckInput(c.Name, DataType.TypeInvalid, "control input");
            }
        }
        var extra = inputs.Keys.Where(k => !expected.Contains(k)).ToList();
        if (extra.Count > 0)
            throw new InferenceException(StatusCode.InvalidArgument, $"model '{name}': the ONNX graph has inputs the config does not list: {string.Join(", ", extra)}");
        return initial;
    }

    public override async Task<InferenceResult> InferAsync(InferenceRequest request, CancellationToken cancellationToken)
    {
        ExecutionOutputs e;
        if (_sequences is not null) e = await _sequences.ExecuteAsync(request, cancellationToken).ConfigureAwait(false);
        else if (_batcher is not null) e = await _batcher.EnqueueAsync(request, cancellationToken).ConfigureAwait(false);
        else
        {
            e = await RunAsync(request.Inputs, OutputsFor(request), cancellationToken, request.LeavePending).ConfigureAwait(false);
            Statistics.RecordSuccess(request.ArrivalTimestamp, Metrics.ModelVersionStatistics.ElapsedNs(request.ArrivalTimestamp, e.StartTimestamp), BatchSize(request));
            return Select(request, e.Outputs);
        }
        Statistics.RecordSuccess(request.ArrivalTimestamp, Metrics.ModelVersionStatistics.ElapsedNs(request.ArrivalTimestamp, e.StartTimestamp), BatchSize(request));
        return Select(request, e.Outputs);
    }

    /// <summary>Graph outputs a request needs: its requested config outputs plus every state output.</summary>
    internal List<string> OutputsFor(InferenceRequest request)
    {
        var names = new List<string>(request.RequestedOutputs ?? Config.Output.Select(o => o.Name).ToList());
        if (Config.SequenceBatching is { } sb)
            foreach (var s in sb.State)
                if (!names.Contains(s.OutputName)) names.Add(s.OutputName);
        return names;
    }

    IReadOnlyList<string> IBatchExecutor.OutputsFor(InferenceRequest request) => OutputsFor(request);

    Task<ExecutionOutputs> IBatchExecutor.RunAsync(IReadOnlyDictionary<string, TensorData> inputs, IReadOnlyList<string> outputNames, CancellationToken cancellationToken) =>
        RunAsync(inputs, outputNames, cancellationToken);

    /// <summary>Runs one execution on the next free instance's thread; inputs are pinned, not copied. <paramref name="starting"/> is told when an instance is taken.</summary>
    internal async Task<ExecutionOutputs> RunAsync(IReadOnlyDictionary<string, TensorData> inputs, IReadOnlyList<string> outputNames, CancellationToken cancellationToken,
        Action? starting = null)
    {
        return await _instances.RunAsync(session => Run(session, inputs, outputNames), starting, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Runs one execution of a sequence slot whose state lives in the device memory of its instance, on that instance.</summary>
    internal Task<ExecutionOutputs> RunSequenceAsync(DeviceSequenceState state, IReadOnlyDictionary<string, TensorData> inputs, IReadOnlyList<string> outputNames,
        CancellationToken cancellationToken, Action? starting = null) =>
        _instances.RunOnAsync(state.Instance, instance =>
        {
            try
            {
                state.EnsureAllocated(instance.Binding!);
            }
            catch (OnnxRuntimeException e)
            {
                throw InferenceException.Backend($"model '{Name}' version {Version}: ONNX Runtime could not allocate the sequence state: {e.Message}");
            }
            return RunBound(instance.Binding!, inputs, outputNames, state);
        }, starting, cancellationToken);

    private ExecutionOutputs Run(OnnxInstance instance, IReadOnlyDictionary<string, TensorData> inputs, IReadOnlyList<string> outputNames) =>
        instance.Binding is { } binding && binding.CanBind(inputs, outputNames)
            ? RunBound(binding, inputs, outputNames, null)
            : Record(PlainRun.Run(instance.Session, inputs, outputNames, Name, Version));

    private ExecutionOutputs RunBound(InstanceIoBinding binding, IReadOnlyDictionary<string, TensorData> inputs, IReadOnlyList<string> outputNames, DeviceSequenceState? state)
    {
        try
        {
            // On a GPU ONNX Runtime's own copies to and from the device happen inside the run: they count as inference, as in Triton's GPU backends.
            return Record(binding.Run(inputs, outputNames, state));
        }
        catch (OnnxRuntimeException e)
        {
            throw InferenceException.Backend($"model '{Name}' version {Version}: ONNX Runtime failed: {e.Message}");
        }
    }

    private ExecutionOutputs Record(OrtRunResult r)
    {
        Statistics.RecordExecution(Metrics.ModelVersionStatistics.ElapsedNs(r.Start, r.AfterInput),
            Metrics.ModelVersionStatistics.ElapsedNs(r.AfterInput, r.AfterInfer), Metrics.ModelVersionStatistics.ElapsedNs(r.AfterInfer, r.End));
        return new ExecutionOutputs(r.Outputs, r.Start);
    }

    internal bool HasGraphOutput(string name) => _graphOutputs.Contains(name);

    /// <summary>Each instance's IO binding (null where it runs on the plain path), in instance order: tests read their copy counters.</summary>
    internal IReadOnlyList<InstanceIoBinding?> Bindings => [.. _sessions.Select(s => s.Binding)];

    /// <summary>The sequence batcher, when the model has one (tests read its slots' state).</summary>
    internal SequenceBatcher? Sequences => _sequences;

    protected override async ValueTask DisposeResourcesAsync()
    {
        _sequences?.Dispose();
        // The sessions go last: batches already running on them finish first.
        if (_batcher is not null) await _batcher.DisposeAsync().ConfigureAwait(false);
        _instances.Dispose();
        // Device state is memory of the sessions' allocators: freed once nothing runs, before the sessions go.
        _sequences?.ReleaseStates();
        foreach (var s in _sessions) s.Dispose();
    }
}
