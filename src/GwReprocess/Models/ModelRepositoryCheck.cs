using GwReprocess.Inference;
using GwReprocess.Models.Onnx.Protos;
using Inference;
using OnnxType = GwReprocess.Models.Onnx.Protos.TensorProto.Types.DataType;

namespace GwReprocess.Models;

/// <summary>One inconsistency found in a model repository, naming the model and tensor.</summary>
public sealed record RepositoryProblem(string Model, string Message)
{
    public override string ToString() => $"{Model}: {Message}";
}

/// <summary>Checks a repository the way Triton's loader would: configs parse, ONNX graphs agree with their configs, ensembles wire up.</summary>
/// <remarks>
/// For ONNX models: the graph inputs (initializers excluded) are exactly the config inputs, the state inputs and the
/// control inputs; each config input/output exists in the graph with the same element type and a compatible shape
/// (config dims, with a leading batch dim when max_batch_size &gt; 0; symbolic ONNX dims and −1 match anything);
/// state input/output names exist with the state's dims. For ensembles: every step's model exists, each input_map key
/// is an input of that model and its value an ensemble input or a step output, each output_map key is an output of the
/// model, every model input is fed, every ensemble output is produced, and producer and consumer agree on type and shape.
/// </remarks>
public static class ModelRepositoryCheck
{
    private sealed record TensorSpec(DataType Type, IReadOnlyList<long> Shape)
    {
        public override string ToString() => $"{Type} [{string.Join(", ", Shape)}]";
    }

    public static IReadOnlyList<RepositoryProblem> Check(string root)
    {
        var problems = new List<RepositoryProblem>();
        var configs = new Dictionary<string, ModelConfig>(StringComparer.Ordinal);
        foreach (var name in ModelRepository.ModelNames(root))
        {
            try { configs[name] = ModelConfigFile.Read(Path.Combine(root, name, ModelConfigFile.FileName)); }
            catch (BadInputException e) { problems.Add(new(name, e.Message)); }
        }
        if (configs.Count == 0 && problems.Count == 0) problems.Add(new(root, "no model directories with a config.pbtxt"));
        foreach (var (name, config) in configs)
        {
            if (config.Name.Length > 0 && config.Name != name) problems.Add(new(name, $"config name '{config.Name}' differs from the directory name"));
            var dir = Path.Combine(root, name);
            var versions = ModelRepository.Versions(dir);
            if (versions.Count == 0) { problems.Add(new(name, "no numeric version directory (Triton needs e.g. 1/)")); continue; }
            if (config.Platform == ModelConfigs.EnsemblePlatform) CheckEnsemble(name, config, configs, problems);
            else if (config.Platform == ModelConfigs.OnnxPlatform || config.Backend == "onnxruntime")
            {
                foreach (var v in versions)
                {
                    string file = Path.Combine(dir, v.ToString(System.Globalization.CultureInfo.InvariantCulture),
                        config.DefaultModelFilename.Length > 0 ? config.DefaultModelFilename : ModelRepository.OnnxFileName);
                    if (!File.Exists(file)) { problems.Add(new(name, $"version {v} has no {Path.GetFileName(file)}")); continue; }
                    try { CheckOnnx(name, config, ModelRepository.ReadOnnx(file), problems); }
                    catch (BadInputException e) { problems.Add(new(name, e.Message)); }
                }
            }
            else problems.Add(new(name, $"platform '{config.Platform}' / backend '{config.Backend}' is not checked (only onnxruntime_onnx and ensemble)"));
        }
        return problems;
    }

