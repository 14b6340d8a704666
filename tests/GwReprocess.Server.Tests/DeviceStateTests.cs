using GwReprocess.Models;
using GwReprocess.Server.Execution;
using Inference;
using static GwReprocess.Server.Tests.SnapshotStream;

namespace GwReprocess.Server.Tests;

/// <summary>
/// The snapshotter's state kept in device memory between requests (CPU memory on the CPU provider, through the same
/// code as on a GPU): every response is the managed path's, byte for byte, and only the update goes in and the windows come out.
/// </summary>
public sealed class DeviceStateTests
{
    private static readonly long[] UpdateShape = [1, C, B * S];

    private static RepositoryModel Snapshotter(int instances, ulong idleMicroseconds = GwReprocess.Models.Snapshotter.IdleMicroseconds)
    {
        var model = GwReprocess.Models.Snapshotter.Build("snap", K, S, B, [new SnapshotterOutput("witness", C)], instances, ModelInstanceGroup.Types.Kind.Cpu);
        model.Config.SequenceBatching.MaxSequenceIdleMicroseconds = idleMicroseconds;
        return model;
    }

    private static Task<InferenceResult> Send(OnnxModelVersion model, float[][] x, int request, long id, bool start, bool end) =>
        model.InferAsync(BoundModels.Sequence("snap", Update(x, request), UpdateShape, id, start, end), CancellationToken.None);

    /// <summary>The last window of request <paramref name="request"/>: what the state holds after it.</summary>
    private static float[] ExpectedState(float[][] x, int request) => ExpectedWindows(x, request)[((B - 1) * C * K)..];

    [Fact]
    public async Task ALongSequenceWithARestartGivesTheManagedBytesAndItsStateNeverCrosses()
    {
        var snap = Snapshotter(1);
        await using var managed = BoundModels.Load(snap, "off");
        await using var hostState = BoundModels.Load(snap, "on", sequenceState: "host");
        await using var device = BoundModels.Load(snap, "on");
        Assert.False(managed.Sequences!.DeviceState);
        Assert.False(hostState.Sequences!.DeviceState);
        Assert.True(device.Sequences!.DeviceState);
        var deviceBinding = device.Bindings[0]!;
        var hostBinding = hostState.Bindings[0]!;
        Assert.Contains("IO binding (CPU memory), sequence state kept in its memory", device.DescribeInstances().Single());

        const int n = 40, restart = 17;
        var a = Signal(restart, 1);
        var b = Signal(n - restart, 2);
        for (int i = 0; i < n; i++)
        {
            bool start = i == 0 || i == restart, end = i == n - 1;
            var (x, r) = i < restart ? (a, i) : (b, i - restart);
            long inDevice = deviceBinding.CopiesIn, outDevice = deviceBinding.CopiesOut, inHost = hostBinding.CopiesIn, outHost = hostBinding.CopiesOut;
            var expected = await Send(managed, x, r, 7, start, end);
            BoundModels.SameBytes(expected, await Send(device, x, r, 7, start, end), $"device state, request {i}");
            BoundModels.SameBytes(expected, await Send(hostState, x, r, 7, start, end), $"host state, request {i}");
            Assert.Equal(ExpectedWindows(x, r), BoundModels.Floats(expected.Outputs[0].Tensor));
            // Device state: the update goes in (and on START the initial state), the windows come out; host state: the state crosses both ways every time.
            Assert.Equal(start ? 2 : 1, deviceBinding.CopiesIn - inDevice);
            Assert.Equal(1, deviceBinding.CopiesOut - outDevice);
            Assert.Equal(2, hostBinding.CopiesIn - inHost);
            Assert.Equal(2, hostBinding.CopiesOut - outHost);
            if (end) break;
            Assert.Equal(2, deviceBinding.DeviceTensorsLive);
            var state = (await device.Sequences.ReadStateAsync(new SequenceId(7, null), CancellationToken.None))!.Single();
            var managedState = (await managed.Sequences.ReadStateAsync(new SequenceId(7, null), CancellationToken.None))!.Single();
            Assert.Equal([1, C, K], state.Shape);
            Assert.True(managedState.Bytes.Span.SequenceEqual(state.Bytes.Span), $"state after request {i}");
            Assert.Equal(ExpectedState(x, r), BoundModels.Floats(state));
        }
        // END released the slot and both device buffers.
        Assert.Equal(0, device.LiveSequences);
        Assert.Equal(0, deviceBinding.DeviceTensorsLive);
        Assert.Null(await device.Sequences.ReadStateAsync(new SequenceId(7, null), CancellationToken.None));
    }

