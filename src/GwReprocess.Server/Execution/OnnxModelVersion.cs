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
    public IEnumerable<string> DescribeInstances() => _sessions.Select(s => s.Describe(Name, Version));

    private OnnxModelVersion(string name, long version, ModelConfig config, OnnxInstance[] sessions, string? fallback, byte[]?[] initialStates)
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
            });
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
                CudaIoBinding? binding = null;
                string? refused = null;
                try
                {
                    if (placement.OnGpu) binding = CudaIoBinding.TryCreate(session, placement.DeviceId, out refused);
                }
                catch
                {
                    session.Dispose();
                    throw;
                }
                sessions.Add(new OnnxInstance(session, placement, binding, refused));
            }
            var states = CheckAgainstGraph(name, config, sessions[0].Session, readInitialState);
            return new OnnxModelVersion(name, version, config, [.. sessions], plan.Fallback, states);
        }
        catch
        {
            foreach (var s in sessions) s.Dispose();
            throw;
        }
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

    private static readonly byte[] EmptyBuffer = new byte[8];

    private ExecutionOutputs Run(OnnxInstance instance, IReadOnlyDictionary<string, TensorData> inputs, IReadOnlyList<string> outputNames)
    {
        if (instance.Binding is not { } binding || !CudaIoBinding.CanBind(inputs)) return Run(instance.Session, inputs, outputNames);
        long start = Stopwatch.GetTimestamp();
        try
        {
            var outputs = binding.Run(inputs, outputNames);
            long end = Stopwatch.GetTimestamp();
            // The copies happen inside the bound run: all of it counts as inference, as Triton counts a GPU backend's.
            Statistics.RecordExecution(0, Metrics.ModelVersionStatistics.ElapsedNs(start, end), 0);
            return new ExecutionOutputs(outputs, start);
        }
        catch (OnnxRuntimeException e)
        {
            throw InferenceException.Backend($"model '{Name}' version {Version}: ONNX Runtime failed: {e.Message}");
        }
    }

    private unsafe ExecutionOutputs Run(InferenceSession session, IReadOnlyDictionary<string, TensorData> inputs, IReadOnlyList<string> outputNames)
    {
        long start = Stopwatch.GetTimestamp();
        int n = inputs.Count;
        var names = new string[n];
        var values = new OrtValue[n];
        var pins = new MemoryHandle[n];
        int i = 0;
        try
        {
            foreach (var (name, t) in inputs)
            {
                names[i] = name;
                if (t.Type == DataType.TypeString)
                {
                    // ONNX Runtime keeps strings as its own objects: copy each element in (binary-safe).
                    var strings = OrtValue.CreateTensorWithEmptyStrings(OrtAllocator.DefaultInstance, t.Shape);
                    values[i++] = strings;
                    BytesTensor.ForEach(t.Bytes.Span, (element, index) => strings.StringTensorSetElementAt(element, index));
                    continue;
                }
                var mem = t.Bytes.Length == 0 ? EmptyBuffer : t.Bytes;
                pins[i] = mem.Pin();
                values[i] = OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, TensorTypes.ToOrt(t.Type), t.Shape,
                    (IntPtr)pins[i].Pointer, t.Bytes.Length);
                i++;
            }
            long afterInput = Stopwatch.GetTimestamp();
            using var runOptions = new RunOptions();
            using var results = session.Run(runOptions, names, values, outputNames);
            long afterInfer = Stopwatch.GetTimestamp();
            var outputs = new Dictionary<string, TensorData>(outputNames.Count, StringComparer.Ordinal);
            int k = 0;
            foreach (var r in results)
            {
                var info = r.GetTensorTypeAndShape();
                var bytes = info.ElementDataType == TensorElementType.String ? SerializeStrings(r, info.ElementCount) : r.GetTensorMutableRawData().ToArray();
                outputs[outputNames[k++]] = new TensorData(TensorTypes.FromOrt(info.ElementDataType), info.Shape, bytes);
            }
            long end = Stopwatch.GetTimestamp();
            Statistics.RecordExecution(Metrics.ModelVersionStatistics.ElapsedNs(start, afterInput),
                Metrics.ModelVersionStatistics.ElapsedNs(afterInput, afterInfer), Metrics.ModelVersionStatistics.ElapsedNs(afterInfer, end));
            return new ExecutionOutputs(outputs, start);
        }
        catch (OnnxRuntimeException e)
        {
            throw InferenceException.Backend($"model '{Name}' version {Version}: ONNX Runtime failed: {e.Message}");
        }
        finally
        {
            for (int j = 0; j < i; j++)
            {
                values[j]?.Dispose();
                pins[j].Dispose();
            }
        }
    }

    /// <summary>An ONNX Runtime string tensor in Triton's BYTES form.</summary>
    private static byte[] SerializeStrings(OrtValue value, long count)
    {
        long total = 0;
        for (int e = 0; e < count; e++) total += BytesTensor.LengthPrefix + value.GetStringElementAsSpan(e).Length;
        var bytes = new byte[checked((int)total)];
        int at = 0;
        for (int e = 0; e < count; e++)
        {
            var element = value.GetStringElementAsSpan(e);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(at), (uint)element.Length);
            element.CopyTo(bytes.AsSpan(at + BytesTensor.LengthPrefix));
            at += BytesTensor.LengthPrefix + element.Length;
        }
        return bytes;
    }

    internal bool HasGraphOutput(string name) => _graphOutputs.Contains(name);

    protected override async ValueTask DisposeResourcesAsync()
    {
        _sequences?.Dispose();
        // The sessions go last: batches already running on them finish first.
        if (_batcher is not null) await _batcher.DisposeAsync().ConfigureAwait(false);
        _instances.Dispose();
        foreach (var s in _sessions) s.Dispose();
    }
}
