using System.Runtime.InteropServices;
using Grpc.Core;
using Inference;

namespace GwReprocess.Server.Tests;

/// <summary>Triton's system shared-memory extension: register / status / unregister with Triton's codes, tensors read from and written to /dev/shm regions.</summary>
public sealed partial class SharedMemoryTests(SharedServer shared) : IClassFixture<SharedServer>, IDisposable
{
    private TestServer S => shared.Server;

    private static readonly long[] WitnessShape = [2, 3, 1024];
    private const int InputBytes = 2 * 3 * 1024 * 4, OutputBytes = 2 * 1024 * 4;

    private readonly List<string> _objects = [];

    /// <summary>Creates a POSIX shm object (a file under /dev/shm) of <paramref name="bytes"/> zero bytes; returns its key ("/name").</summary>
    private string CreateObject(int bytes)
    {
        var name = "gwrepro-test-" + Guid.NewGuid().ToString("N")[..12];
        var path = "/dev/shm/" + name;
        using (var f = new FileStream(path, FileMode.CreateNew)) f.SetLength(bytes);
        _objects.Add(path);
        return "/" + name;
    }

    private static string PathOf(string key) => "/dev/shm" + key;

    public void Dispose()
    {
        foreach (var p in _objects) File.Delete(p);
    }

    private async Task RegisterAsync(string name, string key, ulong offset, ulong size) =>
        await S.Client.SystemSharedMemoryRegisterAsync(new SystemSharedMemoryRegisterRequest { Name = name, Key = key, Offset = offset, ByteSize = size });

    private static ModelInferRequest ShmRequest(string inputRegion, long inputBytes, long inputOffset, string? outputRegion, long outputBytes = OutputBytes, long outputOffset = 0)
    {
        var r = new ModelInferRequest { ModelName = "deepclean-h1", Id = "shm" };
        var t = new ModelInferRequest.Types.InferInputTensor { Name = "witness", Datatype = "FP32" };
        t.Shape.AddRange(WitnessShape);
        t.Parameters["shared_memory_region"] = new InferParameter { StringParam = inputRegion };
        t.Parameters["shared_memory_byte_size"] = new InferParameter { Int64Param = inputBytes };
        if (inputOffset != 0) t.Parameters["shared_memory_offset"] = new InferParameter { Int64Param = inputOffset };
        r.Inputs.Add(t);
        if (outputRegion is not null)
        {
            var o = new ModelInferRequest.Types.InferRequestedOutputTensor { Name = "noise" };
            o.Parameters["shared_memory_region"] = new InferParameter { StringParam = outputRegion };
            o.Parameters["shared_memory_byte_size"] = new InferParameter { Int64Param = outputBytes };
            if (outputOffset != 0) o.Parameters["shared_memory_offset"] = new InferParameter { Int64Param = outputOffset };
            r.Outputs.Add(o);
        }
        return r;
    }

    [Fact]
    public async Task RegisterStatusUnregisterFollowTriton()
    {
        var key = CreateObject(4096);
        await RegisterAsync("a", key, 1024, 2048);
        var status = await S.Client.SystemSharedMemoryStatusAsync(new SystemSharedMemoryStatusRequest { Name = "a" });
        var a = status.Regions["a"];
        Assert.Equal(("a", key, 1024UL, 2048UL), (a.Name, a.Key, a.Offset, a.ByteSize));
        Assert.Equal(StatusCode.AlreadyExists, (await TestServer.Fails(() => RegisterAsync("a", key, 0, 16))).StatusCode);
        // The key may also be given without the leading slash, as shm_open accepts it.
        await RegisterAsync("b", key[1..], 0, 4096);
        Assert.Equal(["a", "b"], (await S.Client.SystemSharedMemoryStatusAsync(new SystemSharedMemoryStatusRequest())).Regions.Keys.Order());

        Assert.Equal(StatusCode.NotFound, (await TestServer.Fails(async () =>
            await S.Client.SystemSharedMemoryStatusAsync(new SystemSharedMemoryStatusRequest { Name = "nope" }))).StatusCode);
        // Triton (shared_memory_manager.cc): a key shm_open cannot open is INTERNAL, a range outside the object INVALID_ARGUMENT.
        foreach (var (k, offset, size, code) in new[]
                 {
                     ("/gwrepro-test-missing-object", 0UL, 16UL, StatusCode.Internal), ("", 0UL, 16UL, StatusCode.Internal), ("/../etc/passwd", 0UL, 16UL, StatusCode.Internal),
                     (key, 0UL, 4097UL, StatusCode.InvalidArgument), (key, 4000UL, 100UL, StatusCode.InvalidArgument), (key, 0UL, 0UL, StatusCode.InvalidArgument),
                 })
        {
            var e = await TestServer.Fails(() => RegisterAsync("c", k, offset, size));
            Assert.True(e.StatusCode == code, $"key '{k}' offset {offset} size {size}: {e.StatusCode} {e.Status.Detail}");
            Assert.StartsWith(code == StatusCode.Internal ? $"Unable to open shared memory region: '{k}'" : "failed to register shared memory region 'c': invalid args", e.Status.Detail);
        }

        await S.Client.SystemSharedMemoryUnregisterAsync(new SystemSharedMemoryUnregisterRequest { Name = "a" });
        await S.Client.SystemSharedMemoryUnregisterAsync(new SystemSharedMemoryUnregisterRequest { Name = "never-registered" });
        Assert.Equal(["b"], (await S.Client.SystemSharedMemoryStatusAsync(new SystemSharedMemoryStatusRequest())).Regions.Keys);
        await RegisterAsync("a", key, 0, 16); // the name is free again
        await S.Client.SystemSharedMemoryUnregisterAsync(new SystemSharedMemoryUnregisterRequest());
        Assert.Empty((await S.Client.SystemSharedMemoryStatusAsync(new SystemSharedMemoryStatusRequest())).Regions);
        Assert.Contains("system_shared_memory", (await S.Client.ServerMetadataAsync(new ServerMetadataRequest())).Extensions);
    }

