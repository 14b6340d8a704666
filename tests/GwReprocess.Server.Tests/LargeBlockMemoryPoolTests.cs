using System.Runtime.InteropServices;
using GwReprocess.Server.Hosting;

namespace GwReprocess.Server.Tests;

/// <summary>Kestrel's buffer pool: array-backed blocks reused once handed back, and multi-block tensors arriving intact through it.</summary>
public sealed class LargeBlockMemoryPoolTests
{
    [Fact]
    public void BlocksAreArrayBackedAndReusedOnceHandedBack()
    {
        using var pool = new LargeBlockMemoryPool();
        var a = pool.Rent(100);
        Assert.Equal(LargeBlockMemoryPool.BlockSize, a.Memory.Length);
        // Kestrel's socket sender sends multi-segment buffers as array segments: a block must expose its array.
        Assert.True(MemoryMarshal.TryGetArray<byte>(a.Memory, out var first));
        a.Memory.Span[7] = 42;
        a.Dispose();
        a.Dispose(); // a second Dispose must not put the block in the pool twice

        var b = pool.Rent();
        var c = pool.Rent(LargeBlockMemoryPool.BlockSize);
        Assert.True(MemoryMarshal.TryGetArray<byte>(b.Memory, out var second));
        Assert.True(MemoryMarshal.TryGetArray<byte>(c.Memory, out var third));
        Assert.Same(first.Array, second.Array);
        Assert.NotSame(second.Array, third.Array);
        b.Dispose();
        c.Dispose();
    }

    [Fact]
    public void RequestsAboveTheBlockSizeGetABufferOfTheirOwn()
    {
        using var pool = new LargeBlockMemoryPool();
        using var big = pool.Rent(LargeBlockMemoryPool.BlockSize + 1);
        Assert.Equal(LargeBlockMemoryPool.BlockSize + 1, big.Memory.Length);
        Assert.True(MemoryMarshal.TryGetArray<byte>(big.Memory, out _));
    }

    [Fact]
    public async Task ConcurrentMultiBlockRequestsOnOneConnectionGiveOnnxRuntimesAnswers()
    {
        // 64 windows x 3 witnesses x 1024 samples = 768 KiB per request: a dozen blocks, interleaved on one HTTP/2 connection by 3 lanes.
        var options = TestServer.SmallOptions with { Batch = 64 };
        await using var s = await TestServer.StartAsync(options: options);
        var model = s.Model("deepclean-h1");
        var inputs = Enumerable.Range(0, 6).Select(i => TestServer.Signal(64 * 3 * 1024, 50 + i)).ToList();
        var answers = new float[inputs.Count][];
        await Task.WhenAll(Enumerable.Range(0, 3).Select(async lane =>
        {
            for (int i = lane; i < inputs.Count; i += 3)
            {
                var response = await s.Client.ModelInferAsync(TestServer.RawRequest("deepclean-h1", "witness", inputs[i], [64, 3, 1024], id: $"r{i}"));
                Assert.Equal($"r{i}", response.Id);
                answers[i] = TestServer.Output(response, "noise");
            }
        }));
        for (int i = 0; i < inputs.Count; i++)
            TestServer.Close(TestServer.RunInProcess(model, ("witness", inputs[i], [64, 3, 1024]))["noise"], answers[i], 0);
    }
}
