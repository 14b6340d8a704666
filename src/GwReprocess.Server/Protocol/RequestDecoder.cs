using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Google.Protobuf;
using Google.Protobuf.Collections;
using GwReprocess.Server.Execution;
using GwReprocess.Server.SharedMemory;
using Inference;

namespace GwReprocess.Server.Protocol;

/// <summary>Turns a ModelInferRequest into an <see cref="InferenceRequest"/> with Triton's rules, checking names, types, shapes and sizes against the config before allocating anything.</summary>
public static class RequestDecoder
{
    /// <summary>Sequence id and flags from the reserved parameters (Triton's accepted parameter kinds only).</summary>
    public static (SequenceId Id, bool Start, bool End) SequenceParameters(MapField<string, InferParameter> parameters)
    {
        var id = SequenceId.None;
        bool start = false, end = false;
        foreach (var (key, p) in parameters)
        {
            switch (key)
            {
                case "sequence_id":
                    id = p.ParameterChoiceCase switch
                    {
                        InferParameter.ParameterChoiceOneofCase.Int64Param => new SequenceId(p.Int64Param, null),
                        InferParameter.ParameterChoiceOneofCase.StringParam => new SequenceId(0, p.StringParam),
                        _ => throw InferenceException.Invalid("invalid value type for 'sequence_id' parameter, expected int64_param or string_param."),
                    };
                    break;
                case "sequence_start":
                    start = p.ParameterChoiceCase == InferParameter.ParameterChoiceOneofCase.BoolParam
                        ? p.BoolParam : throw InferenceException.Invalid("invalid value type for 'sequence_start' parameter, expected bool_param.");
                    break;
                case "sequence_end":
                    end = p.ParameterChoiceCase == InferParameter.ParameterChoiceOneofCase.BoolParam
                        ? p.BoolParam : throw InferenceException.Invalid("invalid value type for 'sequence_end' parameter, expected bool_param.");
                    break;
                case "priority":
                    if (p.ParameterChoiceCase == InferParameter.ParameterChoiceOneofCase.Int64Param ? p.Int64Param < 0 : p.ParameterChoiceCase != InferParameter.ParameterChoiceOneofCase.Uint64Param)
                        throw InferenceException.Invalid("invalid value for 'priority' parameter, expected a non-negative int64_param or uint64_param.");
                    break;
                case "timeout":
                    if (p.ParameterChoiceCase != InferParameter.ParameterChoiceOneofCase.Int64Param)
                        throw InferenceException.Invalid("invalid value type for 'timeout' parameter, expected int64_param.");
                    break;
                case "triton_enable_empty_final_response":
                    if (p.ParameterChoiceCase != InferParameter.ParameterChoiceOneofCase.BoolParam)
                        throw InferenceException.Invalid("invalid value type for 'triton_enable_empty_final_response' parameter, expected bool_param.");
                    break;
                case "headers":
                    break;
                default:
                    if (key.StartsWith("triton_", StringComparison.Ordinal))
                        throw InferenceException.Invalid($"parameter keys starting with 'triton_' are reserved for Triton usage and should not be specified: '{key}'");
                    if (p.ParameterChoiceCase == InferParameter.ParameterChoiceOneofCase.Uint64Param)
                        throw InferenceException.Invalid($"unsupported type for parameter '{key}': uint64_param");
                    break;
            }
        }
        return (id, start, end);
    }

    /// <summary>Triton's <c>InferenceRequest::LogRequest()</c>: "[request id: &lt;id&gt;] " for a request with an id, else nothing.</summary>
    public static string RequestTag(string id) => id.Length > 0 ? $"[request id: {id}] " : "";

    /// <summary>
    /// Triton's core (infer_request.cc, ValidateRequestInputs) checks raw and shared-memory inputs alike against the byte size
    /// of their shape and type, with this text.
    /// </summary>
    private static string ByteSizeMismatch(string input, string model, long expected, long got) =>
        $"input byte size mismatch for input '{input}' for model '{model}'. Expected {expected}, got {got}";

