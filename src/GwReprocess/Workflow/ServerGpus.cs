using GwReprocess.Inference;
using GwReprocess.IO;
using Inference;
using Kind = Inference.ModelInstanceGroup.Types.Kind;

namespace GwReprocess.Workflow;

/// <summary>How many GPUs a server node requests (<c>request_gpus</c>): the GPUs its model repository's instance groups name, checked against <c>[inference] gpus_per_server</c>.</summary>
/// <remarks>
/// HTCondor hands a job <c>request_gpus</c> devices and shows them to it as CUDA devices 0 … N−1, so a group naming
/// <c>gpus: [0, 1, 2, 3]</c> needs 4, and one naming <c>gpus: [1]</c> needs 2 (device 0 idle): the count is one more
/// than the highest device named. Groups that name no GPU go on every GPU the job gets (KIND_GPU needs at least
/// one; KIND_AUTO runs on the CPU without any), so <c>gpus_per_server</c> says how many; KIND_CPU groups need none.
/// </remarks>
public static class ServerGpus
{
    /// <summary>One instance group's GPU needs: the devices it names, or whether it takes every GPU there is.</summary>
    private sealed record Need(string Model, string Group, int Named, bool EveryGpu, bool RequiresGpu);

    /// <summary>
    /// The GPUs a server of <paramref name="workflow"/> requests: from its model repository when <c>gwrepro dag</c> can read
    /// it here (a local directory; a bucket repository is not read), else <c>gpus_per_server</c>.
    /// </summary>
    public static int For(WorkflowConfig workflow)
    {
        var inference = workflow.Inference;
        string? root = LocalRepository(workflow);
        if (root is null) return inference.GpusPerServer;
        var configs = new List<(string, ModelConfig)>();
        foreach (var name in Models.ModelRepository.ModelNames(root))
        {
            string file = Path.Combine(root, name, ModelConfigFile.FileName);
            if (File.Exists(file)) configs.Add((name, ModelConfigFile.Read(file)));
        }
        return For(configs, inference.GpusPerServer, $"{workflow.SourcePath}: inference.gpus_per_server");
    }

    /// <summary>The GPUs <paramref name="configs"/> need, reconciled with <paramref name="gpusPerServer"/> (0 = not given); a disagreement is an error naming <paramref name="key"/>.</summary>
    public static int For(IEnumerable<(string Model, ModelConfig Config)> configs, int gpusPerServer, string key)
    {
        var needs = new List<Need>();
        foreach (var (model, config) in configs)
        {
            if (config.Platform == Models.ModelConfigs.EnsemblePlatform || config.EnsembleScheduling is not null) continue;
            var groups = config.InstanceGroup.Count == 0 ? [new ModelInstanceGroup()] : config.InstanceGroup.ToList();
            for (int i = 0; i < groups.Count; i++)
            {
                var g = groups[i];
                string group = g.Name.Length > 0 ? g.Name : groups.Count == 1 ? model : $"{model}_{i}";
                if (g.Kind is Kind.Cpu or Kind.Model) continue;
                needs.Add(new Need(model, group, g.Gpus.Count == 0 ? 0 : g.Gpus.Max() + 1, g.Gpus.Count == 0, g.Kind == Kind.Gpu || g.Gpus.Count > 0));
            }
        }
        var widest = needs.MaxBy(n => n.Named);
        int named = widest?.Named ?? 0;
        bool everyGpu = needs.Any(n => n.EveryGpu);
        if (gpusPerServer > 0)
        {
            if (gpusPerServer < named)
                throw new BadInputException($"{key} = {gpusPerServer}, but model '{widest!.Model}' instance group '{widest.Group}' names GPU {named - 1}: a server needs {named} GPUs");
            if (!everyGpu && gpusPerServer != named)
                throw new BadInputException($"{key} = {gpusPerServer}, but the model repository's instance groups name {named} GPU(s) and none takes every GPU: give {named}, or leave gpus_per_server out");
            return gpusPerServer;
        }
        if (named > 0) return named;
        return needs.Any(n => n.EveryGpu && n.RequiresGpu) ? 1 : 0;
    }

    /// <summary>The workflow's model repository as a directory here: as given, else beside the workflow file; null for a bucket or a directory not found.</summary>
    private static string? LocalRepository(WorkflowConfig workflow)
    {
        string? path = Location.Parse(workflow.Inference.ModelRepository).LocalPath;
        if (path is null) return null;
        if (Directory.Exists(path)) return path;
        if (Path.IsPathRooted(path)) return null;
        string beside = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(workflow.SourcePath)) ?? ".", path);
        return Directory.Exists(beside) ? beside : null;
    }
}