    [Fact]
    public async Task ConcurrentSequencesWaitForSlotsReuseThemAndMatchTheManagedPath()
    {
        // Two instances = two slots for five sequences: three wait in the backlog, and each slot serves several sequences in turn.
        var snap = Snapshotter(2);
        await using var managed = BoundModels.Load(snap, "off");
        await using var device = BoundModels.Load(snap, "on");
        const int sequences = 5, n = 6;
        var streams = Enumerable.Range(0, sequences).Select(q => Signal(n, 10 + q)).ToArray();
        var expected = new InferenceResult[sequences][];
        for (int q = 0; q < sequences; q++)
        {
            expected[q] = new InferenceResult[n];
            for (int i = 0; i < n; i++) expected[q][i] = await Send(managed, streams[q], i, 100 + q, i == 0, i == n - 1);
        }
        var bindings = device.Bindings.Select(b => b!).ToArray();
        long mostLive = 0;
        async Task<InferenceResult[]> Stream(int q)
        {
            var results = new InferenceResult[n];
            for (int i = 0; i < n; i++)
            {
                results[i] = await Send(device, streams[q], i, 100 + q, i == 0, i == n - 1);
                foreach (var b in bindings) Interlocked.Exchange(ref mostLive, Math.Max(Interlocked.Read(ref mostLive), b.DeviceTensorsLive));
            }
            return results;
        }
        var actual = await Task.WhenAll(Enumerable.Range(0, sequences).Select(q => Task.Run(() => Stream(q))));
        for (int q = 0; q < sequences; q++)
            for (int i = 0; i < n; i++)
            {
                BoundModels.SameBytes(expected[q][i], actual[q][i], $"sequence {q} request {i}");
                Assert.Equal(ExpectedWindows(streams[q], i), BoundModels.Floats(actual[q][i].Outputs[0].Tensor));
            }
        // Each instance held at most one slot's double buffer, both served sequences, and everything was released at the ENDs.
        Assert.Equal(2, mostLive);
        Assert.All(bindings, b => Assert.True(b.CopiesOut > 0));
        Assert.All(bindings, b => Assert.Equal(0, b.DeviceTensorsLive));
        Assert.Equal(0, device.LiveSequences);
    }

    [Fact]
    public async Task TheIdleTimerFreesTheDeviceStateForAWaitingSequence()
    {
        // The managed reference never idles out; the device model's slot does after 500 ms.
        await using var managed = BoundModels.Load(Snapshotter(1), "off");
        await using var device = BoundModels.Load(Snapshotter(1, idleMicroseconds: 500_000), "on");
        var binding = device.Bindings[0]!;
        var x = Signal(2, 3);
        var y = Signal(2, 4);
        await Send(device, x, 0, 1, true, false);
        Assert.Equal(2, binding.DeviceTensorsLive);
        // One slot: sequence 2 waits until the idle timer frees sequence 1's, then starts from zero state.
        var second = await Send(device, y, 0, 2, true, false);
        BoundModels.SameBytes(await Send(managed, y, 0, 2, true, false), second, "sequence 2 after the reap");
        Assert.Equal(2, binding.DeviceTensorsLive);
        var e = await Assert.ThrowsAsync<InferenceException>(() => Send(device, x, 1, 1, false, false));
        Assert.Contains("START flag", e.Message);
        BoundModels.SameBytes(await Send(managed, y, 1, 2, false, true), await Send(device, y, 1, 2, false, true), "sequence 2, END");
        Assert.Equal(0, binding.DeviceTensorsLive);
        Assert.Equal(0, device.LiveSequences);
    }

    [Fact]
    public async Task UnloadingWithALiveSequenceFreesItsDeviceState()
    {
        var device = BoundModels.Load(Snapshotter(1), "on");
        var binding = device.Bindings[0]!;
        await Send(device, Signal(1, 5), 0, 9, true, false);
        Assert.Equal(2, binding.DeviceTensorsLive);
        await device.DisposeAsync();
        Assert.Equal(0, binding.DeviceTensorsLive);
    }
}