    /// <summary>Decodes and validates; <paramref name="config"/> is the version the request will run on.</summary>
    /// <remarks>
    /// Inputs in shared memory are resolved through <paramref name="sharedMemory"/> (which then holds their regions) and read in place.
    /// The checks Triton's core makes on the request itself (infer_request.cc: input count, batch size, data type, shape, byte size,
    /// BYTES elements) carry <see cref="RequestTag"/>; those its front ends and model lookups make (unknown input or output names,
    /// contents, shared memory, typed element counts) do not.
    /// </remarks>
    public static InferenceRequest Decode(ModelInferRequest request, ModelConfig config, SequenceId sequence, bool start, bool end, long arrival,
        SharedMemoryLease? sharedMemory = null)
    {
        string model = config.Name;
        string tag = RequestTag(request.Id);
        var declared = new Dictionary<string, ModelInput>(StringComparer.Ordinal);
        foreach (var i in config.Input) declared[i.Name] = i;
        var inputs = new Dictionary<string, TensorData>(request.Inputs.Count, StringComparer.Ordinal);
        bool hasRaw = request.RawInputContents.Count > 0;
        int rawIndex = 0;
        foreach (var input in request.Inputs)
        {
            if (!declared.TryGetValue(input.Name, out var decl))
                throw InferenceException.Invalid($"unexpected inference input '{input.Name}' for model '{model}'");
            if (inputs.ContainsKey(input.Name))
                throw InferenceException.Invalid(tag + $"input '{input.Name}' is given twice in the request for model '{model}'");
            var type = TensorTypes.FromProtocol(input.Datatype);
            if (type != decl.DataType)
                throw InferenceException.Invalid(tag + $"inference input '{input.Name}' data-type is '{input.Datatype}', but model '{model}' expects '{TensorTypes.ToProtocol(decl.DataType)}'");
            var shape = input.Shape.ToArray();
            CheckShape(tag, model, config.MaxBatchSize, decl, shape);
            long count = TensorTypes.ElementCount(shape);
            bool isBytes = type == DataType.TypeString;
            // BYTES: at least a 4-byte length per element; the exact size is checked by walking the elements.
            int size = isBytes ? BytesTensor.LengthPrefix : TensorTypes.ElementSize(type);
            if (count > int.MaxValue / size) throw InferenceException.Invalid(tag + $"input '{input.Name}' for model '{model}' has {count} elements, more than one message can carry");
            long bytes = count * size;
            if (input.Parameters.Count > 0 && SharedMemoryLease.Parameters(input.Parameters, input.Name, model) is { } shm)
            {
                // Raw entries belong to the inputs without shared memory (Triton's raw index skips these), so only typed contents clash here;
                // a raw entry left over for this input fails as an extra raw_input_contents entry below.
                if (input.Contents is not null)
                    throw InferenceException.Invalid($"unexpected 'content' provided when using shared memory for input tensor '{input.Name}' for model '{model}'");
                if (sharedMemory is null)
                    throw InferenceException.Invalid($"shared memory is not available for input tensor '{input.Name}' for model '{model}'");
                if (!isBytes && shm.ByteSize != bytes)
                    throw InferenceException.Invalid(tag + ByteSizeMismatch(input.Name, model, bytes, shm.ByteSize));
                var slice = sharedMemory.Resolve(shm.Region, shm.ByteSize, shm.Offset, input.Name, model);
                if (isBytes && BytesTensor.Check(slice.GetSpan(), count, input.Name, model) is { } error) throw InferenceException.Invalid(tag + error);
                inputs[input.Name] = new TensorData(type, shape, slice.Memory);
            }
            else if (input.Contents is not null)
            {
                if (hasRaw)
                    throw InferenceException.Invalid($"contents field must not be specified when using raw_input_contents for '{input.Name}' for model '{model}'");
                inputs[input.Name] = new TensorData(type, shape, FromTyped(model, input.Name, type, count, input.Contents));
            }
            else
            {
                if (rawIndex >= request.RawInputContents.Count)
                    throw InferenceException.Invalid($"unable to find data for input tensor '{input.Name}' for model '{model}'");
                var raw = request.RawInputContents[rawIndex++];
                if (isBytes)
                {
                    if (BytesTensor.Check(raw.Span, count, input.Name, model) is { } error) throw InferenceException.Invalid(tag + error);
                }
                else if (raw.Length != bytes)
                    throw InferenceException.Invalid(tag + ByteSizeMismatch(input.Name, model, bytes, raw.Length));
                inputs[input.Name] = new TensorData(type, shape, raw.Memory);
            }
        }
        if (rawIndex < request.RawInputContents.Count)
            throw InferenceException.Invalid($"raw_input_contents has {request.RawInputContents.Count} entries but only {rawIndex} inputs take raw data for model '{model}'");
        if (config.Input.Any(d => !d.Optional && !inputs.ContainsKey(d.Name))) throw MissingInputs(tag, model, config, inputs.Keys);
        if (config.MaxBatchSize > 0)
        {
            long batch = -1;
            foreach (var t in inputs.Values)
            {
                if (batch >= 0 && t.Shape[0] != batch) throw InferenceException.Invalid(tag + $"inputs of a request to model '{model}' must have the same batch size");
                batch = t.Shape[0];
            }
        }
        List<string>? outputs = null;
        if (request.Outputs.Count > 0)
        {
            outputs = new List<string>(request.Outputs.Count);
            foreach (var o in request.Outputs)
            {
                if (!config.Output.Any(x => x.Name == o.Name))
                    throw InferenceException.Invalid($"unexpected inference output '{o.Name}' for model '{model}'");
                if (o.Parameters.Count > 0 && SharedMemoryLease.Parameters(o.Parameters, o.Name, model) is { } shm)
                {
                    if (sharedMemory is null)
                        throw InferenceException.Invalid($"shared memory is not available for output tensor '{o.Name}' for model '{model}'");
                    sharedMemory.AddOutput(o.Name, sharedMemory.Resolve(shm.Region, shm.ByteSize, shm.Offset, o.Name, model));
                }
                if (!outputs.Contains(o.Name)) outputs.Add(o.Name);
            }
        }
        return new InferenceRequest
        {
            ModelName = model,
            ModelVersion = request.ModelVersion,
            Id = request.Id,
            Inputs = inputs,
            RequestedOutputs = outputs,
            Sequence = sequence,
            SequenceStart = start,
            SequenceEnd = end,
            Priority = ScheduleParameter(request.Parameters, "priority"),
            TimeoutMicroseconds = ScheduleParameter(request.Parameters, "timeout"),
            ArrivalTimestamp = arrival,
        };
    }

