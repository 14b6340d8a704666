using System.Globalization;
using System.Text;

namespace GwReprocess.Analysis;

/// <summary>Triton's cumulative per-model counters at one moment.</summary>
public sealed record ModelCounters(
    string Model, string Version, double RequestSuccess, double RequestFailure, double Count, double ExecCount,
    double RequestUs, double QueueUs, double ComputeInputUs, double ComputeInferUs, double ComputeOutputUs)
{
    /// <summary>Reads every model's counters from a scrape (failures summed over reasons, GPU series summed).</summary>
    public static IReadOnlyList<ModelCounters> FromSamples(IReadOnlyList<PrometheusSample> samples)
    {
        var byModel = new Dictionary<(string, string), double[]>();
        foreach (var s in samples)
        {
            int field = s.Name switch
            {
                "nv_inference_request_success" => 0,
                "nv_inference_request_failure" => 1,
                "nv_inference_count" => 2,
                "nv_inference_exec_count" => 3,
                "nv_inference_request_duration_us" => 4,
                "nv_inference_queue_duration_us" => 5,
                "nv_inference_compute_input_duration_us" => 6,
                "nv_inference_compute_infer_duration_us" => 7,
                "nv_inference_compute_output_duration_us" => 8,
                _ => -1,
            };
            if (field < 0) continue;
            var key = (s.Label("model"), s.Label("version"));
            if (!byModel.TryGetValue(key, out var v)) byModel[key] = v = new double[9];
            v[field] += s.Value;
        }
        return byModel.OrderBy(k => k.Key.Item1, StringComparer.Ordinal).ThenBy(k => k.Key.Item2, StringComparer.Ordinal)
            .Select(k => new ModelCounters(k.Key.Item1, k.Key.Item2, k.Value[0], k.Value[1], k.Value[2], k.Value[3], k.Value[4], k.Value[5], k.Value[6], k.Value[7], k.Value[8]))
            .ToList();
    }
}

/// <summary>One server's counters differenced over one scrape interval, as the published monitor wrote them.</summary>
public sealed record ServerMetricsInterval(
    double Timestamp, string Server, string Model, string Version, double IntervalSeconds,
    double RequestSuccess, double RequestFailure, double Count, double ExecCount,
    double RequestUs, double QueueUs, double ComputeInputUs, double ComputeInferUs, double ComputeOutputUs)
{
    /// <summary>Inferences per second in the interval.</summary>
    public double InferencesPerSecond => IntervalSeconds > 0 ? Count / IntervalSeconds : 0;

    /// <summary>Mean queue and compute time per request, µs.</summary>
    public (double Queue, double Compute) MeanLatencyUs =>
        RequestSuccess > 0 ? (QueueUs / RequestSuccess, (ComputeInputUs + ComputeInferUs + ComputeOutputUs) / RequestSuccess) : (0, 0);

    public const string CsvHeader = "timestamp,server,model,version,interval_s,request_success,request_failure,count,exec_count," +
                                    "request_us,queue_us,compute_input_us,compute_infer_us,compute_output_us";

    public string ToCsv()
    {
        var c = CultureInfo.InvariantCulture;
        return string.Join(',', Timestamp.ToString("F3", c), Server, Model, Version, IntervalSeconds.ToString("R", c),
            RequestSuccess.ToString("R", c), RequestFailure.ToString("R", c), Count.ToString("R", c), ExecCount.ToString("R", c),
            RequestUs.ToString("R", c), QueueUs.ToString("R", c), ComputeInputUs.ToString("R", c), ComputeInferUs.ToString("R", c), ComputeOutputUs.ToString("R", c));
    }

    /// <summary>Reads a scrape CSV; errors name file and line.</summary>
    public static IReadOnlyList<ServerMetricsInterval> ReadCsv(string path) =>
        Parse(InputFile.ReadAllLines(path, "server metrics file"), path);

    /// <summary>Parses scrape CSV lines; <paramref name="source"/> names them in errors.</summary>
    public static IReadOnlyList<ServerMetricsInterval> Parse(IReadOnlyList<string> lines, string source)
    {
        if (lines.Count == 0 || lines[0].Trim() != CsvHeader) throw BadInputException.AtLine(source, 1, "not a server metrics file (unexpected header)");
        var rows = new List<ServerMetricsInterval>();
        for (int i = 1; i < lines.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(lines[i])) continue;
            var f = lines[i].Split(',');
            if (f.Length != 14) throw BadInputException.AtLine(source, i + 1, $"expected 14 columns, found {f.Length}");
            double D(int k) => double.TryParse(f[k], NumberStyles.Float, CultureInfo.InvariantCulture, out double v) ? v
                : throw BadInputException.AtLine(source, i + 1, $"'{f[k]}' is not a number");
            rows.Add(new ServerMetricsInterval(D(0), f[1], f[2], f[3], D(4), D(5), D(6), D(7), D(8), D(9), D(10), D(11), D(12), D(13)));
        }
        return rows;
    }
}