    /// <summary>Checks one config against its ONNX model.</summary>
    public static void CheckOnnx(string name, ModelConfig config, ModelProto onnx, List<RepositoryProblem> problems)
    {
        var graph = onnx.Graph;
        var initializers = graph.Initializer.Select(i => i.Name).ToHashSet(StringComparer.Ordinal);
        var graphInputs = graph.Input.Where(i => !initializers.Contains(i.Name)).ToDictionary(i => i.Name, StringComparer.Ordinal);
        var graphOutputs = graph.Output.ToDictionary(o => o.Name, StringComparer.Ordinal);
        bool batched = config.MaxBatchSize > 0;

        var expected = new HashSet<string>(StringComparer.Ordinal);
        foreach (var input in config.Input)
        {
            expected.Add(input.Name);
            if (!graphInputs.TryGetValue(input.Name, out var vi)) { problems.Add(new(name, $"config input '{input.Name}' is not an input of the ONNX graph")); continue; }
            Compare(name, "input", input.Name, input.DataType, WithBatch(input.Dims, batched), vi, problems, batched);
        }
        var sb = config.SequenceBatching;
        if (sb is not null)
        {
            foreach (var c in sb.ControlInput) expected.Add(c.Name);
            foreach (var st in sb.State)
            {
                expected.Add(st.InputName);
                if (!graphInputs.TryGetValue(st.InputName, out var si)) problems.Add(new(name, $"state input '{st.InputName}' is not an input of the ONNX graph"));
                else Compare(name, "state input", st.InputName, st.DataType, WithBatch(st.Dims, batched), si, problems, batched);
                if (!graphOutputs.TryGetValue(st.OutputName, out var so)) problems.Add(new(name, $"state output '{st.OutputName}' is not an output of the ONNX graph"));
                else Compare(name, "state output", st.OutputName, st.DataType, WithBatch(st.Dims, batched), so, problems, batched);
                foreach (var init in st.InitialState)
                {
                    if (init.DataType != st.DataType || !init.Dims.SequenceEqual(st.Dims))
                        problems.Add(new(name, $"initial state '{init.Name}' of state '{st.InputName}' differs in type or dims from the state"));
                    if (init.Name.Length == 0) problems.Add(new(name, $"initial state of '{st.InputName}' has no name"));
                }
            }
        }
        foreach (var gi in graphInputs.Keys)
            if (!expected.Contains(gi)) problems.Add(new(name, $"ONNX graph input '{gi}' is neither a config input, a control input nor a state"));
        foreach (var output in config.Output)
        {
            if (!graphOutputs.TryGetValue(output.Name, out var vo)) { problems.Add(new(name, $"config output '{output.Name}' is not an output of the ONNX graph")); continue; }
            Compare(name, "output", output.Name, output.DataType, WithBatch(output.Dims, batched), vo, problems, batched);
        }
        if (onnx.IrVersion < 3) problems.Add(new(name, $"ONNX IR version {onnx.IrVersion} is too old"));
        if (onnx.OpsetImport.Count == 0) problems.Add(new(name, "ONNX model has no opset_import"));
    }

    private static IReadOnlyList<long> WithBatch(IEnumerable<long> dims, bool batched) => batched ? [-1, .. dims] : [.. dims];

    private static void Compare(string model, string role, string tensor, DataType type, IReadOnlyList<long> dims, ValueInfoProto vi, List<RepositoryProblem> problems, bool batched)
    {
        var tt = vi.Type?.TensorType;
        if (tt is null) { problems.Add(new(model, $"{role} '{tensor}': ONNX value is not a tensor")); return; }
        var onnxType = ToConfigType((OnnxType)tt.ElemType);
        if (onnxType != type) problems.Add(new(model, $"{role} '{tensor}': config data_type {type} but the ONNX graph has {(OnnxType)tt.ElemType}"));
        if (tt.Shape is null) return; // unknown rank: anything goes
        var d = tt.Shape.Dim;
        if (d.Count != dims.Count)
        {
            problems.Add(new(model, $"{role} '{tensor}': config shape [{string.Join(", ", dims)}] has rank {dims.Count} but the ONNX graph has rank {d.Count}"));
            return;
        }
        if (batched && d[0].ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue)
            problems.Add(new(model, $"{role} '{tensor}': max_batch_size > 0 needs a variable first ONNX dimension, found {d[0].DimValue}"));
        for (int i = 0; i < dims.Count; i++)
        {
            if (d[i].ValueCase != TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue || dims[i] < 0) continue;
            if (d[i].DimValue != dims[i])
            {
                problems.Add(new(model, $"{role} '{tensor}': config shape [{string.Join(", ", dims)}] disagrees with the ONNX shape [{string.Join(", ", d.Select(Show))}] at dimension {i}"));
                return;
            }
        }
    }

    private static string Show(TensorShapeProto.Types.Dimension d) =>
        d.ValueCase switch
        {
            TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue => d.DimValue.ToString(System.Globalization.CultureInfo.InvariantCulture),
            TensorShapeProto.Types.Dimension.ValueOneofCase.DimParam => d.DimParam,
            _ => "?",
        };

    /// <summary>Triton's config data type for an ONNX element type (triton-protocol.md §1.6).</summary>
    public static DataType ToConfigType(OnnxType t) => t switch
    {
        OnnxType.Bool => DataType.TypeBool,
        OnnxType.Uint8 => DataType.TypeUint8,
        OnnxType.Uint16 => DataType.TypeUint16,
        OnnxType.Uint32 => DataType.TypeUint32,
        OnnxType.Uint64 => DataType.TypeUint64,
        OnnxType.Int8 => DataType.TypeInt8,
        OnnxType.Int16 => DataType.TypeInt16,
        OnnxType.Int32 => DataType.TypeInt32,
        OnnxType.Int64 => DataType.TypeInt64,
        OnnxType.Float16 => DataType.TypeFp16,
        OnnxType.Float => DataType.TypeFp32,
        OnnxType.Double => DataType.TypeFp64,
        OnnxType.String => DataType.TypeString,
        OnnxType.Bfloat16 => DataType.TypeBf16,
        _ => DataType.TypeInvalid,
    };

