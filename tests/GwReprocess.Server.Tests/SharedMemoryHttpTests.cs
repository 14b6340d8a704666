using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json.Nodes;
using Inference;

namespace GwReprocess.Server.Tests;

/// <summary>The same extension over HTTP/REST: Triton's routes, JSON shapes, status codes and error bodies, on the registry gRPC uses.</summary>
public sealed partial class SharedMemoryTests
{
    private const string InferPath = "/v2/models/deepclean-h1/infer";

    private async Task<(HttpStatusCode Status, string Body)> SendAsync(HttpMethod method, string path, JsonNode? body = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null) request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        using var response = await S.Http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private Task<(HttpStatusCode Status, string Body)> PostAsync(string path, JsonNode? body = null) => SendAsync(HttpMethod.Post, path, body);

    private static JsonObject RegisterBody(string key, ulong offset, ulong size) => new() { ["key"] = key, ["offset"] = offset, ["byte_size"] = size };

    /// <summary>Asserts Triton's error answer: the status and a body that is exactly <c>{"error": message}</c> (message checked by prefix).</summary>
    private static void AssertError((HttpStatusCode Status, string Body) answer, HttpStatusCode status, string messageStart, string why = "")
    {
        Assert.True(answer.Status == status, $"{why}: {(int)answer.Status} {answer.Body}");
        var o = JsonNode.Parse(answer.Body)!.AsObject();
        Assert.Equal(["error"], o.Select(p => p.Key));
        Assert.StartsWith(messageStart, o["error"]!.GetValue<string>());
    }

    /// <summary>An input (or output) carrying tritonclient.http's <c>set_shared_memory</c> parameters (offset only when not 0, as the client sends it).</summary>
    private static JsonObject ShmParameters(string region, long bytes, long offset)
    {
        var p = new JsonObject { ["shared_memory_region"] = region, ["shared_memory_byte_size"] = bytes };
        if (offset != 0) p["shared_memory_offset"] = offset;
        return p;
    }

    private static JsonObject ShmInfer(string inRegion, long inBytes, long inOffset, string? outRegion, long outBytes = OutputBytes, long outOffset = 0)
    {
        var body = new JsonObject
        {
            ["id"] = "http-shm",
            ["inputs"] = new JsonArray(new JsonObject
            {
                ["name"] = "witness", ["datatype"] = "FP32", ["shape"] = new JsonArray(2, 3, 1024), ["parameters"] = ShmParameters(inRegion, inBytes, inOffset),
            }),
        };
        if (outRegion is not null) body["outputs"] = new JsonArray(new JsonObject { ["name"] = "noise", ["parameters"] = ShmParameters(outRegion, outBytes, outOffset) });
        return body;
    }

    private static JsonObject JsonInput(string name, long[] shape, float[] data) => new()
    {
        ["name"] = name, ["datatype"] = "FP32", ["shape"] = new JsonArray([.. shape.Select(d => (JsonNode?)d)]), ["data"] = new JsonArray([.. data.Select(v => (JsonNode?)v)]),
    };