/// <summary>Differences successive scrapes of one server into intervals, as the published ServerMonitor did.</summary>
public sealed class CounterDifferencer(string server)
{
    private Dictionary<(string, string), ModelCounters>? _previous;
    private double _previousTime;

    /// <summary>Feeds one scrape taken at Unix time <paramref name="timestamp"/>; returns the intervals since the previous one (none for the first).</summary>
    /// <remarks>A counter that went down means the server restarted: the new value is the count since the restart.</remarks>
    public IReadOnlyList<ServerMetricsInterval> Add(double timestamp, IReadOnlyList<ModelCounters> counters)
    {
        var current = counters.ToDictionary(c => (c.Model, c.Version));
        var result = new List<ServerMetricsInterval>();
        if (_previous is not null)
        {
            double dt = timestamp - _previousTime;
            foreach (var (key, now) in current)
            {
                _previous.TryGetValue(key, out var before);
                static double Delta(double now, double? before) => before is double b && now >= b ? now - b : now;
                bool reset = before is not null && now.Count < before.Count;
                ModelCounters? b = reset ? null : before;
                result.Add(new ServerMetricsInterval(timestamp, server, now.Model, now.Version, dt,
                    Delta(now.RequestSuccess, b?.RequestSuccess), Delta(now.RequestFailure, b?.RequestFailure),
                    Delta(now.Count, b?.Count), Delta(now.ExecCount, b?.ExecCount), Delta(now.RequestUs, b?.RequestUs),
                    Delta(now.QueueUs, b?.QueueUs), Delta(now.ComputeInputUs, b?.ComputeInputUs),
                    Delta(now.ComputeInferUs, b?.ComputeInferUs), Delta(now.ComputeOutputUs, b?.ComputeOutputUs)));
            }
        }
        _previous = current;
        _previousTime = timestamp;
        return result;
    }
}

/// <summary>Polls /metrics endpoints on an interval and appends the differenced counters to a CSV (<c>gwrepro analyze scrape</c>).</summary>
public sealed class MetricsScraper(IReadOnlyList<Uri> endpoints, TimeSpan interval, HttpClient http)
{
    /// <summary>Scrapes until cancelled or until <paramref name="stopFile"/> appears; returns the rows written.</summary>
    public async Task<int> RunAsync(string csvPath, string? stopFile, TimeSpan? duration, CancellationToken cancellationToken)
    {
        var differencers = endpoints.Select(e => new CounterDifferencer(e.Authority)).ToArray();
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(csvPath))!);
        bool fresh = !File.Exists(csvPath) || new FileInfo(csvPath).Length == 0;
        await using var writer = new StreamWriter(csvPath, append: true, new UTF8Encoding(false));
        if (fresh) await writer.WriteLineAsync(ServerMetricsInterval.CsvHeader.AsMemory(), cancellationToken);
        var until = duration is TimeSpan d ? DateTime.UtcNow + d : DateTime.MaxValue;
        int rows = 0;
        using var timer = new PeriodicTimer(interval);
        do
        {
            for (int i = 0; i < endpoints.Count; i++)
            {
                string text;
                try { text = await http.GetStringAsync(endpoints[i], cancellationToken); }
                catch (HttpRequestException) { continue; } // a server not up yet (or gone): skip this round
                double now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;
                foreach (var row in differencers[i].Add(now, ModelCounters.FromSamples(PrometheusText.Parse(text, endpoints[i].ToString()))))
                {
                    await writer.WriteLineAsync(row.ToCsv().AsMemory(), cancellationToken);
                    rows++;
                }
            }
            // Flush each round: a run that is killed keeps what was measured.
            await writer.FlushAsync(cancellationToken);
            if (stopFile is not null && File.Exists(stopFile)) break;
            if (DateTime.UtcNow >= until) break;
        }
        while (await timer.WaitForNextTickAsync(cancellationToken));
        return rows;
    }
}
