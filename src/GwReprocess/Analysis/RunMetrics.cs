using System.Text;
using GwReprocess.IO;
using GwReprocess.Jobs;
using GwReprocess.Storage;
using GwReprocess.Workflow;

namespace GwReprocess.Analysis;

/// <summary>Everything measured in one run: its workflow, its clients' metrics and its servers' scraped counters.</summary>
/// <remarks>
/// Where things are (the conventions the client job and the DAG's servers write to): <c>&lt;outputs&gt;/metrics/*.csv</c>
/// (one per job, <see cref="JobMetricsCsv"/>), <c>&lt;outputs&gt;/server-metrics*.csv</c> (<c>gwrepro analyze scrape</c>), and
/// <c>&lt;outputs&gt;/rendezvous/start</c> (the barrier's synchronized start).
/// </remarks>
public sealed record RunMetrics(string Name, string RunDirectory, WorkflowConfig? Workflow, IReadOnlyList<JobMetricsInterval> Clients,
    IReadOnlyList<ServerMetricsInterval> Servers, double? SynchronizedStart)
{
    /// <summary>Where the run's outputs are (the workflow's <c>[outputs] uri</c> resolved against the run directory, or the <c>--metrics</c> override).</summary>
    public string OutputLocation { get; init; } = "";

    /// <summary>Servers of the run (from the workflow, else from the metrics).</summary>
    public int ServerCount => Workflow?.Inference.ServerCount ?? Math.Max(1, Clients.Select(c => c.Server).Distinct().Count());

    /// <summary>GPUs of the run (servers × GPUs per server), 0 for CPU runs.</summary>
    public int Gpus => Workflow is { } w ? w.Inference.ServerCount * w.Inference.GpusPerServer : 0;

    /// <summary>Reads a run directory written by <c>gwrepro dag</c>/<c>gwrepro run</c>; <paramref name="metricsUri"/> overrides where metrics are looked for.</summary>
    public static async Task<RunMetrics> LoadAsync(string runDirectory, string? metricsUri = null, CancellationToken cancellationToken = default)
    {
        if (!Directory.Exists(runDirectory)) throw new BadInputException($"{runDirectory}: no such run directory");
        string workflowPath = Path.Combine(runDirectory, "workflow.toml");
        WorkflowConfig? workflow = File.Exists(workflowPath) ? WorkflowConfig.Load(workflowPath) : null;
        string location = metricsUri ?? workflow?.Outputs.Uri
            ?? throw new BadInputException($"{runDirectory}: no workflow.toml; give --metrics with the run's output prefix");
        location = Location.Parse(location).Resolve(Path.GetFullPath(runDirectory)).ToString();

        var (bucket, prefix) = BucketFactory.Open(location);
        using (bucket)
        {
            string root = BucketUri.AsPrefix(prefix);
            var clients = new List<JobMetricsInterval>();
            var servers = new List<ServerMetricsInterval>();
            await foreach (var o in bucket.ListAsync(root + "metrics/", cancellationToken).ConfigureAwait(false))
            {
                if (!o.Key.EndsWith(".csv", StringComparison.Ordinal)) continue;
                var lines = await ReadLinesAsync(bucket, o.Key, cancellationToken).ConfigureAwait(false);
                clients.AddRange(JobMetricsCsv.Parse(lines, bucket.UriOf(o.Key).ToString()));
            }
            await foreach (var o in bucket.ListAsync(root + "server-metrics", cancellationToken).ConfigureAwait(false))
            {
                if (!o.Key.EndsWith(".csv", StringComparison.Ordinal)) continue;
                servers.AddRange(ServerMetricsInterval.Parse(await ReadLinesAsync(bucket, o.Key, cancellationToken).ConfigureAwait(false), bucket.UriOf(o.Key).ToString()));
            }
            if (clients.Count == 0) throw new BadInputException($"{bucket.UriOf(root + "metrics/")}: no client metrics (*.csv) found");
            double? start = null;
            if (await bucket.ExistsAsync(root + "rendezvous/start", cancellationToken).ConfigureAwait(false))
            {
                var text = Encoding.UTF8.GetString(await bucket.ReadAllBytesAsync(root + "rendezvous/start", cancellationToken).ConfigureAwait(false));
                if (long.TryParse(text.Split('\t')[0], out long ms)) start = ms / 1000.0;
            }
            string name = workflow?.Name ?? Path.GetFileName(Path.GetFullPath(runDirectory).TrimEnd('/'));
            return new RunMetrics(name, runDirectory, workflow, clients, servers, start) { OutputLocation = location };
        }
    }

    private static async Task<string[]> ReadLinesAsync(IBucket bucket, string key, CancellationToken ct) =>
        Encoding.UTF8.GetString(await bucket.ReadAllBytesAsync(key, ct).ConfigureAwait(false)).Replace("\r", "").Split('\n', StringSplitOptions.RemoveEmptyEntries);
}
