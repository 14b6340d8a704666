using Grpc.Core;
using Inference;
using Kind = Inference.ModelInstanceGroup.Types.Kind;

namespace GwReprocess.Server.Execution;

/// <summary>Which instances a model gets and where each runs, as Triton places them from the model's instance groups.</summary>
/// <remarks>
/// KIND_GPU makes <c>count</c> instances on each GPU its <c>gpus</c> lists (CUDA device ids, after CUDA_VISIBLE_DEVICES),
/// or on each visible GPU when it lists none. KIND_CPU makes <c>count</c> instances on the CPU. KIND_AUTO is KIND_GPU
/// when it lists GPUs or when GPUs can be used, else KIND_CPU. KIND_MODEL leaves placement to the model: the CPU here.
/// With <c>--allow-cpu-fallback</c>, a KIND_GPU group on a process that cannot use GPUs gets the instances it asks
/// for (count × the GPUs it lists, or count) on the CPU instead of failing the load.
/// </remarks>
/// <param name="Instances">The instances in Triton's order: groups in config order, GPUs in the order listed, count per GPU.</param>
/// <param name="Fallback">Why instances asked for on a GPU run on the CPU; null when none do.</param>
public sealed record PlacementPlan(IReadOnlyList<InstancePlacement> Instances, string? Fallback)
{
    /// <summary>The plan for <paramref name="model"/>'s <paramref name="groups"/>; a group that cannot be placed fails with Triton's kind of message.</summary>
    public static PlacementPlan For(string model, IReadOnlyList<ModelInstanceGroup> groups, GpuEnvironment gpus, bool allowCpuFallback)
    {
        var instances = new List<InstancePlacement>();
        string? fallback = null;
        if (groups.Count == 0) groups = [new ModelInstanceGroup { Count = 1 }];
        for (int i = 0; i < groups.Count; i++)
        {
            var g = groups[i];
            string name = g.Name.Length > 0 ? g.Name : groups.Count == 1 ? model : $"{model}_{i}";
            int count = Math.Max(1, g.Count);
            var kind = g.Kind == Kind.Auto ? (g.Gpus.Count > 0 || gpus.GpusUsable ? Kind.Gpu : Kind.Cpu) : g.Kind;
            if (kind != Kind.Gpu)
            {
                if (g.Gpus.Count > 0)
                    throw InferenceException.Invalid($"model '{model}': instance group '{name}' has kind {KindName(kind)} but names GPUs [{string.Join(", ", g.Gpus)}]");
                AddCpu(instances, name, count);
                continue;
            }
            if (!gpus.GpusUsable)
            {
                string why = gpus.Unusable ?? $"no GPU is visible ({gpus.Visibility})";
                if (!allowCpuFallback)
                    throw new InferenceException(StatusCode.Unavailable,
                        $"model '{model}': instance group '{name}' has kind KIND_GPU but no GPU can be used: {why} (set kind: KIND_CPU, or start with --allow-cpu-fallback)");
                fallback = why;
                AddCpu(instances, name, count * Math.Max(1, g.Gpus.Count));
                continue;
            }
            IEnumerable<int> ids = g.Gpus.Count > 0 ? g.Gpus : Enumerable.Range(0, gpus.Visible.Count);
            foreach (int id in ids)
            {
                if (id < 0 || id >= gpus.Visible.Count)
                    throw InferenceException.Invalid(
                        $"model '{model}': instance group '{name}' names GPU {id}, but the visible GPUs are {string.Join(" ", Enumerable.Range(0, gpus.Visible.Count))} ({gpus.Visibility})");
                for (int c = 0; c < count; c++) instances.Add(new InstancePlacement(name, instances.Count, id, gpus.Visible[id]));
            }
        }
        return new PlacementPlan(instances, fallback);
    }

    /// <summary>The distinct CUDA device ids the plan uses, ascending.</summary>
    public IReadOnlyList<int> DeviceIds => [.. Instances.Where(i => i.OnGpu).Select(i => i.DeviceId).Distinct().Order()];

    private static void AddCpu(List<InstancePlacement> instances, string group, int count)
    {
        for (int c = 0; c < count; c++) instances.Add(new InstancePlacement(group, instances.Count, InstancePlacement.Cpu, null));
    }

    private static string KindName(Kind kind) => kind switch
    {
        Kind.Cpu => "KIND_CPU",
        Kind.Model => "KIND_MODEL",
        Kind.Gpu => "KIND_GPU",
        _ => "KIND_AUTO",
    };
}