    private static void CheckEnsemble(string name, ModelConfig ens, IReadOnlyDictionary<string, ModelConfig> configs, List<RepositoryProblem> problems)
    {
        if (ens.EnsembleScheduling is null || ens.EnsembleScheduling.Step.Count == 0) { problems.Add(new(name, "ensemble has no ensemble_scheduling steps")); return; }
        bool ensBatched = ens.MaxBatchSize > 0;
        // Every ensemble tensor: who produces it (an ensemble input or a step output) and its full shape.
        var producers = new Dictionary<string, (string By, TensorSpec Spec)>(StringComparer.Ordinal);
        foreach (var i in ens.Input) producers[i.Name] = ("ensemble input", new TensorSpec(i.DataType, WithBatch(i.Dims, ensBatched)));

        var steps = new List<(int Index, ModelEnsembling.Types.Step Step, ModelConfig Config)>();
        for (int s = 0; s < ens.EnsembleScheduling.Step.Count; s++)
        {
            var step = ens.EnsembleScheduling.Step[s];
            if (step.ModelName == name) { problems.Add(new(name, $"step {s} refers to the ensemble itself")); continue; }
            if (!configs.TryGetValue(step.ModelName, out var mc)) { problems.Add(new(name, $"step {s}: model '{step.ModelName}' is not in the repository")); continue; }
            if (ensBatched && mc.MaxBatchSize < ens.MaxBatchSize)
                problems.Add(new(name, $"step {s}: model '{step.ModelName}' allows max_batch_size {mc.MaxBatchSize}, less than the ensemble's {ens.MaxBatchSize}"));
            steps.Add((s, step, mc));
            bool batched = mc.MaxBatchSize > 0;
            foreach (var (modelOut, tensor) in step.OutputMap)
            {
                var o = mc.Output.FirstOrDefault(x => x.Name == modelOut);
                if (o is null) { problems.Add(new(name, $"step {s}: output_map key '{modelOut}' is not an output of model '{step.ModelName}'")); continue; }
                if (producers.TryGetValue(tensor, out var prev)) { problems.Add(new(name, $"ensemble tensor '{tensor}' is produced twice ({prev.By} and step {s} '{step.ModelName}')")); continue; }
                producers[tensor] = ($"step {s} '{step.ModelName}' output '{modelOut}'", new TensorSpec(o.DataType, WithBatch(o.Dims, batched)));
            }
        }
        foreach (var (s, step, mc) in steps)
        {
            bool batched = mc.MaxBatchSize > 0;
            foreach (var (modelIn, tensor) in step.InputMap)
            {
                var i = mc.Input.FirstOrDefault(x => x.Name == modelIn);
                if (i is null) { problems.Add(new(name, $"step {s}: input_map key '{modelIn}' is not an input of model '{step.ModelName}'")); continue; }
                if (!producers.TryGetValue(tensor, out var p)) { problems.Add(new(name, $"step {s}: input '{modelIn}' of '{step.ModelName}' reads ensemble tensor '{tensor}', which no ensemble input or step output provides")); continue; }
                var want = new TensorSpec(i.DataType, WithBatch(i.Dims, batched));
                if (!Compatible(p.Spec, want))
                    problems.Add(new(name, $"ensemble tensor '{tensor}': {p.By} gives {p.Spec} but step {s} '{step.ModelName}' input '{modelIn}' expects {want}"));
            }
            foreach (var i in mc.Input)
                if (!i.Optional && !step.InputMap.ContainsKey(i.Name))
                    problems.Add(new(name, $"step {s}: input '{i.Name}' of model '{step.ModelName}' is not fed by input_map"));
        }
        foreach (var o in ens.Output)
        {
            if (!producers.TryGetValue(o.Name, out var p)) { problems.Add(new(name, $"ensemble output '{o.Name}' is not produced by any step")); continue; }
            var want = new TensorSpec(o.DataType, WithBatch(o.Dims, ensBatched));
            if (!Compatible(p.Spec, want)) problems.Add(new(name, $"ensemble output '{o.Name}': {p.By} gives {p.Spec} but the ensemble declares {want}"));
        }
    }

    private static bool Compatible(TensorSpec a, TensorSpec b)
    {
        if (a.Type != b.Type || a.Shape.Count != b.Shape.Count) return false;
        for (int i = 0; i < a.Shape.Count; i++)
            if (a.Shape[i] >= 0 && b.Shape[i] >= 0 && a.Shape[i] != b.Shape[i]) return false;
        return true;
    }
}
