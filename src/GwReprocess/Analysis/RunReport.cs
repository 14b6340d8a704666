using GwReprocess.Dsp;

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
    /// <summary>
    /// Relative difference of the servers' count of windows scored and the clients' count of windows answered (both include the jobs'
    /// padding, which the clients' data seconds do not), when both exist; without client counts, of the two throughputs.
    /// </summary>
    public double? Disagreement => ServerInferences is double n && ClientInferences is double m && m > 0 ? Math.Abs(n - m) / m
        : ServerDataSecondsPerSecond is double s ? Math.Abs(s - DataSecondsPerSecond) / DataSecondsPerSecond : null;

    /// <summary>True when <see cref="Disagreement"/> is at most 5 % (the window counts, or the throughputs, agree); null without server metrics.</summary>
    public bool? AgreesWithinFivePercent => Disagreement is double d ? d <= 0.05 : null;

    /// <summary>Inferences (windows scored) the servers' counters report: ensemble requests × batch B; null without server metrics.</summary>
    public double? ServerInferences { get; init; }

    /// <summary>Windows the clients had answered: their responses × batch B (padding included); null without the workflow.</summary>
    public double? ClientInferences { get; init; }

    /// <summary>Client responses behind <see cref="ClientInferences"/>.</summary>
    public double? ClientResponses { get; init; }

    /// <summary>Inference rate r (windows per second of data) of the workflow, the divisor of s'/s = inferences / Δt / r.</summary>
    public double? InferenceRate { get; init; }

    /// <summary>Cleaned/raw ASD ratio of one frame; null when the run has none (see <see cref="CleaningNote"/>).</summary>
    public CleaningComparison? Cleaning { get; init; }

    /// <summary>Why there is no ASD ratio, or which detectors were left out.</summary>
    public string? CleaningNote { get; init; }

    /// <summary>Scores against injections; null when the run has no scores (see <see cref="SearchNote"/>).</summary>
    public InjectionRecovery? Search { get; init; }

    /// <summary>Why there is no scores plot, or what is missing from it.</summary>
    public string? SearchNote { get; init; }

    /// <summary>False-alarm rate of the search's threshold, efficiency per network-SNR bin and ROC; null without scores.</summary>
    public SearchSensitivity? Sensitivity { get; init; }

    /// <summary>This run's search beside others on the same span (<c>analyze --compare</c>); null when none was asked for.</summary>
    public SearchComparison? Comparison { get; init; }

    /// <summary>Per detector: analyzable, cleaned and not-cleaned seconds by reason; null when unknown (see <see cref="CoverageNote"/>).</summary>
    public IReadOnlyList<DetectorCoverage>? Coverage { get; init; }

    /// <summary>Why the coverage is unknown.</summary>
    public string? CoverageNote { get; init; }

    /// <summary>Seconds of wall time per second of data (the published "time density").</summary>
    public double SecondsPerDataSecond => 1 / DataSecondsPerSecond;
}

