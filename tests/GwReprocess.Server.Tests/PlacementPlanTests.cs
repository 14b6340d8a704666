using GwReprocess.Inference;
using GwReprocess.Server.Execution;
using Inference;

namespace GwReprocess.Server.Tests;

/// <summary>Instances to devices as Triton places them: gpus lists, counts, every visible GPU, CUDA_VISIBLE_DEVICES, and the kinds mixed.</summary>
public sealed class PlacementPlanTests
{
    private static readonly GpuDevice[] Node =
    [
        new(0, "GPU-00000000-aaaa-0000-0000-000000000000", "Tesla T4"),
        new(1, "GPU-11111111-bbbb-0000-0000-000000000000", "Tesla T4"),
        new(2, "GPU-22222222-cccc-0000-0000-000000000000", "Tesla T4"),
        new(3, "GPU-33333333-dddd-0000-0000-000000000000", "Tesla T4"),
    ];

    private static GpuEnvironment Gpus(string? visible) =>
        new(["CUDAExecutionProvider", "CPUExecutionProvider"], CudaVisibleDevices.Apply(Node, visible), null) { CudaVisibleDevicesValue = visible };

    private static IReadOnlyList<ModelInstanceGroup> Groups(string pbtxt) =>
        ModelConfigFile.Parse("name: \"m\"\n" + pbtxt).InstanceGroup;

    /// <summary>(group, device id, node index) per instance, device -1 and node -1 on the CPU.</summary>
    private static (string, int, int)[] Place(string pbtxt, GpuEnvironment gpus, bool fallback = false) =>
        [.. PlacementPlan.For("m", Groups(pbtxt), gpus, fallback).Instances.Select(i => (i.Group, i.DeviceId, i.Gpu?.Index ?? -1))];

    [Fact]
    public void CountInstancesOnEachListedGpu()
    {
        var plan = PlacementPlan.For("m", Groups("instance_group { name: \"g\" kind: KIND_GPU count: 2 gpus: [0, 1, 2, 3] }"), Gpus(null), false);
        Assert.Equal([("g", 0, 0), ("g", 0, 0), ("g", 1, 1), ("g", 1, 1), ("g", 2, 2), ("g", 2, 2), ("g", 3, 3), ("g", 3, 3)],
            plan.Instances.Select(i => (i.Group, i.DeviceId, i.Gpu!.Index)));
        Assert.Equal([0, 1, 2, 3, 4, 5, 6, 7], plan.Instances.Select(i => i.Instance));
        Assert.Equal([0, 1, 2, 3], plan.DeviceIds);
        Assert.Null(plan.Fallback);
    }

    [Fact]
    public void AGroupNamingNoGpusGoesOnEveryVisibleGpu()
    {
        Assert.Equal([("m", 0, 0), ("m", 1, 1), ("m", 2, 2), ("m", 3, 3)], Place("instance_group { kind: KIND_GPU count: 1 }", Gpus(null)));
        // Listed GPUs are CUDA device ids: after CUDA_VISIBLE_DEVICES=2,0 device 0 is the node's GPU 2.
        Assert.Equal([("m", 0, 2), ("m", 1, 0)], Place("instance_group { kind: KIND_GPU }", Gpus("2,0")));
        Assert.Equal([("m", 1, 0), ("m", 1, 0), ("m", 1, 0)], Place("instance_group { kind: KIND_GPU count: 3 gpus: [1] }", Gpus("2,0")));
    }

    [Fact]
    public void KindsMixInConfigOrder()
    {
        var placed = Place("""
            instance_group [
              { name: "cpu" kind: KIND_CPU count: 2 },
              { name: "gpu" kind: KIND_GPU count: 1 gpus: [1, 3] },
              { name: "auto" count: 1 }
            ]
            """, Gpus(null));
        Assert.Equal([("cpu", -1, -1), ("cpu", -1, -1), ("gpu", 1, 1), ("gpu", 3, 3), ("auto", 0, 0), ("auto", 1, 1), ("auto", 2, 2), ("auto", 3, 3)], placed);
        // Without usable GPUs KIND_AUTO is KIND_CPU; KIND_MODEL stays on the CPU either way.
        Assert.Equal([("auto", -1, -1), ("model", -1, -1), ("model", -1, -1)],
            Place("instance_group [ { name: \"auto\" }, { name: \"model\" kind: KIND_MODEL count: 2 } ]", GpuEnvironment.CpuOnly));
        // KIND_AUTO naming GPUs is KIND_GPU (Triton's normalisation).
        Assert.Equal([("m", 2, 2)], Place("instance_group { gpus: [2] }", Gpus(null)));
        // No instance group at all: one instance, KIND_AUTO.
        Assert.Equal([("m", -1, -1)], Place("", GpuEnvironment.CpuOnly));
    }

