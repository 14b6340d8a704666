namespace GwReprocess.Analysis;

/// <summary>Queue and compute time per request of one model, from the servers' counters.</summary>
public sealed record ModelLatency(string Model, double Requests, double QueueUs, double ComputeInputUs, double ComputeInferUs, double ComputeOutputUs)
{
    public double MeanQueueUs => Requests > 0 ? QueueUs / Requests : 0;
    public double MeanComputeUs => Requests > 0 ? (ComputeInputUs + ComputeInferUs + ComputeOutputUs) / Requests : 0;
}

/// <summary>The figures of one run: throughput from the clients (and, where scraped, from the servers), its spread, latency and cost.</summary>
public sealed record RunSummary(
    string Name, int Servers, int Gpus, int Jobs, double DataSeconds, double WallSeconds, double DataSecondsPerSecond,
    Quartiles BinnedThroughput, double BinSeconds, double? ServerDataSecondsPerSecond, IReadOnlyList<ModelLatency> Latency,
    CostEstimate? Cost, string? CostModel)
{
    /// <summary>Relative difference of the server-side and client-side throughputs, when both exist.</summary>
    public double? Disagreement => ServerDataSecondsPerSecond is double s ? Math.Abs(s - DataSecondsPerSecond) / DataSecondsPerSecond : null;

    /// <summary>Seconds of wall time per second of data (the published "time density").</summary>
    public double SecondsPerDataSecond => 1 / DataSecondsPerSecond;
}

/// <summary>Computes a run's summary from its metrics.</summary>
public static class RunReport
{
    /// <summary>Summarises a run; <paramref name="binSeconds"/> null picks about 50 bins over the run.</summary>
    public static RunSummary Summarise(RunMetrics run, CostModel? costModel, double? binSeconds = null)
    {
        var throughput = new Throughput(run.Clients, run.SynchronizedStart);
        double bin = binSeconds ?? NiceBin(throughput.WallSeconds / 50);
        double? serverRate = null;
        if (run.Servers.Count > 0 && run.Workflow is { } w)
        {
            // Every request the ensemble answers carries B windows at r windows per second: B / r seconds of data.
            string entry = w.Inference.Ensemble;
            double requests = run.Servers.Where(s => s.Model == entry).Sum(s => s.RequestSuccess);
            if (requests > 0) serverRate = requests * w.Inference.Batch / w.Inference.Rate / throughput.WallSeconds;
        }
        var latency = run.Servers.GroupBy(s => s.Model).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new ModelLatency(g.Key, g.Sum(s => s.RequestSuccess), g.Sum(s => s.QueueUs), g.Sum(s => s.ComputeInputUs), g.Sum(s => s.ComputeInferUs), g.Sum(s => s.ComputeOutputUs)))
            .ToList();
        CostEstimate? cost = null;
        if (costModel is not null && run.Workflow is { } wf)
        {
            var inf = wf.Inference;
            var deployment = new Deployment(Math.Max(1, inf.ServerCount), inf.GpusPerServer, "gpu-t4", wf.Condor.ServerCpus, inf.ClientsPerServer, wf.Condor.ClientCpus);
            if (inf.GpusPerServer == 0 || costModel.Prices.Any(p => p.Resource == "gpu-t4"))
                cost = deployment.Cost(costModel, throughput.DataSecondsPerSecond);
        }
        return new RunSummary(run.Name, run.ServerCount, run.Gpus, run.Clients.Select(c => c.Job).Distinct().Count(),
            throughput.DataSeconds, throughput.WallSeconds, throughput.DataSecondsPerSecond, throughput.Distribution(bin), bin,
            serverRate, latency, cost, costModel?.Name);
    }

    private static double NiceBin(double raw)
    {
        if (!(raw > 0)) return 1;
        double p = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        foreach (double m in new[] { 1.0, 2, 5, 10 }) if (raw <= m * p) return m * p;
        return 10 * p;
    }
}
