using System.Globalization;
using System.Text;
using GwReprocess.IO;
using GwReprocess.Jobs;
using GwReprocess.Time;

namespace GwReprocess.Workflow;

/// <summary>The jobs a workflow runs, and the time it covers: what <c>jobs.csv</c> lists.</summary>
public sealed record JobPlan(WorkflowConfig Workflow, SegmentList Analyzable, IReadOnlyList<JobSpec> Jobs)
{
    /// <summary>True when the jobs were cut at input file boundaries, so each cleaned frame keeps its input file's span.</summary>
    public bool OnFrameGrid { get; init; }

    /// <summary>Seconds of data the jobs produce (padding excluded).</summary>
    public GpsDuration DataDuration
    {
        get
        {
            long ns = 0;
            foreach (var j in Jobs) ns += j.Duration.TotalNanoseconds;
            return GpsDuration.FromNanoseconds(ns);
        }
    }

    /// <summary>The manifest header; columns are stable so scripts can read them.</summary>
    public const string CsvHeader = "job,start,end,padded_start,padded_end,server,sequence_id";

    /// <summary>The manifest as CSV text, one job a row.</summary>
    public string ToCsv()
    {
        var sb = new StringBuilder(CsvHeader.Length + Jobs.Count * 80);
        sb.Append(CsvHeader).Append('\n');
        foreach (var j in Jobs)
            sb.Append(j.Name).Append(',').Append(j.Core.Start).Append(',').Append(j.Core.End).Append(',')
              .Append(j.Padded.Start).Append(',').Append(j.Padded.End).Append(',')
              .Append(j.Server.ToString(CultureInfo.InvariantCulture)).Append(',')
              .Append(j.SequenceId.ToString(CultureInfo.InvariantCulture)).Append('\n');
        return sb.ToString();
    }

    /// <summary>Reads one job of a manifest by name; errors name the file and line.</summary>
    public static JobSpec ReadJob(string csvPath, string jobName)
    {
        int lineNumber = 0;
        foreach (var line in File.ReadLines(csvPath))
        {
            lineNumber++;
            if (lineNumber == 1)
            {
                if (line.Trim() != CsvHeader) throw BadInputException.AtLine(csvPath, 1, $"not a jobs manifest (expected header '{CsvHeader}')");
                continue;
            }
            if (!line.StartsWith(jobName + ",", StringComparison.Ordinal)) continue;
            var c = line.Split(',');
            if (c.Length != 7) throw BadInputException.AtLine(csvPath, lineNumber, $"expected 7 columns, found {c.Length}");
            GpsTime T(int i) => GpsTime.TryParse(c[i], out var t) ? t : throw BadInputException.AtLine(csvPath, lineNumber, $"'{c[i]}' is not a GPS time");
            if (!int.TryParse(c[5], NumberStyles.None, CultureInfo.InvariantCulture, out int server))
                throw BadInputException.AtLine(csvPath, lineNumber, $"server '{c[5]}' is not an index");
            if (!ulong.TryParse(c[6], NumberStyles.None, CultureInfo.InvariantCulture, out ulong sequence))
                throw BadInputException.AtLine(csvPath, lineNumber, $"sequence_id '{c[6]}' is not an unsigned integer");
            return new JobSpec(c[0], new Segment(T(1), T(2)), new Segment(T(3), T(4)), server, sequence);
        }
        throw new BadInputException($"{csvPath}: no job named '{jobName}'");
    }

    /// <summary>Writes the manifest atomically.</summary>
    public Task WriteCsvAsync(string path, CancellationToken cancellationToken = default) =>
        AtomicFile.WriteAllTextAsync(path, ToCsv(), cancellationToken);
}