    /// <summary>A schedule-policy parameter (already type-checked by <see cref="SequenceParameters"/>) as Triton's unsigned value; absent = 0.</summary>
    private static ulong ScheduleParameter(MapField<string, InferParameter> parameters, string key) =>
        parameters.TryGetValue(key, out var p) ? p.ParameterChoiceCase switch
        {
            InferParameter.ParameterChoiceOneofCase.Int64Param => unchecked((ulong)p.Int64Param),
            InferParameter.ParameterChoiceOneofCase.Uint64Param => p.Uint64Param,
            _ => 0,
        } : 0;

    /// <summary>Triton's ValidateRequestInputs text: every required input missing, names quoted and joined without spaces.</summary>
    private static InferenceException MissingInputs(string tag, string model, ModelConfig config, IEnumerable<string> given)
    {
        static string List(IEnumerable<string> names) => "[" + string.Join(",", names.Select(n => $"'{n}'")) + "]";
        int required = config.Input.Count(i => !i.Optional), got = given.Count();
        string missing = List(config.Input.Where(i => !i.Optional && !given.Contains(i.Name)).Select(i => i.Name));
        string expected = required == config.Input.Count ? $"expected {required} inputs" : $"expected number of inputs between {required} and {config.Input.Count}";
        return InferenceException.Invalid(tag + $"{expected} but got {got} inputs for model '{model}'. Got input(s) {List(given)}, but missing required input(s) {missing}. Please provide all required input(s).");
    }

    /// <summary>Triton's note after a shape error of a batching model (infer_request.cc, Normalize).</summary>
    private const string ImplicitBatchNote =
        "NOTE: Setting a non-zero max_batch_size in the model config requires a batch dimension to be prepended to each input shape. " +
        "If you want to specify the full shape including the batch dim in your input dims config, try setting max_batch_size to zero. " +
        "See the model configuration docs for more info on max_batch_size.";

    private static void CheckShape(string tag, string model, int maxBatchSize, ModelInput decl, long[] shape)
    {
        var dims = decl.Dims;
        int offset = maxBatchSize > 0 ? 1 : 0;
        // Triton checks the batch size before the shapes, with its own message.
        if (offset == 1 && shape.Length > 0 && shape[0] > maxBatchSize)
            throw InferenceException.Invalid(tag + $"inference request batch-size must be <= {maxBatchSize} for '{model}'");
        bool ok = shape.Length == dims.Count + offset;
        foreach (var d in shape) ok &= d >= 0;
        if (ok && offset == 1) ok = shape[0] >= 1 && shape[0] <= maxBatchSize;
        for (int i = 0; ok && i < dims.Count; i++) ok = dims[i] < 0 || dims[i] == shape[i + offset];
        if (!ok)
        {
            var expected = (offset == 1 ? new long[] { -1 } : []).Concat(dims);
            // The ". " ends the sentence before the note, and stays when there is none (Triton's text, trailing space included).
            throw InferenceException.Invalid(tag + $"unexpected shape for input '{decl.Name}' for model '{model}'. Expected {TensorTypes.Format(expected)}, got {TensorTypes.Format(shape)}. " +
                                             (offset == 1 ? ImplicitBatchNote : ""));
        }
        try { TensorTypes.ElementCount(shape); }
        catch (OverflowException) { throw InferenceException.Invalid(tag + $"shape {TensorTypes.Format(shape)} of input '{decl.Name}' for model '{model}' overflows"); }
    }