    /// <summary>Posts a binary-tensor request: the JSON header, then <paramref name="tail"/>; returns the JSON part and the binary part of the answer.</summary>
    private async Task<(JsonNode Json, byte[] Binary)> PostBinaryAsync(string path, JsonNode header, byte[] tail)
    {
        var json = Encoding.UTF8.GetBytes(header.ToJsonString());
        var content = new ByteArrayContent([.. json, .. tail]);
        content.Headers.Add("Inference-Header-Content-Length", json.Length.ToString(CultureInfo.InvariantCulture));
        using var response = await S.Http.PostAsync(path, content);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, Encoding.UTF8.GetString(bytes));
        int jsonLength = response.Headers.TryGetValues("Inference-Header-Content-Length", out var v) ? int.Parse(v.Single(), CultureInfo.InvariantCulture) : bytes.Length;
        return (JsonNode.Parse(bytes.AsSpan(0, jsonLength))!, bytes[jsonLength..]);
    }

    /// <summary>Asserts Triton's HTTP answer for an output written to shared memory: name, datatype, shape, and nothing else.</summary>
    private static void AssertShmOutput(JsonNode output, string name, long[] shape)
    {
        Assert.Equal(["name", "datatype", "shape"], output.AsObject().Select(p => p.Key));
        Assert.Equal(name, output["name"]!.GetValue<string>());
        Assert.Equal("FP32", output["datatype"]!.GetValue<string>());
        Assert.Equal(shape, output["shape"]!.AsArray().Select(d => d!.GetValue<long>()));
    }

    [Fact]
    public async Task HttpRegisterStatusUnregisterFollowTriton()
    {
        var key = CreateObject(4096);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync("/v2/systemsharedmemory/region/http-a/register", RegisterBody(key, 1024, 2048))).Status);
        var one = await SendAsync(HttpMethod.Get, "/v2/systemsharedmemory/region/http-a/status");
        Assert.Equal(HttpStatusCode.OK, one.Status);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse($$"""[{"name":"http-a","key":"{{key}}","offset":1024,"byte_size":2048}]"""), JsonNode.Parse(one.Body)), one.Body);
        // Numbers are JSON numbers, in Triton's field order.
        Assert.Equal($$"""[{"name":"http-a","key":"{{key}}","offset":1024,"byte_size":2048}]""", one.Body);

        // The registry is the one gRPC uses: a region registered there is listed here, in name order (Triton's std::map).
        await RegisterAsync("http-0", key[1..], 0, 4096);
        var all = JsonNode.Parse((await SendAsync(HttpMethod.Get, "/v2/systemsharedmemory/status")).Body)!.AsArray();
        Assert.Equal(["http-0", "http-a"], all.Select(r => r!["name"]!.GetValue<string>()));
        Assert.Equal([key[1..], key], all.Select(r => r!["key"]!.GetValue<string>()));
        Assert.Equal([4096UL, 2048UL], all.Select(r => r!["byte_size"]!.GetValue<ulong>()));
        var grpc = await S.Client.SystemSharedMemoryStatusAsync(new SystemSharedMemoryStatusRequest { Name = "http-a" });
        Assert.Equal((key, 1024UL, 2048UL), (grpc.Regions["http-a"].Key, grpc.Regions["http-a"].Offset, grpc.Regions["http-a"].ByteSize));

        // Offset is optional (0), as in Triton.
        Assert.Equal(HttpStatusCode.OK, (await PostAsync("/v2/systemsharedmemory/region/http-b/register", new JsonObject { ["key"] = key, ["byte_size"] = 16 })).Status);
        Assert.Equal(0UL, (await S.Client.SystemSharedMemoryStatusAsync(new SystemSharedMemoryStatusRequest { Name = "http-b" })).Regions["http-b"].Offset);
        // A system region is no CUDA region: Triton's message for the name, and CUDA unregistration leaves it alone.
        AssertError(await SendAsync(HttpMethod.Get, "/v2/cudasharedmemory/region/http-b/status"), HttpStatusCode.NotFound,
            "The region named 'http-b' is registered as system shared memory, not CUDA shared memory");
        Assert.Equal(HttpStatusCode.OK, (await PostAsync("/v2/cudasharedmemory/region/http-b/unregister")).Status);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Get, "/v2/systemsharedmemory/region/http-b/status")).Status);

        var unregister = await PostAsync("/v2/systemsharedmemory/region/http-a/unregister");
        Assert.Equal((HttpStatusCode.OK, ""), unregister);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync("/v2/systemsharedmemory/region/never-registered/unregister")).Status);
        AssertError(await SendAsync(HttpMethod.Get, "/v2/systemsharedmemory/region/http-a/status"), HttpStatusCode.NotFound, "Unable to find system shared memory region: 'http-a'");
        Assert.DoesNotContain("http-a", (await S.Client.SystemSharedMemoryStatusAsync(new SystemSharedMemoryStatusRequest())).Regions.Keys);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync("/v2/systemsharedmemory/unregister")).Status);
        Assert.Equal((HttpStatusCode.OK, "[]"), await SendAsync(HttpMethod.Get, "/v2/systemsharedmemory/status"));
        Assert.Empty((await S.Client.SystemSharedMemoryStatusAsync(new SystemSharedMemoryStatusRequest())).Regions);

        // Triton's request checks: method, region name, body fields.
        AssertError(await SendAsync(HttpMethod.Get, "/v2/systemsharedmemory/region/x/register"), HttpStatusCode.MethodNotAllowed, "Method Not Allowed");
        AssertError(await PostAsync("/v2/systemsharedmemory/status"), HttpStatusCode.MethodNotAllowed, "Method Not Allowed");
        AssertError(await PostAsync("/v2/systemsharedmemory/register", RegisterBody(key, 0, 16)), HttpStatusCode.BadRequest, "'region name' is necessary to register system shared memory region");
        AssertError(await PostAsync("/v2/systemsharedmemory/region/x/register", new JsonObject { ["byte_size"] = 16 }), HttpStatusCode.BadRequest, "Shared memory register request has no 'key' field");
        AssertError(await PostAsync("/v2/systemsharedmemory/region/x/register", new JsonObject { ["key"] = key }), HttpStatusCode.BadRequest, "Shared memory register request has no 'byte_size' field");
        AssertError(await PostAsync("/v2/systemsharedmemory/region/x/register", new JsonObject { ["key"] = key, ["byte_size"] = -1 }), HttpStatusCode.InternalServerError, "attempt to access JSON non-unsigned-integer");

        // CUDA shared memory answers as Triton built without GPU support; the server metadata says which extensions exist.
        Assert.Equal((HttpStatusCode.OK, "[]"), await SendAsync(HttpMethod.Get, "/v2/cudasharedmemory/status"));
        AssertError(await PostAsync("/v2/cudasharedmemory/region/gpu/register", new JsonObject { ["raw_handle"] = new JsonObject { ["b64"] = "AA==" }, ["device_id"] = 0, ["byte_size"] = 16 }),
            HttpStatusCode.BadRequest, "failed to register CUDA shared memory region: 'gpu', GPUs not supported");
        AssertError(await SendAsync(HttpMethod.Get, "/v2/cudasharedmemory/region/gpu/status"), HttpStatusCode.NotFound, "Unable to find cuda shared memory region: 'gpu'");
        AssertError(await PostAsync("/v2/cudasharedmemory/register"), HttpStatusCode.BadRequest, "'region name' is necessary to register cuda shared memory region");
        AssertError(await SendAsync(HttpMethod.Get, "/v2/cudasharedmemory/unregister"), HttpStatusCode.MethodNotAllowed, "Method Not Allowed");
        Assert.Equal(HttpStatusCode.OK, (await PostAsync("/v2/cudasharedmemory/unregister")).Status);
        var extensions = JsonNode.Parse(await S.Http.GetStringAsync("/v2"))!["extensions"]!.AsArray().Select(e => e!.GetValue<string>()).ToList();
        Assert.Contains("system_shared_memory", extensions);
        Assert.DoesNotContain("cuda_shared_memory", extensions);
    }

    [Fact]
    public async Task HttpInferenceThroughSharedMemoryEqualsJsonAndBinaryData()
    {
        var x = TestServer.Signal(2 * 3 * 1024, 47);
        const int inOffset = 96, outOffset = 64;
        var inKey = CreateObject(inOffset + InputBytes);
        var outKey = CreateObject(outOffset + OutputBytes);
        File.WriteAllBytes(PathOf(inKey), [.. new byte[inOffset], .. MemoryMarshal.AsBytes(x.AsSpan()).ToArray()]);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync("/v2/systemsharedmemory/region/http-in/register", RegisterBody(inKey, 32, (ulong)(inOffset - 32 + InputBytes)))).Status);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync("/v2/systemsharedmemory/region/http-out/register", RegisterBody(outKey, 0, (ulong)(outOffset + OutputBytes)))).Status);
        try
        {
            // The same request with JSON data and with binary data, for reference.
            var jsonAnswer = JsonNode.Parse(await (await S.Http.PostAsync(InferPath, new StringContent(
                new JsonObject { ["inputs"] = new JsonArray(JsonInput("witness", WitnessShape, x)) }.ToJsonString(), Encoding.UTF8, "application/json"))).Content.ReadAsStringAsync())!;
            var fromJson = jsonAnswer["outputs"]![0]!["data"]!.AsArray().Select(v => v!.GetValue<float>()).ToArray();
            var (_, binary) = await PostBinaryAsync(InferPath, JsonNode.Parse("""
                {"inputs":[{"name":"witness","datatype":"FP32","shape":[2,3,1024],"parameters":{"binary_data_size":24576}}],"outputs":[{"name":"noise","parameters":{"binary_data":true}}]}
                """)!, MemoryMarshal.AsBytes(x.AsSpan()).ToArray());
            var fromBinary = MemoryMarshal.Cast<byte, float>(binary).ToArray();
            Assert.Equal(fromJson, fromBinary);
            TestServer.Close(TestServer.RunInProcess(S.Model("deepclean-h1"), ("witness", x, [2, 3, 1024]))["noise"], fromBinary, 0);

            // Input read from one region, output written into another: JSON answer without data (request-level binary_data_output does not apply to it).
            var shmBody = ShmInfer("http-in", InputBytes, inOffset - 32, "http-out", OutputBytes, outOffset);
            shmBody["parameters"] = new JsonObject { ["binary_data_output"] = true };
            using var response = await S.Http.PostAsync(InferPath, new StringContent(shmBody.ToJsonString(), Encoding.UTF8, "application/json"));
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, text);
            Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
            Assert.False(response.Headers.Contains("Inference-Header-Content-Length"));
            var answer = JsonNode.Parse(text)!;
            Assert.Equal(("deepclean-h1", "1", "http-shm"), (answer["model_name"]!.GetValue<string>(), answer["model_version"]!.GetValue<string>(), answer["id"]!.GetValue<string>()));
            AssertShmOutput(answer["outputs"]!.AsArray().Single()!, "noise", [2, 1024]);
            var written = File.ReadAllBytes(PathOf(outKey));
            Assert.All(written[..outOffset], b => Assert.Equal(0, b));
            Assert.Equal(fromBinary, MemoryMarshal.Cast<byte, float>(written.AsSpan(outOffset)).ToArray());

            // Input in shared memory, output as JSON data.
            var mixed = JsonNode.Parse(await (await S.Http.PostAsync(InferPath, new StringContent(ShmInfer("http-in", InputBytes, inOffset - 32, null).ToJsonString(), Encoding.UTF8, "application/json"))).Content.ReadAsStringAsync())!;
            Assert.Equal(fromJson, mixed["outputs"]![0]!["data"]!.AsArray().Select(v => v!.GetValue<float>()).ToArray());
        }
        finally
        {
            await PostAsync("/v2/systemsharedmemory/region/http-in/unregister");
            await PostAsync("/v2/systemsharedmemory/region/http-out/unregister");
        }
    }

    [Fact]
    public async Task HttpMixesSharedMemoryJsonAndBinaryInputsOfOneRequest()
    {
        // postproc: strain [2, 2, 1024] from shared memory, noise_h1 as JSON data, noise_l1 as binary data; whitened written to shared memory.
        const int k = 1024, strainBytes = 2 * 2 * k * 4, outBytes = 2 * 2 * k * 4;
        var strain = TestServer.Signal(2 * 2 * k, 51);
        var noiseH1 = TestServer.Signal(2 * k, 52);
        var noiseL1 = TestServer.Signal(2 * k, 53);
        var strainKey = CreateObject(strainBytes);
        var outKey = CreateObject(outBytes);
        File.WriteAllBytes(PathOf(strainKey), MemoryMarshal.AsBytes(strain.AsSpan()).ToArray());
        Assert.Equal(HttpStatusCode.OK, (await PostAsync("/v2/systemsharedmemory/region/mix-strain/register", RegisterBody(strainKey, 0, strainBytes))).Status);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync("/v2/systemsharedmemory/region/mix-out/register", RegisterBody(outKey, 0, outBytes))).Status);
        try
        {
            var expected = TestServer.RunInProcess(S.Model("postproc"), ("strain", strain, [2, 2, k]), ("noise_h1", noiseH1, [2, k]), ("noise_l1", noiseL1, [2, k]))["whitened"];
            var header = new JsonObject
            {
                ["inputs"] = new JsonArray(
                    new JsonObject { ["name"] = "strain", ["datatype"] = "FP32", ["shape"] = new JsonArray(2, 2, k), ["parameters"] = ShmParameters("mix-strain", strainBytes, 0) },
                    JsonInput("noise_h1", [2, k], noiseH1),
                    new JsonObject { ["name"] = "noise_l1", ["datatype"] = "FP32", ["shape"] = new JsonArray(2, k), ["parameters"] = new JsonObject { ["binary_data_size"] = 2 * k * 4 } }),
                ["outputs"] = new JsonArray(new JsonObject { ["name"] = "whitened", ["parameters"] = ShmParameters("mix-out", outBytes, 0) }),
            };
            var (json, tail) = await PostBinaryAsync("/v2/models/postproc/infer", header, MemoryMarshal.AsBytes(noiseL1.AsSpan()).ToArray());
            Assert.Empty(tail);
            AssertShmOutput(json["outputs"]!.AsArray().Single()!, "whitened", [2, 2, k]);
            TestServer.Close(expected, MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(PathOf(outKey))).ToArray(), 0);
        }
        finally { await PostAsync("/v2/systemsharedmemory/unregister"); }
    }

    [Fact]
    public async Task RegionsRegisteredOverOneProtocolServeInferenceOverTheOther()
    {
        var x = TestServer.Signal(2 * 3 * 1024, 49);
        var inKey = CreateObject(InputBytes);
        var outKey = CreateObject(OutputBytes);
        File.WriteAllBytes(PathOf(inKey), MemoryMarshal.AsBytes(x.AsSpan()).ToArray());
        var expected = TestServer.Output(await S.Client.ModelInferAsync(TestServer.RawRequest("deepclean-h1", "witness", x, WitnessShape)), "noise");
        try
        {
            // Registered over gRPC, used over HTTP.
            await RegisterAsync("x-in", inKey, 0, InputBytes);
            await RegisterAsync("x-out", outKey, 0, OutputBytes);
            var http = await PostAsync(InferPath, ShmInfer("x-in", InputBytes, 0, "x-out"));
            Assert.True(http.Status == HttpStatusCode.OK, http.Body);
            Assert.Equal(expected, MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(PathOf(outKey))).ToArray());

            // Unregistered over HTTP: gone for gRPC inference too; registered again over HTTP, used over gRPC.
            Assert.Equal(HttpStatusCode.OK, (await PostAsync("/v2/systemsharedmemory/region/x-out/unregister")).Status);
            File.WriteAllBytes(PathOf(outKey), new byte[OutputBytes]);
            Assert.Equal(Grpc.Core.StatusCode.NotFound, (await TestServer.Fails(async () => await S.Client.ModelInferAsync(ShmRequest("x-in", InputBytes, 0, "x-out")))).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await PostAsync("/v2/systemsharedmemory/region/x-out/register", RegisterBody(outKey, 0, OutputBytes))).Status);
            var grpc = await S.Client.ModelInferAsync(ShmRequest("x-in", InputBytes, 0, "x-out"));
            Assert.Equal("x-out", grpc.Outputs.Single().Parameters["shared_memory_region"].StringParam);
            Assert.Equal(expected, MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(PathOf(outKey))).ToArray());
        }
        finally { await S.Client.SystemSharedMemoryUnregisterAsync(new SystemSharedMemoryUnregisterRequest()); }
    }

    [Fact]
    public async Task HttpErrorsGetTritonsStatusAndErrorBodyAndTheServerKeepsServing()
    {
        var inKey = CreateObject(InputBytes);
        var outKey = CreateObject(OutputBytes);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync("/v2/systemsharedmemory/region/e-in/register", RegisterBody(inKey, 0, InputBytes))).Status);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync("/v2/systemsharedmemory/region/e-out/register", RegisterBody(outKey, 0, OutputBytes))).Status);
        try
        {
            // Registration: Triton's shared_memory_manager.cc codes through HttpCodeFromError.
            AssertError(await PostAsync("/v2/systemsharedmemory/region/e-in/register", RegisterBody(outKey, 0, 16)), HttpStatusCode.BadRequest,
                "shared memory region 'e-in' already in manager", "duplicate name");
            foreach (var badKey in new[] { "/gwrepro-test-missing-object", "/../etc/passwd", "" })
                AssertError(await PostAsync("/v2/systemsharedmemory/region/e-bad/register", RegisterBody(badKey, 0, 16)), HttpStatusCode.InternalServerError,
                    $"Unable to open shared memory region: '{badKey}'", $"key '{badKey}'");
            AssertError(await PostAsync("/v2/systemsharedmemory/region/e-bad/register", RegisterBody(inKey, InputBytes - 8, 16)), HttpStatusCode.BadRequest,
                "failed to register shared memory region 'e-bad': invalid args", "range past the object's end");
            AssertError(await SendAsync(HttpMethod.Get, "/v2/systemsharedmemory/region/e-bad/status"), HttpStatusCode.NotFound, "Unable to find system shared memory region: 'e-bad'");

            // Inference: the decoder gRPC uses, so the same checks and messages.
            var dataAndShm = ShmInfer("e-in", InputBytes, 0, null);
            dataAndShm["inputs"]![0]!["data"] = new JsonArray(1, 2, 3);
            var noContent = ShmInfer("e-in", InputBytes, 0, null);
            noContent["inputs"]![0]!.AsObject().Remove("parameters");
            var shmAndBinaryOut = ShmInfer("e-in", InputBytes, 0, "e-out");
            shmAndBinaryOut["outputs"]![0]!["parameters"]!["binary_data"] = true;
            var noByteSize = ShmInfer("e-in", InputBytes, 0, null);
            noByteSize["inputs"]![0]!["parameters"]!.AsObject().Remove("shared_memory_byte_size");
            var cases = new (string Why, JsonObject Body, HttpStatusCode Status, string Message)[]
            {
                ("unknown input region", ShmInfer("no-such-region", InputBytes, 0, null), HttpStatusCode.NotFound, "Unable to find shared memory region: 'no-such-region'"),
                ("unknown output region", ShmInfer("e-in", InputBytes, 0, "no-such-region"), HttpStatusCode.NotFound, "Unable to find shared memory region: 'no-such-region'"),
                ("input offset + size past the region", ShmInfer("e-in", InputBytes, 4, null), HttpStatusCode.BadRequest, "Invalid offset + byte size for shared memory region: 'e-in'"),
                ("output offset + size past the region", ShmInfer("e-in", InputBytes, 0, "e-out", OutputBytes, 8), HttpStatusCode.BadRequest, "Invalid offset + byte size for shared memory region: 'e-out'"),
                ("input size not shape x dtype", ShmInfer("e-in", InputBytes - 4, 0, null), HttpStatusCode.BadRequest, "[request id: http-shm] input byte size mismatch for input"),
                ("negative offset", ShmInfer("e-in", InputBytes, -8, null), HttpStatusCode.BadRequest, "invalid value for 'shared_memory_offset'"),
                ("region without byte size", noByteSize, HttpStatusCode.BadRequest, "'shared_memory_byte_size' is required"),
                ("data and shared memory", dataAndShm, HttpStatusCode.BadRequest,
                    "Input must set only one of the following fields: 'data', 'binary_data_size' in 'parameters', 'shared_memory_region' in 'parameters'. But set 'data' 'shared_memory_region'"),
                ("no content at all", noContent, HttpStatusCode.BadRequest, "Input must set only one of the following fields: 'data', 'binary_data_size' in 'parameters', 'shared_memory_region' in 'parameters'. But no field is set"),
                ("output in shared memory and binary", shmAndBinaryOut, HttpStatusCode.BadRequest, "Output can't set both 'shared_memory_region' and 'binary_data'"),
                ("output region too small for the result", ShmInfer("e-in", InputBytes, 0, "e-out", OutputBytes - 4), HttpStatusCode.InternalServerError,
                    $"shared memory size specified with the request for output 'noise' ({OutputBytes - 4} bytes) should be at least {OutputBytes} bytes to hold the results"),
            };
            foreach (var (why, body, status, message) in cases) AssertError(await PostAsync(InferPath, body), status, message, why);
            // Binary data sent beside a shared-memory input that nothing claims.
            var stray = Encoding.UTF8.GetBytes(ShmInfer("e-in", InputBytes, 0, null).ToJsonString());
            var strayContent = new ByteArrayContent([.. stray, 1, 2, 3, 4]);
            strayContent.Headers.Add("Inference-Header-Content-Length", stray.Length.ToString(CultureInfo.InvariantCulture));
            using (var strayAnswer = await S.Http.PostAsync(InferPath, strayContent))
                AssertError((strayAnswer.StatusCode, await strayAnswer.Content.ReadAsStringAsync()), HttpStatusCode.BadRequest, "unexpected additional input data for model 'deepclean-h1'", "stray binary data");

            // Nothing was written for the failed outputs; the server still serves JSON and shared-memory requests.
            Assert.All(File.ReadAllBytes(PathOf(outKey)), b => Assert.Equal(0, b));
            var x = TestServer.Signal(2 * 3 * 1024, 53);
            File.WriteAllBytes(PathOf(inKey), MemoryMarshal.AsBytes(x.AsSpan()).ToArray());
            var ok = await PostAsync(InferPath, ShmInfer("e-in", InputBytes, 0, "e-out"));
            Assert.True(ok.Status == HttpStatusCode.OK, ok.Body);
            var json = JsonNode.Parse(await (await S.Http.PostAsync(InferPath, new StringContent(
                new JsonObject { ["inputs"] = new JsonArray(JsonInput("witness", WitnessShape, x)) }.ToJsonString(), Encoding.UTF8, "application/json"))).Content.ReadAsStringAsync())!;
            Assert.Equal(json["outputs"]![0]!["data"]!.AsArray().Select(v => v!.GetValue<float>()).ToArray(),
                MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(PathOf(outKey))).ToArray());
            // The failed registrations left nothing behind.
            var names = JsonNode.Parse(await S.Http.GetStringAsync("/v2/systemsharedmemory/status"))!.AsArray().Select(r => r!["name"]!.GetValue<string>());
            Assert.Equal(["e-in", "e-out"], names);
        }
        finally { await PostAsync("/v2/systemsharedmemory/unregister"); }
    }
}
