using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Google.Protobuf;
using GwReprocess.Server.Execution;
using GwReprocess.Server.SharedMemory;
using Inference;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace GwReprocess.Server.Protocol;

/// <summary>KServe v2 HTTP/REST (triton-protocol.md §2): health, metadata, config, statistics, repository, shared memory, JSON, binary-tensor and shared-memory inference.</summary>
public static class HttpEndpoints
{
    private const string HeaderLength = "Inference-Header-Content-Length";

    public static void Map(IEndpointRouteBuilder app, InferenceCore core)
    {
        app.MapGet("/v2/health/live", () => Results.StatusCode(200));
        app.MapGet("/v2/health/ready", () => Results.StatusCode(core.Ready ? 200 : 400));
        app.MapGet("/v2", () => Json(JsonFormatter(core.ServerMetadata())));
        foreach (var prefix in new[] { "/v2/models/{model}", "/v2/models/{model}/versions/{version:long:min(1)}" })
        {
            app.MapGet(prefix, (string model, string? version) => Guard(() => Json(JsonFormatter(core.ModelMetadata(model, version ?? "")))));
            app.MapGet(prefix + "/ready", (string model, string? version) =>
                Guard(() => core.ModelReady(model, version ?? "") ? Results.StatusCode(200) : Error(400, "Model version not ready")));
            app.MapGet(prefix + "/config", (string model, string? version) => Guard(() => Json(JsonFormatter(core.Models.Config(model, version ?? "")))));
            app.MapGet(prefix + "/stats", (string model, string? version) => Guard(() => Json(JsonFormatter(core.Statistics(model, version ?? "")))));
            app.MapPost(prefix + "/infer", (HttpContext ctx, string model, string? version) => InferAsync(ctx, core, model, version ?? ""));
        }
        app.MapGet("/v2/models/stats", () => Guard(() => Json(JsonFormatter(core.Statistics("", "")))));
        app.MapPost("/v2/repository/index", async (HttpContext ctx) =>
        {
            bool ready = false;
            if (ctx.Request.ContentLength is > 0)
            {
                var body = await JsonNode.ParseAsync(ctx.Request.Body).ConfigureAwait(false);
                ready = body?["ready"]?.GetValue<bool>() ?? false;
            }
            var rows = await core.Models.IndexAsync(ready, ctx.RequestAborted).ConfigureAwait(false);
            var arr = new JsonArray();
            foreach (var r in rows)
            {
                var o = new JsonObject { ["name"] = r.Name, ["version"] = r.Version, ["state"] = r.State };
                if (r.Reason.Length > 0) o["reason"] = r.Reason;
                arr.Add(o);
            }
            return Json(arr.ToJsonString(Relaxed));
        });
        app.MapPost("/v2/repository/models/{model}/load", (string model, HttpContext ctx) => GuardAsync(async () =>
        {
            core.CheckExplicitControl();
            await core.Models.LoadAsync(model, ctx.RequestAborted).ConfigureAwait(false);
            return Results.StatusCode(200);
        }));
        app.MapPost("/v2/repository/models/{model}/unload", (string model, HttpContext ctx) => GuardAsync(async () =>
        {
            core.CheckExplicitControl();
            await core.Models.UnloadAsync(model, ctx.RequestAborted).ConfigureAwait(false);
            return Results.StatusCode(200);
        }));
        MapSharedMemory(app, core.SharedMemory);
    }

