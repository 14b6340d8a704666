namespace GwReprocess.Analysis;

/// <summary>Predicted throughput and cost of one GPU count.</summary>
/// <param name="Gpus">GPUs in the run.</param>
/// <param name="Clients">Clients feeding them.</param>
/// <param name="DataSecondsPerSecond">Predicted seconds of data per second.</param>
/// <param name="Bottleneck">"gpu" when the GPUs saturate first, "clients" when the clients do.</param>
/// <param name="Cost">Cost at that throughput.</param>
/// <param name="WallHoursPerDataYear">Wall-clock hours to process one year of data.</param>
public sealed record ScalingPoint(int Gpus, int Clients, double DataSecondsPerSecond, string Bottleneck, CostEstimate Cost, double WallHoursPerDataYear);

/// <summary>Predicts throughput and cost for N GPUs from a measured per-GPU rate and per-client rate, whichever saturates first.</summary>
/// <remarks>
/// Throughput is min(N × per-GPU rate, clients × per-client rate): GPUs scale independently (each
/// server holds its own streams), and so do clients, so the published HEPCloud runs (≈0.5 s'/s per
/// T4, 25 clients per GPU) scale linearly until one side runs out.
/// </remarks>
public static class ScalingPlanner
{
    /// <summary>One point per GPU count; <paramref name="perClientRate"/> null means clients are not expected to limit;
    /// <paramref name="nodeVcpuResource"/> prices the server nodes' vCPUs (see <see cref="Deployment.NodeVcpuResource"/>).</summary>
    public static IReadOnlyList<ScalingPoint> Plan(IEnumerable<int> gpuCounts, double perGpuRate, double? perClientRate,
        int clientsPerGpu, int gpusPerNode, int vcpusPerNode, int vcpusPerClient, string gpuResource, CostModel model,
        string nodeVcpuResource = "vcpu")
    {
        if (!(perGpuRate > 0)) throw new BadInputException("--per-gpu-rate must be a positive number of data seconds per second");
        if (perClientRate is not null && !(perClientRate > 0)) throw new BadInputException("--per-client-rate must be a positive number of data seconds per second");
        if (clientsPerGpu <= 0 || gpusPerNode <= 0) throw new BadInputException("--clients-per-gpu and --gpus-per-node must be positive");
        var points = new List<ScalingPoint>();
        foreach (int gpus in gpuCounts)
        {
            if (gpus <= 0) throw new BadInputException($"GPU count {gpus} must be positive");
            if (gpus % gpusPerNode != 0) throw new BadInputException($"{gpus} GPUs is not a whole number of {gpusPerNode}-GPU nodes");
            int nodes = gpus / gpusPerNode;
            int clients = gpus * clientsPerGpu;
            double gpuLimit = gpus * perGpuRate, clientLimit = perClientRate is double r ? clients * r : double.PositiveInfinity;
            double rate = Math.Min(gpuLimit, clientLimit);
            // Clients are priced by the vCPUs they request (an HTCondor job each, or a VM each in the GKE runs).
            var deployment = new Deployment(nodes, gpusPerNode, gpuResource, vcpusPerNode, clients / nodes, vcpusPerClient, nodeVcpuResource);
            var cost = deployment.Cost(model, rate);
            points.Add(new ScalingPoint(gpus, clients, rate, gpuLimit <= clientLimit ? "gpu" : "clients", cost, Deployment.SecondsPerYear / rate / 3600));
        }
        return points;
    }
}
