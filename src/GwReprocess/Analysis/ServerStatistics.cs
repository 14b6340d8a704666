using System.Text;
using GwReprocess.Inference;
using GwReprocess.Storage;
using Grpc.Core;
using Grpc.Net.Client;

namespace GwReprocess.Analysis;

/// <summary>
/// The servers' cumulative counters read once over gRPC (Triton's ModelStatistics), for runs whose servers were not scraped:
/// the FINAL analyze node calls it before it stops them, so the report can still check s'/s against inferences / Δt / r.
/// </summary>
public static class ServerStatistics
{
    /// <summary>Name of the snapshot beside the run's outputs (read back like a scrape file: it matches <c>server-metrics*.csv</c>).</summary>
    public const string FileName = "server-metrics-final.csv";

    /// <summary>
    /// One row per server and model version with its counters since the server started (interval = 0: a snapshot, not a rate).
    /// Servers are the <c>servers/&lt;name&gt;</c> addresses published under <paramref name="rendezvous"/>; unreachable ones are
    /// reported through <paramref name="log"/> and skipped.
    /// </summary>
    public static async Task<IReadOnlyList<ServerMetricsInterval>> CollectAsync(string rendezvous, Action<string>? log, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var rows = new List<ServerMetricsInterval>();
        var (bucket, prefix) = BucketFactory.Open(rendezvous);
        using (bucket)
        {
            string root = BucketUri.AsPrefix(prefix) + "servers/";
            var addresses = new List<string>();
            await foreach (var o in bucket.ListAsync(root, cancellationToken).ConfigureAwait(false))
                addresses.Add(Encoding.UTF8.GetString(await bucket.ReadAllBytesAsync(o.Key, cancellationToken).ConfigureAwait(false)).Trim());
            foreach (var address in addresses.Where(a => a.Length > 0).Distinct())
            {
                try
                {
                    rows.AddRange(await QueryAsync(address, timeout, cancellationToken).ConfigureAwait(false));
                }
                catch (RpcException e)
                {
                    log?.Invoke($"{address}: model statistics unavailable ({e.Status.StatusCode}: {e.Status.Detail})");
                }
            }
        }
        return rows;
    }

    /// <summary>The ModelStatistics of every model one server has, as snapshot rows.</summary>
    public static async Task<IReadOnlyList<ServerMetricsInterval>> QueryAsync(string address, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var channel = GrpcChannel.ForAddress(ServerAddress.ChannelAddress(address));
        var client = new global::Inference.GRPCInferenceService.GRPCInferenceServiceClient(channel);
        var response = await client.ModelStatisticsAsync(new global::Inference.ModelStatisticsRequest(), deadline: DateTime.UtcNow + timeout,
            cancellationToken: cancellationToken).ConfigureAwait(false);
        double now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;
        var rows = new List<ServerMetricsInterval>();
        foreach (var m in response.ModelStats)
        {
            var s = m.InferenceStats;
            static double Us(global::Inference.StatisticDuration? d) => d is null ? 0 : d.Ns / 1000.0;
            rows.Add(new ServerMetricsInterval(now, address, m.Name, m.Version, 0,
                s?.Success?.Count ?? 0, s?.Fail?.Count ?? 0, m.InferenceCount, m.ExecutionCount,
                Us(s?.Success), Us(s?.Queue), Us(s?.ComputeInput), Us(s?.ComputeInfer), Us(s?.ComputeOutput)));
        }
        return rows;
    }

    /// <summary>Writes the snapshot rows as a scrape CSV under the run's outputs (atomically, through the bucket layer).</summary>
    public static async Task WriteAsync(string outputLocation, IReadOnlyList<ServerMetricsInterval> rows, CancellationToken cancellationToken)
    {
        var (bucket, prefix) = BucketFactory.Open(outputLocation);
        using (bucket)
        {
            var sb = new StringBuilder(ServerMetricsInterval.CsvHeader).Append('\n');
            foreach (var r in rows) sb.Append(r.ToCsv()).Append('\n');
            await bucket.WriteAllBytesAsync(BucketUri.AsPrefix(prefix) + FileName, Encoding.UTF8.GetBytes(sb.ToString()), cancellationToken).ConfigureAwait(false);
        }
    }
}
