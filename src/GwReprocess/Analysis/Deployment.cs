namespace GwReprocess.Analysis;

/// <summary>What a run keeps busy: server nodes (GPUs and vCPUs each) and the client machines feeding them.</summary>
/// <param name="Nodes">Server nodes.</param>
/// <param name="GpusPerNode">GPUs on each server node.</param>
/// <param name="GpuResource">The cost-model resource a GPU is priced as (e.g. <c>gpu-t4</c>).</param>
/// <param name="VcpusPerNode">vCPUs on each server node.</param>
/// <param name="ClientsPerNode">Client machines per server node.</param>
/// <param name="VcpusPerClient">vCPUs of each client machine.</param>
/// <param name="NodeVcpuResource">The cost-model resource a server node's vCPU is priced as: <c>vcpu</c> (N1, as the published
/// runs counted it) unless the GPU comes in its own machine family, e.g. <c>vcpu-g2</c> for an L4 node. Clients are always <c>vcpu</c>.</param>
public sealed record Deployment(int Nodes, int GpusPerNode, string GpuResource, int VcpusPerNode, int ClientsPerNode, int VcpusPerClient,
    string NodeVcpuResource = "vcpu")
{
    public int Gpus => Nodes * GpusPerNode;
    public int Clients => Nodes * ClientsPerNode;

    /// <summary>Cost of running it for an hour: Σ resources × unit price.</summary>
    public double CostPerHour(CostModel model)
    {
        double gpu = GpusPerNode == 0 ? 0 : GpusPerNode * model.PricePerHour(GpuResource);
        double server = gpu + (VcpusPerNode == 0 ? 0 : VcpusPerNode * model.PricePerHour(NodeVcpuResource));
        double clients = ClientsPerNode * VcpusPerClient * model.VcpuHour;
        return Nodes * (server + clients);
    }

    /// <summary>Cost of one second of data when the run processes <paramref name="dataSecondsPerSecond"/> s of data per wall second.</summary>
    public CostEstimate Cost(CostModel model, double dataSecondsPerSecond)
    {
        if (!(dataSecondsPerSecond > 0)) throw new ArgumentOutOfRangeException(nameof(dataSecondsPerSecond), "throughput must be positive");
        double perHour = CostPerHour(model);
        double perDataSecond = perHour / 3600.0 / dataSecondsPerSecond;
        return new CostEstimate(perHour, perDataSecond, perDataSecond / model.VcpuHour, perDataSecond * SecondsPerYear);
    }

    /// <summary>Seconds in a Julian year, the "year of data" the reports use.</summary>
    public const double SecondsPerYear = 365.25 * 86400;
}

/// <summary>Cost figures of a deployment at a throughput.</summary>
/// <param name="PerHour">Currency per wall-clock hour.</param>
/// <param name="PerDataSecond">Currency per second of data processed.</param>
/// <param name="VcpuHoursPerDataSecond">The same in vCPU-hours (the published "CPU-hour cost units").</param>
/// <param name="PerDataYear">Currency per year of data.</param>
public sealed record CostEstimate(double PerHour, double PerDataSecond, double VcpuHoursPerDataSecond, double PerDataYear);