    [Fact]
    public async Task InferenceThroughSharedMemoryEqualsRawContents()
    {
        var x = TestServer.Signal(2 * 3 * 1024, 41);
        const int inOffset = 96, outOffset = 64;
        var inKey = CreateObject(inOffset + InputBytes + 32);
        var outKey = CreateObject(outOffset + OutputBytes);
        await using (var f = new FileStream(PathOf(inKey), FileMode.Open, FileAccess.Write))
        {
            f.Position = inOffset;
            f.Write(MemoryMarshal.AsBytes(x.AsSpan()));
        }
        // Input region registered with an offset of its own, tensor at a further offset inside it.
        await RegisterAsync("in", inKey, 32, (ulong)(inOffset - 32 + InputBytes));
        await RegisterAsync("out", outKey, 0, (ulong)(outOffset + OutputBytes));
        try
        {
            var raw = TestServer.Output(await S.Client.ModelInferAsync(TestServer.RawRequest("deepclean-h1", "witness", x, WitnessShape)), "noise");
            var response = await S.Client.ModelInferAsync(ShmRequest("in", InputBytes, inOffset - 32, "out", OutputBytes, outOffset));
            Assert.Empty(response.RawOutputContents);
            var o = response.Outputs.Single();
            Assert.Equal("noise", o.Name);
            Assert.Equal(new long[] { 2, 1024 }, o.Shape);
            Assert.Equal("out", o.Parameters["shared_memory_region"].StringParam);
            Assert.Equal(OutputBytes, o.Parameters["shared_memory_byte_size"].Int64Param);
            Assert.Equal(outOffset, o.Parameters["shared_memory_offset"].Int64Param);
            var written = File.ReadAllBytes(PathOf(outKey));
            Assert.All(written[..outOffset], b => Assert.Equal(0, b));
            Assert.Equal(raw, MemoryMarshal.Cast<byte, float>(written.AsSpan(outOffset)).ToArray());

            // Input in shared memory, output raw: same values in raw_output_contents.
            var mixed = await S.Client.ModelInferAsync(ShmRequest("in", InputBytes, inOffset - 32, null));
            Assert.Equal(raw, TestServer.Output(mixed, "noise"));
        }
        finally
        {
            await S.Client.SystemSharedMemoryUnregisterAsync(new SystemSharedMemoryUnregisterRequest { Name = "in" });
            await S.Client.SystemSharedMemoryUnregisterAsync(new SystemSharedMemoryUnregisterRequest { Name = "out" });
        }
    }

    [Fact]
    public async Task AKeyThatIsALinkIsNotFollowed()
    {
        // shm_open (O_NOFOLLOW) refuses a symbolic link in /dev/shm; mapping its target would let clients read and overwrite any file the server can.
        var target = Path.Combine(Path.GetTempPath(), "gwrepro-shm-target-" + Guid.NewGuid().ToString("N")[..12]);
        await File.WriteAllBytesAsync(target, new byte[InputBytes]);
        var name = "gwrepro-test-link-" + Guid.NewGuid().ToString("N")[..12];
        File.CreateSymbolicLink("/dev/shm/" + name, target);
        _objects.Add("/dev/shm/" + name);
        try
        {
            var e = await TestServer.Fails(async () => await RegisterAsync("link", "/" + name, 0, InputBytes));
            Assert.Equal(StatusCode.Internal, e.StatusCode);
            Assert.Equal($"Unable to open shared memory region: '/{name}'", e.Status.Detail);
            var status = await S.Client.SystemSharedMemoryStatusAsync(new SystemSharedMemoryStatusRequest());
            Assert.DoesNotContain("link", status.Regions.Keys);
        }
        finally { File.Delete(target); }
    }