    [Fact]
    public void CudaVisibleDevicesRenumbersAndStopsAtTheFirstInvalidEntry()
    {
        Assert.Equal([0, 1, 2, 3], CudaVisibleDevices.Apply(Node, null).Select(d => d.Index));
        Assert.Empty(CudaVisibleDevices.Apply(Node, ""));
        Assert.Equal([3, 1], CudaVisibleDevices.Apply(Node, "3,1").Select(d => d.Index));
        Assert.Equal([1, 2], CudaVisibleDevices.Apply(Node, " 1 , 2 ").Select(d => d.Index));
        // As CUDA: the first entry naming no device ends the list (out of range, not a number, repeated, negative, empty).
        Assert.Equal([0], CudaVisibleDevices.Apply(Node, "0,7,1").Select(d => d.Index));
        Assert.Equal([2], CudaVisibleDevices.Apply(Node, "2,x,1").Select(d => d.Index));
        Assert.Equal([1], CudaVisibleDevices.Apply(Node, "1,1,2").Select(d => d.Index));
        Assert.Empty(CudaVisibleDevices.Apply(Node, "-1"));
        Assert.Equal([0], CudaVisibleDevices.Apply(Node, "0,,1").Select(d => d.Index));
        // UUIDs, whole or a unique prefix; an ambiguous prefix names no device.
        Assert.Equal([2, 0], CudaVisibleDevices.Apply(Node, "GPU-22222222-cccc-0000-0000-000000000000,GPU-0000").Select(d => d.Index));
        Assert.Empty(CudaVisibleDevices.Apply(Node, "GPU-"));
    }

    [Fact]
    public void AListedGpuThatIsNotVisibleFailsNamingTheVisibleOnes()
    {
        var e = Assert.Throws<InferenceException>(() => Place("instance_group { name: \"g\" kind: KIND_GPU gpus: [0, 2] }", Gpus("3,1")));
        Assert.Equal(Grpc.Core.StatusCode.InvalidArgument, e.Code);
        Assert.Equal("model 'm': instance group 'g' names GPU 2, but the visible GPUs are 0 1 (CUDA_VISIBLE_DEVICES='3,1')", e.Message);
    }

    [Fact]
    public void KindCpuNamingGpusIsRefused()
    {
        var e = Assert.Throws<InferenceException>(() => Place("instance_group { name: \"c\" kind: KIND_CPU gpus: [0] }", Gpus(null)));
        Assert.Equal("model 'm': instance group 'c' has kind KIND_CPU but names GPUs [0]", e.Message);
    }

    [Fact]
    public void KindGpuWithoutUsableGpusFailsUnlessFallbackIsAllowed()
    {
        const string group = "instance_group { name: \"g\" kind: KIND_GPU count: 2 gpus: [0, 1] }";
        var none = Assert.Throws<InferenceException>(() => Place(group, GpuEnvironment.CpuOnly));
        Assert.Equal(Grpc.Core.StatusCode.Unavailable, none.Code);
        Assert.Equal("model 'm': instance group 'g' has kind KIND_GPU but no GPU can be used: " + GpuEnvironment.NoCudaProvider +
            " (set kind: KIND_CPU, or start with --allow-cpu-fallback)", none.Message);
        // CUDA_VISIBLE_DEVICES set but empty hides every GPU.
        var hidden = Assert.Throws<InferenceException>(() => Place("instance_group { kind: KIND_GPU }", Gpus("")));
        Assert.Contains("no GPU is visible (CUDA_VISIBLE_DEVICES='')", hidden.Message);
        // With the fallback: the instances it asked for (count x listed GPUs), on the CPU, and the reason.
        var plan = PlacementPlan.For("m", Groups(group), GpuEnvironment.CpuOnly, allowCpuFallback: true);
        Assert.Equal(4, plan.Instances.Count);
        Assert.All(plan.Instances, i => Assert.False(i.OnGpu));
        Assert.Equal(GpuEnvironment.NoCudaProvider, plan.Fallback);
        Assert.Empty(plan.DeviceIds);
    }
}