    /// <summary>Triton's shared-memory extension over HTTP (http_server.cc HandleSystemSharedMemory / HandleCudaSharedMemory) on the registry gRPC uses.</summary>
    /// <remarks>
    /// Every method reaches the handler so that a wrong one gets Triton's 405 with an error body. CUDA shared memory answers as
    /// Triton built without GPU support: an empty status, registration refused, unregistration a no-op.
    /// </remarks>
    private static void MapSharedMemory(IEndpointRouteBuilder app, SystemSharedMemoryRegistry registry)
    {
        foreach (var prefix in (ReadOnlySpan<string>)["/v2/systemsharedmemory", "/v2/systemsharedmemory/region/{region}"])
        {
            app.Map(prefix + "/status", (HttpContext ctx) => Method(ctx, "GET") ?? Guard(() =>
            {
                var rows = new JsonArray();
                foreach (var r in registry.Regions(Region(ctx)))
                    rows.Add(new JsonObject { ["name"] = r.Name, ["key"] = r.Key, ["offset"] = r.Offset, ["byte_size"] = r.ByteSize });
                return Json(rows.ToJsonString(Relaxed));
            }));
            app.Map(prefix + "/register", async (HttpContext ctx) =>
            {
                if (Method(ctx, "POST") is { } wrong) return wrong;
                string region = Region(ctx);
                if (region.Length == 0) return Error(400, "'region name' is necessary to register system shared memory region");
                var (key, offset, byteSize, error) = await RegisterBodyAsync(ctx).ConfigureAwait(false);
                return error ?? Guard(() =>
                {
                    registry.Register(region, key!, offset, byteSize);
                    return EmptyJson();
                });
            });
            app.Map(prefix + "/unregister", (HttpContext ctx) => Method(ctx, "POST") ?? Guard(() =>
            {
                registry.Unregister(Region(ctx));
                return EmptyJson();
            }));
        }
        foreach (var prefix in (ReadOnlySpan<string>)["/v2/cudasharedmemory", "/v2/cudasharedmemory/region/{region}"])
        {
            app.Map(prefix + "/status", (HttpContext ctx) =>
            {
                if (Method(ctx, "GET") is { } wrong) return wrong;
                string region = Region(ctx);
                return region.Length == 0 ? Json("[]") : Guard(() => throw CudaSharedMemory.NotFound(region, registry));
            });
            app.Map(prefix + "/register", (HttpContext ctx) => Method(ctx, "POST") ?? (Region(ctx) is { Length: > 0 } region
                ? Guard(() => throw CudaSharedMemory.RegisterRefused(region))
                : Error(400, "'region name' is necessary to register cuda shared memory region")));
            // Triton unregisters only regions of the CUDA kind: never one of ours, so this succeeds and leaves system regions alone.
            app.Map(prefix + "/unregister", (HttpContext ctx) => Method(ctx, "POST") ?? EmptyJson());
        }
    }

    /// <summary>The <c>{region}</c> route segment, empty on the routes without one (never taken from the query string).</summary>
    private static string Region(HttpContext ctx) => ctx.Request.RouteValues.TryGetValue("region", out var v) && v is string r ? r : "";

    /// <summary>Triton's 405 (with an error body) when the request's method is not <paramref name="method"/>.</summary>
    private static IResult? Method(HttpContext ctx, string method) =>
        HttpMethods.Equals(ctx.Request.Method, method) ? null : Error(405, "Method Not Allowed");

    private static IResult EmptyJson() => Results.Content("", "application/json", Encoding.UTF8);

    /// <summary>The register body <c>{"key", "offset"?, "byte_size"}</c> with Triton's checks: a missing field is 400, a value of the wrong JSON type 500 (TritonJson's INTERNAL).</summary>
    private static async Task<(string? Key, ulong Offset, ulong ByteSize, IResult? Error)> RegisterBodyAsync(HttpContext ctx)
    {
        JsonNode? body;
        try { body = await JsonNode.ParseAsync(ctx.Request.Body, cancellationToken: ctx.RequestAborted).ConfigureAwait(false); }
        catch (JsonException e) { return (null, 0, 0, Error(500, $"failed to parse the request JSON buffer: {e.Message}")); }
        if (body is not JsonObject o || !o.TryGetPropertyValue("key", out var keyNode))
            return (null, 0, 0, Error(400, "Shared memory register request has no 'key' field"));
        if (keyNode?.GetValueKind() != JsonValueKind.String) return (null, 0, 0, Error(500, "attempt to access JSON non-string as string"));
        ulong offset = 0;
        if (o.TryGetPropertyValue("offset", out var offsetNode) && !TryUInt(offsetNode, out offset))
            return (null, 0, 0, Error(500, "attempt to access JSON non-unsigned-integer as unsigned-integer"));
        if (!o.TryGetPropertyValue("byte_size", out var sizeNode))
            return (null, 0, 0, Error(400, "Shared memory register request has no 'byte_size' field"));
        if (!TryUInt(sizeNode, out ulong byteSize))
            return (null, 0, 0, Error(500, "attempt to access JSON non-unsigned-integer as unsigned-integer"));
        return (keyNode.GetValue<string>(), offset, byteSize, null);
    }

    private static bool TryUInt(JsonNode? node, out ulong value)
    {
        value = 0;
        return node is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue(out value);
    }

