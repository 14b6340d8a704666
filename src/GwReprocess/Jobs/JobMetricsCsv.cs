using System.Globalization;
using System.Text;

namespace GwReprocess.Jobs;

/// <summary>The per-job metrics CSV: header, writer and reader (errors name file and line).</summary>
public static class JobMetricsCsv
{
    public const string Header = "job,server,attempt,wall_start,wall_end,gps_start,gps_end,data_seconds,requests_sent,responses," +
                                 "latency_p50_ms,latency_p95_ms,latency_p99_ms,bytes_sent,bytes_received,retries,barrier_wait_s";

    private const int Columns = 17;

    /// <summary>One CSV line (no newline).</summary>
    public static string Format(JobMetricsInterval m)
    {
        var c = CultureInfo.InvariantCulture;
        return string.Join(',',
            m.Job, m.Server, m.Attempt.ToString(c),
            m.WallStart.ToString("F6", c), m.WallEnd.ToString("F6", c), m.GpsStart.ToString("R", c), m.GpsEnd.ToString("R", c),
            m.DataSeconds.ToString("R", c), m.RequestsSent.ToString(c), m.Responses.ToString(c),
            m.LatencyP50Ms.ToString("R", c), m.LatencyP95Ms.ToString("R", c), m.LatencyP99Ms.ToString("R", c),
            m.BytesSent.ToString(c), m.BytesReceived.ToString(c), m.Retries.ToString(c), m.BarrierWaitSeconds.ToString("R", c));
    }

    /// <summary>Reads one metrics file.</summary>
    public static IReadOnlyList<JobMetricsInterval> Read(string path)
    {
        return Parse(InputFile.ReadAllLines(path, "metrics file"), path);
    }

    /// <summary>Parses metrics lines; <paramref name="source"/> names them in errors.</summary>
    public static IReadOnlyList<JobMetricsInterval> Parse(IReadOnlyList<string> lines, string source)
    {
        if (lines.Count == 0 || lines[0].Trim() != Header)
            throw BadInputException.AtLine(source, 1, "not a GwReprocess job metrics file (unexpected header)");
        var rows = new List<JobMetricsInterval>(lines.Count - 1);
        for (int i = 1; i < lines.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(lines[i])) continue;
            var c = lines[i].Split(',');
            int line = i + 1;
            if (c.Length != Columns) throw BadInputException.AtLine(source, line, $"expected {Columns} columns, found {c.Length}");
            double D(int k, string name) => double.TryParse(c[k], NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && double.IsFinite(v)
                ? v : throw BadInputException.AtLine(source, line, $"{name} '{c[k]}' is not a number");
            long L(int k, string name) => long.TryParse(c[k], NumberStyles.Integer, CultureInfo.InvariantCulture, out long v) && v >= 0
                ? v : throw BadInputException.AtLine(source, line, $"{name} '{c[k]}' is not a non-negative integer");
            var row = new JobMetricsInterval(c[0], c[1], (int)L(2, "attempt"), D(3, "wall_start"), D(4, "wall_end"), D(5, "gps_start"), D(6, "gps_end"),
                D(7, "data_seconds"), L(8, "requests_sent"), L(9, "responses"), D(10, "latency_p50_ms"), D(11, "latency_p95_ms"), D(12, "latency_p99_ms"),
                L(13, "bytes_sent"), L(14, "bytes_received"), (int)L(15, "retries"), D(16, "barrier_wait_s"));
            if (row.WallEnd < row.WallStart) throw BadInputException.AtLine(source, line, "wall_end is before wall_start");
            if (row.DataSeconds < 0) throw BadInputException.AtLine(source, line, "data_seconds is negative");
            rows.Add(row);
        }
        return rows;
    }

    /// <summary>The whole file's text for a list of intervals.</summary>
    public static string ToCsv(IEnumerable<JobMetricsInterval> rows)
    {
        var sb = new StringBuilder(Header).Append('\n');
        foreach (var r in rows) sb.Append(Format(r)).Append('\n');
        return sb.ToString();
    }
}