    [Fact]
    public async Task BadRegionsSizesAndMixingGetTritonsCodesAndTheServerKeepsServing()
    {
        var inKey = CreateObject(InputBytes);
        var outKey = CreateObject(OutputBytes);
        await RegisterAsync("bad-in", inKey, 0, InputBytes);
        await RegisterAsync("bad-out", outKey, 0, OutputBytes);
        try
        {
            var mixedRaw = ShmRequest("bad-in", InputBytes, 0, null);
            mixedRaw.RawInputContents.Add(Google.Protobuf.ByteString.CopyFrom(new byte[InputBytes]));
            var mixedTyped = ShmRequest("bad-in", InputBytes, 0, null);
            mixedTyped.Inputs[0].Contents = new InferTensorContents();
            mixedTyped.Inputs[0].Contents.Fp32Contents.Add(new float[2 * 3 * 1024]);
            var noSize = ShmRequest("bad-in", InputBytes, 0, null);
            noSize.Inputs[0].Parameters.Remove("shared_memory_byte_size");
            // Triton: an unknown region is NOT_FOUND (GetMemoryInfo), everything else INVALID_ARGUMENT.
            foreach (var (why, request) in new[] { ("unknown input region", ShmRequest("no-such-region", InputBytes, 0, null)), ("unknown output region", ShmRequest("bad-in", InputBytes, 0, "no-such-region")) })
            {
                var e = await TestServer.Fails(async () => await S.Client.ModelInferAsync(request));
                Assert.True(e.StatusCode == StatusCode.NotFound, $"{why}: {e.StatusCode} {e.Status.Detail}");
                Assert.StartsWith("Unable to find shared memory region: 'no-such-region'", e.Status.Detail);
            }
            var bad = new (string Why, ModelInferRequest Request)[]
            {
                ("input past the region's end", ShmRequest("bad-in", InputBytes, 4, null)),
                ("input size not shape x dtype", ShmRequest("bad-in", InputBytes - 4, 0, null)),
                ("output past the region's end", ShmRequest("bad-in", InputBytes, 0, "bad-out", OutputBytes, 8)),
                ("negative offset", ShmRequest("bad-in", InputBytes, -8, null)),
                ("raw contents mixed with shared memory", mixedRaw),
                ("typed contents mixed with shared memory", mixedTyped),
                ("region without byte size", noSize),
            };
            foreach (var (why, request) in bad)
            {
                var e = await TestServer.Fails(async () => await S.Client.ModelInferAsync(request));
                Assert.True(e.StatusCode == StatusCode.InvalidArgument, $"{why}: {e.StatusCode} {e.Status.Detail}");
            }
            // Triton's allocator refuses an output larger than its slice with INTERNAL.
            var small = await TestServer.Fails(async () => await S.Client.ModelInferAsync(ShmRequest("bad-in", InputBytes, 0, "bad-out", OutputBytes - 4)));
            Assert.Equal(StatusCode.Internal, small.StatusCode);
            Assert.Equal($"shared memory size specified with the request for output 'noise' ({OutputBytes - 4} bytes) should be at least {OutputBytes} bytes to hold the results", small.Status.Detail);
            // Nothing was written for the failed outputs, and both shm and raw requests still work.
            Assert.All(File.ReadAllBytes(PathOf(outKey)), b => Assert.Equal(0, b));
            var x = TestServer.Signal(2 * 3 * 1024, 43);
            var raw = TestServer.Output(await S.Client.ModelInferAsync(TestServer.RawRequest("deepclean-h1", "witness", x, WitnessShape)), "noise");
            File.WriteAllBytes(PathOf(inKey), MemoryMarshal.AsBytes(x.AsSpan()).ToArray());
            await S.Client.ModelInferAsync(ShmRequest("bad-in", InputBytes, 0, "bad-out"));
            Assert.Equal(raw, MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(PathOf(outKey)).AsSpan()).ToArray());

            // An unregistered region is gone for inference too.
            await S.Client.SystemSharedMemoryUnregisterAsync(new SystemSharedMemoryUnregisterRequest { Name = "bad-in" });
            Assert.Equal(StatusCode.NotFound, (await TestServer.Fails(async () => await S.Client.ModelInferAsync(ShmRequest("bad-in", InputBytes, 0, null)))).StatusCode);
        }
        finally
        {
            await S.Client.SystemSharedMemoryUnregisterAsync(new SystemSharedMemoryUnregisterRequest());
        }
    }
}