    private static byte[] FromTyped(string model, string name, DataType type, long count, InferTensorContents c)
    {
        long given = type switch
        {
            DataType.TypeBool => c.BoolContents.Count,
            DataType.TypeInt8 or DataType.TypeInt16 or DataType.TypeInt32 => c.IntContents.Count,
            DataType.TypeInt64 => c.Int64Contents.Count,
            DataType.TypeUint8 or DataType.TypeUint16 or DataType.TypeUint32 => c.UintContents.Count,
            DataType.TypeUint64 => c.Uint64Contents.Count,
            DataType.TypeFp32 => c.Fp32Contents.Count,
            DataType.TypeFp64 => c.Fp64Contents.Count,
            DataType.TypeString => c.BytesContents.Count,
            _ => throw InferenceException.Invalid($"input '{name}' for model '{model}': {TensorTypes.ToProtocol(type)} can only be sent as raw_input_contents"),
        };
        if (given != count)
            throw InferenceException.Invalid($"unexpected number of elements {given} in the typed contents of input '{name}', expecting {count} for model '{model}'");
        if (type == DataType.TypeString) return BytesTensor.Serialize(c.BytesContents);
        int size = TensorTypes.ElementSize(type);
        var bytes = new byte[count * size];
        var span = bytes.AsSpan();
        switch (type)
        {
            case DataType.TypeFp32:
                c.Fp32Contents.ToArray().AsSpan().CopyTo(MemoryMarshal.Cast<byte, float>(span));
                break;
            case DataType.TypeFp64:
                c.Fp64Contents.ToArray().AsSpan().CopyTo(MemoryMarshal.Cast<byte, double>(span));
                break;
            case DataType.TypeInt64:
                c.Int64Contents.ToArray().AsSpan().CopyTo(MemoryMarshal.Cast<byte, long>(span));
                break;
            case DataType.TypeUint64:
                c.Uint64Contents.ToArray().AsSpan().CopyTo(MemoryMarshal.Cast<byte, ulong>(span));
                break;
            case DataType.TypeBool:
                for (int i = 0; i < count; i++) span[i] = c.BoolContents[i] ? (byte)1 : (byte)0;
                break;
            default:
                for (int i = 0; i < count; i++)
                {
                    long v = type is DataType.TypeUint8 or DataType.TypeUint16 or DataType.TypeUint32 ? c.UintContents[i] : c.IntContents[i];
                    switch (size)
                    {
                        case 1: span[i] = (byte)v; break;
                        case 2: BinaryPrimitives.WriteInt16LittleEndian(span[(i * 2)..], (short)v); break;
                        default: BinaryPrimitives.WriteInt32LittleEndian(span[(i * 4)..], (int)v); break;
                    }
                }
                break;
        }
        return bytes;
    }

    /// <summary>Triton's response: metadata in <c>outputs</c>, data in <c>raw_output_contents</c>, except for outputs requested in shared memory.</summary>
    /// <remarks>
    /// An output written to shared memory carries the request's <c>shared_memory_*</c> parameters and no data; when other outputs
    /// travel raw, it keeps an empty <c>raw_output_contents</c> entry so that entries stay aligned with <c>outputs</c> by index.
    /// </remarks>
    public static ModelInferResponse Encode(InferenceResult result, ModelInferRequest request)
    {
        string id = request.Id;
        Dictionary<string, ModelInferRequest.Types.InferRequestedOutputTensor>? inShm = null;
        foreach (var o in request.Outputs)
            if (o.Parameters.ContainsKey("shared_memory_region")) (inShm ??= new(StringComparer.Ordinal))[o.Name] = o;
        bool anyRaw = inShm is null;
        if (inShm is not null)
            foreach (var (name, _) in result.Outputs)
                anyRaw |= !inShm.ContainsKey(name);
        var response = new ModelInferResponse
        {
            ModelName = result.ModelName,
            ModelVersion = result.ModelVersion.ToString(System.Globalization.CultureInfo.InvariantCulture),
            Id = id,
        };
        foreach (var (name, t) in result.Outputs)
        {
            var o = new ModelInferResponse.Types.InferOutputTensor { Name = name, Datatype = TensorTypes.ToProtocol(t.Type) };
            o.Shape.AddRange(t.Shape);
            response.Outputs.Add(o);
            if (inShm is not null && inShm.TryGetValue(name, out var requested))
            {
                foreach (var key in (ReadOnlySpan<string>)["shared_memory_region", "shared_memory_byte_size", "shared_memory_offset"])
                    if (requested.Parameters.TryGetValue(key, out var p)) o.Parameters[key] = p;
                if (anyRaw) response.RawOutputContents.Add(ByteString.Empty);
                continue;
            }
            response.RawOutputContents.Add(MemoryMarshal.TryGetArray(t.Bytes, out var seg) && seg.Offset == 0 && seg.Count == seg.Array!.Length
                ? UnsafeByteOperations.UnsafeWrap(t.Bytes)
                : ByteString.CopyFrom(t.Bytes.Span));
        }
        return response;
    }
}