    private static readonly JsonSerializerOptions Relaxed = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>int64/uint64 fields Triton prints as JSON numbers (stock protobuf JSON quotes them); "versions" only in configs (metadata versions are strings).</summary>
    private static readonly HashSet<string> Int64Fields =
    [
        "shape", "dims", "max_sequence_idle_microseconds", "max_queue_delay_microseconds", "default_timeout_microseconds",
        "priority_levels", "default_priority_level", "model_version", "count", "ns", "last_inference", "inference_count",
        "execution_count", "batch_size", "byte_size", "id", "device_id",
    ];

    private static string JsonFormatter(IMessage message)
    {
        var text = new JsonFormatter(Google.Protobuf.JsonFormatter.Settings.Default.WithFormatDefaultValues(true).WithPreserveProtoFieldNames(true)).Format(message);
        var root = JsonNode.Parse(text)!;
        Unquote(root, null, message is ModelConfig);
        return root.ToJsonString(Relaxed);
    }

    private static void Unquote(JsonNode node, string? key, bool config)
    {
        bool numeric = key is not null && (Int64Fields.Contains(key) || (config && key == "versions"));
        switch (node)
        {
            case JsonObject o:
                foreach (var (k, v) in o.ToList())
                {
                    if (v is null) continue;
                    if (v is JsonValue jv && (Int64Fields.Contains(k) || (config && k == "versions")) && jv.TryGetValue(out string? sv) && long.TryParse(sv, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long l))
                        o[k] = l;
                    else if (v is JsonValue uv && Int64Fields.Contains(k) && uv.TryGetValue(out string? su) && ulong.TryParse(su, NumberStyles.None, CultureInfo.InvariantCulture, out ulong u))
                        o[k] = u;
                    else Unquote(v, k, config);
                }
                break;
            case JsonArray a:
                for (int i = 0; i < a.Count; i++)
                {
                    if (a[i] is JsonValue jv && numeric && jv.TryGetValue(out string? sv) && long.TryParse(sv, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long l)) a[i] = l;
                    else if (a[i] is { } child) Unquote(child, key, config);
                }
                break;
        }
    }

    private static IResult Json(string json) => Results.Content(json, "application/json", Encoding.UTF8);

    private static IResult Error(int status, string message) =>
        Results.Content(new JsonObject { ["error"] = message }.ToJsonString(Relaxed), "application/json", Encoding.UTF8, status);

    private static IResult Guard(Func<IResult> f)
    {
        try { return f(); }
        catch (InferenceException e) { return Error(InferenceException.HttpStatus(e.Code), e.Message); }
    }

    private static async Task<IResult> GuardAsync(Func<Task<IResult>> f)
    {
        try { return await f().ConfigureAwait(false); }
        catch (InferenceException e) { return Error(InferenceException.HttpStatus(e.Code), e.Message); }
        catch (BadInputException e) { return Error(400, e.Message); }
    }