/// <summary>Computes a run's summary from its metrics.</summary>
public static class RunReport
{
    /// <summary>
    /// Summarises a run; <paramref name="binSeconds"/> null picks about 50 bins over the run. Its GPUs are priced as
    /// <paramref name="gpuResource"/> and its server nodes' vCPUs as <paramref name="nodeVcpuResource"/>; a table without
    /// them is an error naming both.
    /// </summary>
    public static RunSummary Summarise(RunMetrics run, CostModel? costModel, double? binSeconds = null, string gpuResource = "gpu-t4", string nodeVcpuResource = "vcpu")
    {
        var throughput = new Throughput(run.Clients, run.SynchronizedStart);
        double responses = 0;
        foreach (var c in run.Clients) responses += c.Responses;
        double bin = binSeconds ?? NiceBin(throughput.WallSeconds / 50);
        double? serverRate = null, inferences = null;
        if (run.Servers.Count > 0 && run.Workflow is { } w)
        {
            // Every request the ensemble answers carries B windows at r windows per second: B / r seconds of data.
            string entry = w.Inference.Ensemble;
            double requests = run.Servers.Where(s => s.Model == entry).Sum(s => s.RequestSuccess);
            if (requests > 0)
            {
                inferences = requests * w.Inference.Batch;
                serverRate = inferences / throughput.WallSeconds / w.Inference.Rate;
            }
        }
        var latency = run.Servers.GroupBy(s => s.Model).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new ModelLatency(g.Key, g.Sum(s => s.RequestSuccess), g.Sum(s => s.QueueUs), g.Sum(s => s.ComputeInputUs), g.Sum(s => s.ComputeInferUs), g.Sum(s => s.ComputeOutputUs)))
            .ToList();
        CostEstimate? cost = null;
        if (costModel is not null && run.Workflow is { } wf)
        {
            var inf = wf.Inference;
            var deployment = new Deployment(Math.Max(1, inf.ServerCount), inf.GpusPerServer, gpuResource, wf.Condor.ServerCpus, inf.ClientsPerServer, wf.Condor.ClientCpus, nodeVcpuResource);
            cost = deployment.Cost(costModel, throughput.DataSecondsPerSecond);
        }
        return new RunSummary(run.Name, run.ServerCount, run.Gpus, run.Clients.Select(c => c.Job).Distinct().Count(),
            throughput.DataSeconds, throughput.WallSeconds, throughput.DataSecondsPerSecond, throughput.Distribution(bin), bin,
            serverRate, latency, cost, costModel?.Name)
        {
            ServerInferences = inferences,
            ClientResponses = run.Workflow is null ? null : responses,
            ClientInferences = run.Workflow is { } wb ? responses * wb.Inference.Batch : null,
            InferenceRate = run.Workflow?.Inference.Rate,
        };
    }

    /// <summary>
    /// Adds the data-quality figures of a run's outputs: the cleaned/raw ASD ratio of one frame (<paramref name="asdFrame"/>,
    /// default the first cleaned frame) and the scores against the injections. Missing outputs become notes, not errors.
    /// </summary>
    public static async Task<RunSummary> AddOutputChecksAsync(RunSummary summary, RunMetrics run, Time.GpsTime? asdFrame, string? injectionTable,
        double loudSnr = 12, CancellationToken cancellationToken = default)
    {
        if (run.Workflow is null || run.OutputLocation.Length == 0)
            return summary with { CleaningNote = "no workflow.toml, so the outputs and raw data are unknown", SearchNote = "no workflow.toml, so the outputs are unknown" };
        using var outputs = RunOutputs.Open(run.OutputLocation, run.RunDirectory);
        IReadOnlyList<DetectorCoverage>? coverage = null;
        string? coverageNote = null;
        try
        {
            coverage = await OutputCatalog.WriteAsync(outputs, run.Workflow, Workflow.JobPlanner.PlanFromFiles(run.Workflow), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is BadInputException or IOException)
        {
            // The workflow's segment or cache files are named relative to the original workflow file, which the run directory's copy may not sit beside.
            coverageNote = $"no coverage, caches or segment files: {e.Message}";
        }
        summary = summary with { Coverage = coverage, CoverageNote = coverageNote };
        var (cleaning, cleaningNote) = await CleaningComparison.ComputeAsync(outputs, run.Workflow, run.RunDirectory, asdFrame, cancellationToken).ConfigureAwait(false);
        // A strain-only run has no cleaned frame by design: say so rather than where none was found.
        if (cleaning is null && run.Workflow.StrainOnly)
            cleaningNote = "strain-only workflow (no witnesses): the jobs cleaned nothing and wrote scores only, so there is no cleaned/raw ASD ratio";
        if (cleaning is not null && cleaning.Notes.Count > 0) cleaningNote = string.Join("; ", cleaning.Notes);
        var (search, searchNote) = await InjectionRecovery.ComputeAsync(outputs, run.Workflow, run.RunDirectory, injectionTable, loudSnr, cancellationToken).ConfigureAwait(false);
        if (search is not null && search.InjectionTable is null) searchNote = "no injection table (simulated frames directory's injections.csv, or --injections): scores shown without injections";
        return summary with
        {
            Cleaning = cleaning, CleaningNote = cleaningNote, Search = search, SearchNote = searchNote,
            Sensitivity = search is null ? null : SearchSensitivity.Compute(search),
        };
    }

    /// <summary>
    /// Sets <see cref="RunSummary.Comparison"/>: the run's search beside each of <paramref name="compare"/> (see
    /// <see cref="SearchComparison.ComputeAsync"/>) over the run's injections.
    /// </summary>
    public static async Task<RunSummary> AddComparisonAsync(RunSummary summary, RunMetrics run, IReadOnlyList<string> compare, CancellationToken cancellationToken = default)
    {
        if (compare.Count == 0) return summary;
        string outputs = run.OutputLocation;
        if (outputs.Length > 0)
        {
            using var o = RunOutputs.Open(outputs, run.RunDirectory);
            outputs = o.UriOf("");
        }
        var comparison = await SearchComparison.ComputeAsync(summary.Name, outputs, summary.Search, compare, cancellationToken).ConfigureAwait(false);
        return summary with { Comparison = comparison };
    }

    private static double NiceBin(double raw)
    {
        if (!(raw > 0)) return 1;
        double p = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        foreach (double m in new[] { 1.0, 2, 5, 10 }) if (raw <= m * p) return m * p;
        return 10 * p;
    }
}
