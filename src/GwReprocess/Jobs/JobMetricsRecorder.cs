using System.Text;
using GwReprocess.Dsp;
using GwReprocess.Storage;

namespace GwReprocess.Jobs;

/// <summary>Counts what a client job does and turns it into <see cref="JobMetricsInterval"/> rows, rewriting <c>metrics/&lt;job&gt;.csv</c> after each.</summary>
/// <remarks>Rows of earlier attempts (a DAG retry) are kept: the file is read once at start and the new rows appended.</remarks>
public sealed class JobMetricsRecorder(IBucket bucket, string key, string job, string server)
{
    private readonly object _gate = new();
    private readonly List<JobMetricsInterval> _rows = new();
    private readonly List<double> _latencies = new();
    private long _sent, _answered, _bytesSent, _bytesReceived;
    private double _dataSeconds, _gpsStart = double.NaN, _gpsEnd = double.NaN, _barrierWait;
    private int _retries;
    private double _intervalStart = Now();

    /// <summary>The attempt number (1 for the first run of the job, counting earlier processes' rows).</summary>
    public int Attempt { get; private set; } = 1;

    /// <summary>Loads earlier attempts' rows, if any.</summary>
    public async Task LoadAsync(CancellationToken ct)
    {
        if (!await bucket.ExistsAsync(key, ct).ConfigureAwait(false)) return;
        var text = Encoding.UTF8.GetString(await bucket.ReadAllBytesAsync(key, ct).ConfigureAwait(false));
        try
        {
            var rows = JobMetricsCsv.Parse(text.Split('\n'), bucket.UriOf(key).ToString());
            _rows.AddRange(rows);
            if (rows.Count > 0) Attempt = rows.Max(r => r.Attempt) + 1;
        }
        catch (BadInputException)
        {
            // A metrics file cut short by a killed process must not stop the job: start it afresh.
        }
        _intervalStart = Now();
    }

    /// <summary>Told of each request sent (the job's <see cref="ClientJobSettings.OnSent"/>), or null.</summary>
    public Action? OnSent { get; init; }

    /// <summary>Told of each answer's round trip (the job's <see cref="ClientJobSettings.OnAnswered"/>), or null.</summary>
    public Action<TimeSpan>? OnAnswered { get; init; }

    public void RequestSent()
    {
        Interlocked.Increment(ref _sent);
        OnSent?.Invoke();
    }

    public void Answered(TimeSpan roundTrip)
    {
        OnAnswered?.Invoke(roundTrip);
        lock (_gate)
        {
            _answered++;
            _latencies.Add(roundTrip.TotalMilliseconds);
        }
    }

    // Streams watched now (one per job, or one per detector under the hermes contract), with the counters already taken.
    private readonly List<(Inference.InferenceStream Stream, long Sent, long Received)> _streams = [];

    /// <summary>Counts the wire bytes of <paramref name="stream"/> from now on (each interval takes the growth of its counters), beside any other stream attached.</summary>
    public void Attach(Inference.InferenceStream stream)
    {
        lock (_gate)
        {
            TakeStreamBytes();
            _streams.Add((stream, 0, 0));
        }
    }

    /// <summary>Takes the stream's last bytes and stops watching it.</summary>
    public void Detach(Inference.InferenceStream stream)
    {
        lock (_gate)
        {
            TakeStreamBytes();
            _streams.RemoveAll(x => ReferenceEquals(x.Stream, stream));
        }
    }

    private void TakeStreamBytes()
    {
        for (int i = 0; i < _streams.Count; i++)
        {
            var (s, lastSent, lastReceived) = _streams[i];
            long sent = s.BytesSent, received = s.BytesReceived;
            _bytesSent += sent - lastSent;
            _bytesReceived += received - lastReceived;
            _streams[i] = (s, sent, received);
        }
    }

    /// <summary>Data newly processed (first time, inside the job's core), GPS seconds.</summary>
    public void Data(double gpsStart, double gpsEnd)
    {
        lock (_gate)
        {
            _dataSeconds += gpsEnd - gpsStart;
            if (double.IsNaN(_gpsStart)) _gpsStart = gpsStart;
            _gpsEnd = gpsEnd;
        }
    }

    public void Retry() => Interlocked.Increment(ref _retries);

    public void BarrierWait(TimeSpan waited)
    {
        lock (_gate) _barrierWait += waited.TotalSeconds;
    }

    /// <summary>Closes the current interval as a row and rewrites the file.</summary>
    public async Task FlushAsync(CancellationToken ct)
    {
        string text;
        lock (_gate)
        {
            TakeStreamBytes();
            double now = Now();
            var lat = _latencies.ToArray();
            Array.Sort(lat);
            double P(double q) => lat.Length == 0 ? 0 : Percentiles.Of(lat, 100 * q);
            _rows.Add(new JobMetricsInterval(job, server, Attempt, _intervalStart, now,
                double.IsNaN(_gpsStart) ? 0 : _gpsStart, double.IsNaN(_gpsEnd) ? 0 : _gpsEnd, _dataSeconds,
                Interlocked.Exchange(ref _sent, 0), _answered, P(0.5), P(0.95), P(0.99),
                Interlocked.Exchange(ref _bytesSent, 0), Interlocked.Exchange(ref _bytesReceived, 0),
                Interlocked.Exchange(ref _retries, 0), _barrierWait));
            _answered = 0;
            _latencies.Clear();
            _dataSeconds = 0;
            _gpsStart = _gpsEnd = double.NaN;
            _barrierWait = 0;
            _intervalStart = now;
            text = JobMetricsCsv.ToCsv(_rows);
        }
        await bucket.WriteAllBytesAsync(key, Encoding.UTF8.GetBytes(text), ct).ConfigureAwait(false);
    }

    private static double Now() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;
}