    private static async Task<IResult> InferAsync(HttpContext ctx, InferenceCore core, string model, string version)
    {
        long arrival = Stopwatch.GetTimestamp();
        try
        {
            using var ms = new MemoryStream();
            await ctx.Request.Body.CopyToAsync(ms, ctx.RequestAborted).ConfigureAwait(false);
            var body = ms.GetBuffer().AsMemory(0, (int)ms.Length);
            int jsonLength = body.Length;
            if (ctx.Request.Headers.TryGetValue(HeaderLength, out var hl))
            {
                if (!int.TryParse(hl.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out jsonLength) || jsonLength > body.Length)
                    return Error(400, $"invalid {HeaderLength} header");
                if (jsonLength == 0) return Error(400, "raw binary requests without a JSON header are not supported by gwrepro serve");
            }
            var (request, binaryOut) = FromJson(body[..jsonLength], body[jsonLength..], model, version);
            var result = await core.InferAsync(request, arrival, ctx.RequestAborted).ConfigureAwait(false);
            return ToJson(ctx, result, request, binaryOut);
        }
        catch (InferenceException e) { return Error(InferenceException.HttpStatus(e.Code), e.Message); }
        catch (BadInputException e) { return Error(400, e.Message); }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException or OverflowException)
        {
            return Error(400, $"failed to parse the request JSON: {e.Message}");
        }
    }

    private static (ModelInferRequest Request, HashSet<string>? Binary) FromJson(ReadOnlyMemory<byte> json, ReadOnlyMemory<byte> binary, string model, string version)
    {
        var root = JsonNode.Parse(json.Span) as JsonObject ?? throw InferenceException.Invalid("the request body must be a JSON object");
        var r = new ModelInferRequest { ModelName = model, ModelVersion = version, Id = root["id"]?.GetValue<string>() ?? "" };
        bool allBinary = false;
        if (root["parameters"] is JsonObject ps)
            foreach (var (key, value) in ps)
            {
                if (key == "binary_data_output") { allBinary = value?.GetValue<bool>() ?? false; continue; }
                r.Parameters[key] = Parameter(value);
            }
        int offset = 0;
        foreach (var node in root["inputs"] as JsonArray ?? throw InferenceException.Invalid("the request has no 'inputs' array"))
        {
            var i = node as JsonObject ?? throw InferenceException.Invalid("each input must be a JSON object");
            var t = new ModelInferRequest.Types.InferInputTensor
            {
                Name = i["name"]?.GetValue<string>() ?? throw InferenceException.Invalid("an input has no 'name'"),
                Datatype = i["datatype"]?.GetValue<string>() ?? throw InferenceException.Invalid("an input has no 'datatype'"),
            };
            foreach (var d in i["shape"] as JsonArray ?? []) t.Shape.Add(d!.GetValue<long>());
            r.Inputs.Add(t);
            var parameters = i["parameters"] as JsonObject;
            CheckInputContent(i, parameters);
            if (parameters is not null && CopySharedMemoryParameters(parameters, t.Parameters))
                continue; // read from the region by the decoder, as over gRPC; no raw entry
            var type = TensorTypes.FromProtocol(t.Datatype);
            int size = TensorTypes.ElementSize(type);
            if (parameters?["binary_data_size"] is JsonNode bs)
            {
                int n = bs.GetValue<int>();
                if (n < 0 || offset + n > binary.Length) throw InferenceException.Invalid($"input '{t.Name}': binary_data_size {n} runs past the end of the body");
                r.RawInputContents.Add(ByteString.CopyFrom(binary.Span.Slice(offset, n)));
                offset += n;
                continue;
            }
            if (size == 0 && type != DataType.TypeString) throw InferenceException.Invalid($"input '{t.Name}': datatype '{t.Datatype}' is not supported in JSON by gwrepro serve");
            var values = new List<JsonNode?>();
            Flatten(i["data"] ?? throw InferenceException.Invalid($"input '{t.Name}': 'data' must not be null"), values);
            long expected;
            try { expected = TensorTypes.ElementCount(t.Shape.ToArray()); }
            catch (OverflowException) { throw InferenceException.Invalid($"input '{t.Name}': shape overflows"); }
            if (values.Count != expected)
                throw InferenceException.Invalid($"unexpected number of elements {values.Count} in the data of input '{t.Name}', expecting {expected}");
            if (type == DataType.TypeString)
            {
                // JSON carries BYTES elements as strings (UTF-8 on the wire), as Triton's HTTP front end reads them.
                var elements = values.Select(v => v?.GetValueKind() == JsonValueKind.String
                    ? ByteString.CopyFromUtf8(v.GetValue<string>())
                    : throw InferenceException.Invalid($"input '{t.Name}': BYTES data must be JSON strings")).ToList();
                r.RawInputContents.Add(UnsafeByteOperations.UnsafeWrap(BytesTensor.Serialize(elements)));
                continue;
            }
            var bytes = new byte[values.Count * size];
            for (int k = 0; k < values.Count; k++) WriteElement(bytes.AsSpan(k * size, size), type, values[k]);
            r.RawInputContents.Add(UnsafeByteOperations.UnsafeWrap(bytes));
        }
        // Triton: bytes after the JSON that no input claims are an error (e.g. data sent for an input that reads shared memory).
        if (offset != binary.Length) throw InferenceException.Invalid($"unexpected additional input data for model '{model}'");
        HashSet<string>? binaryOut = allBinary ? [] : null;
        foreach (var node in root["outputs"] as JsonArray ?? [])
        {
            var name = node?["name"]?.GetValue<string>() ?? throw InferenceException.Invalid("an output has no 'name'");
            var o = new ModelInferRequest.Types.InferRequestedOutputTensor { Name = name };
            r.Outputs.Add(o);
            var parameters = node?["parameters"] as JsonObject;
            bool binaryData = parameters?["binary_data"]?.GetValue<bool>() == true;
            if (parameters is not null && parameters.ContainsKey("shared_memory_region"))
            {
                // Triton's ValidateOutputParameter.
                if (parameters.ContainsKey("classification"))
                    throw InferenceException.Invalid("Output can't set both 'shared_memory_region' and 'classification'");
                if (binaryData) throw InferenceException.Invalid("Output can't set both 'shared_memory_region' and 'binary_data'");
            }
            if (parameters is not null && CopySharedMemoryParameters(parameters, o.Parameters)) continue;
            if (binaryData) (binaryOut ??= []).Add(name);
        }
        return (r, binaryOut);
    }

    /// <summary>Triton's ValidateInputContentType: exactly one of <c>data</c>, <c>binary_data_size</c>, <c>shared_memory_region</c>.</summary>
    private static void CheckInputContent(JsonObject input, JsonObject? parameters)
    {
        bool data = input.ContainsKey("data");
        bool binary = parameters?.ContainsKey("binary_data_size") == true;
        bool shm = parameters?.ContainsKey("shared_memory_region") == true;
        int set = (data ? 1 : 0) + (binary ? 1 : 0) + (shm ? 1 : 0);
        if (set == 1) return;
        var message = new StringBuilder("Input must set only one of the following fields: 'data', 'binary_data_size' in 'parameters', 'shared_memory_region' in 'parameters'. But");
        if (set == 0) message.Append(" no field is set");
        else
        {
            message.Append(" set");
            if (data) message.Append(" 'data'");
            if (binary) message.Append(" 'binary_data_size'");
            if (shm) message.Append(" 'shared_memory_region'");
        }
        throw InferenceException.Invalid(message.ToString());
    }

    private static readonly string[] SharedMemoryKeys = ["shared_memory_region", "shared_memory_byte_size", "shared_memory_offset"];

    /// <summary>Carries a tensor's <c>shared_memory_*</c> parameters into the protocol request, where the decoder shared with gRPC validates and resolves them.</summary>
    /// <returns>Whether the tensor uses shared memory.</returns>
    private static bool CopySharedMemoryParameters(JsonObject parameters, Google.Protobuf.Collections.MapField<string, InferParameter> into)
    {
        bool any = false;
        foreach (var key in SharedMemoryKeys)
        {
            if (!parameters.TryGetPropertyValue(key, out var value)) continue;
            into[key] = Parameter(value);
            any = true;
        }
        return any;
    }

    private static InferParameter Parameter(JsonNode? v) => v?.GetValueKind() switch
    {
        JsonValueKind.True or JsonValueKind.False => new InferParameter { BoolParam = v.GetValue<bool>() },
        JsonValueKind.String => new InferParameter { StringParam = v.GetValue<string>() },
        JsonValueKind.Number when v.AsValue().TryGetValue(out long l) => new InferParameter { Int64Param = l },
        JsonValueKind.Number => new InferParameter { DoubleParam = v!.GetValue<double>() },
        _ => throw InferenceException.Invalid("request parameters must be booleans, numbers or strings"),
    };

    private static void Flatten(JsonNode node, List<JsonNode?> into)
    {
        if (node is JsonArray a) foreach (var x in a) { if (x is JsonArray) Flatten(x, into); else into.Add(x); }
        else into.Add(node);
    }

    private static void WriteElement(Span<byte> dst, DataType type, JsonNode? v)
    {
        if (v is null) throw InferenceException.Invalid("null in tensor data");
        switch (type)
        {
            case DataType.TypeBool: dst[0] = v.GetValue<bool>() ? (byte)1 : (byte)0; break;
            case DataType.TypeFp32: BinaryPrimitives.WriteSingleLittleEndian(dst, v.GetValue<float>()); break;
            case DataType.TypeFp64: BinaryPrimitives.WriteDoubleLittleEndian(dst, v.GetValue<double>()); break;
            case DataType.TypeInt8: dst[0] = (byte)v.GetValue<sbyte>(); break;
            case DataType.TypeUint8: dst[0] = v.GetValue<byte>(); break;
            case DataType.TypeInt16: BinaryPrimitives.WriteInt16LittleEndian(dst, v.GetValue<short>()); break;
            case DataType.TypeUint16: BinaryPrimitives.WriteUInt16LittleEndian(dst, v.GetValue<ushort>()); break;
            case DataType.TypeInt32: BinaryPrimitives.WriteInt32LittleEndian(dst, v.GetValue<int>()); break;
            case DataType.TypeUint32: BinaryPrimitives.WriteUInt32LittleEndian(dst, v.GetValue<uint>()); break;
            case DataType.TypeInt64: BinaryPrimitives.WriteInt64LittleEndian(dst, v.GetValue<long>()); break;
            case DataType.TypeUint64: BinaryPrimitives.WriteUInt64LittleEndian(dst, v.GetValue<ulong>()); break;
            default: throw InferenceException.Invalid($"datatype {TensorTypes.ToProtocol(type)} cannot be sent as JSON");
        }
    }

    /// <remarks>An output written to shared memory is reported by name, datatype and shape only, as Triton's HTTP front end does (no data, no parameters).</remarks>
    private static IResult ToJson(HttpContext ctx, InferenceResult result, ModelInferRequest request, HashSet<string>? binary)
    {
        string id = request.Id;
        HashSet<string>? inShm = null;
        foreach (var requested in request.Outputs)
            if (requested.Parameters.ContainsKey("shared_memory_region")) (inShm ??= new(StringComparer.Ordinal)).Add(requested.Name);
        var outputs = new JsonArray();
        var tail = new List<ReadOnlyMemory<byte>>();
        foreach (var (name, t) in result.Outputs)
        {
            var o = new JsonObject { ["name"] = name, ["datatype"] = TensorTypes.ToProtocol(t.Type), ["shape"] = new JsonArray([.. t.Shape.Select(d => (JsonNode?)d)]) };
            if (inShm is not null && inShm.Contains(name)) { }
            else if (binary is not null && (binary.Count == 0 || binary.Contains(name)))
            {
                o["parameters"] = new JsonObject { ["binary_data_size"] = t.Bytes.Length };
                tail.Add(t.Bytes);
            }
            else o["data"] = Data(t);
            outputs.Add(o);
        }
        var root = new JsonObject { ["model_name"] = result.ModelName, ["model_version"] = result.ModelVersion.ToString(CultureInfo.InvariantCulture) };
        if (id.Length > 0) root["id"] = id;
        root["outputs"] = outputs;
        var json = Encoding.UTF8.GetBytes(root.ToJsonString(Relaxed));
        if (tail.Count == 0) return Results.Bytes(json, "application/json");
        ctx.Response.Headers[HeaderLength] = json.Length.ToString(CultureInfo.InvariantCulture);
        var all = new byte[json.Length + tail.Sum(x => x.Length)];
        json.CopyTo(all, 0);
        int at = json.Length;
        foreach (var b in tail) { b.Span.CopyTo(all.AsSpan(at)); at += b.Length; }
        return Results.Bytes(all, "application/octet-stream");
    }

    private static JsonArray Data(TensorData t)
    {
        var a = new JsonArray();
        if (t.Type == DataType.TypeString)
        {
            var strings = new List<string>();
            BytesTensor.ForEach(t.Bytes.Span, (element, _) => strings.Add(Encoding.UTF8.GetString(element)));
            foreach (var x in strings) a.Add(JsonValue.Create(x));
            return a;
        }
        var s = t.Bytes.Span;
        int size = TensorTypes.ElementSize(t.Type);
        for (int i = 0; i + size <= s.Length && size > 0; i += size)
        {
            var e = s.Slice(i, size);
            a.Add(t.Type switch
            {
                DataType.TypeFp32 => JsonValue.Create(BinaryPrimitives.ReadSingleLittleEndian(e)),
                DataType.TypeFp64 => JsonValue.Create(BinaryPrimitives.ReadDoubleLittleEndian(e)),
                DataType.TypeBool => JsonValue.Create(e[0] != 0),
                DataType.TypeInt8 => JsonValue.Create((sbyte)e[0]),
                DataType.TypeUint8 => JsonValue.Create(e[0]),
                DataType.TypeInt16 => JsonValue.Create(BinaryPrimitives.ReadInt16LittleEndian(e)),
                DataType.TypeUint16 => JsonValue.Create(BinaryPrimitives.ReadUInt16LittleEndian(e)),
                DataType.TypeInt32 => JsonValue.Create(BinaryPrimitives.ReadInt32LittleEndian(e)),
                DataType.TypeUint32 => JsonValue.Create(BinaryPrimitives.ReadUInt32LittleEndian(e)),
                DataType.TypeInt64 => JsonValue.Create(BinaryPrimitives.ReadInt64LittleEndian(e)),
                DataType.TypeUint64 => JsonValue.Create(BinaryPrimitives.ReadUInt64LittleEndian(e)),
                _ => (JsonNode?)null,
            });
        }
        return a;
    }
}
