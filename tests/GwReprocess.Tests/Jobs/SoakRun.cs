using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using GwReprocess.Analysis;
using GwReprocess.Frames;
using GwReprocess.Inference;
using GwReprocess.Jobs;
using GwReprocess.Storage;
using GwReprocess.Tests.Cli;
using GwReprocess.Tests.Storage;
using GwReprocess.Time;
using GwReprocess.Workflow;

namespace GwReprocess.Tests.Jobs;

/// <summary>
/// Many client streams against one <c>gwrepro serve</c> (a child process on loopback) with a small Wiener ensemble: each
/// stream runs client jobs (in this process, as <c>gwrepro client</c> runs them) one after another, each its own name and
/// sequence id, and every job's cleaned frames and scores are compared with the same segment cleaned by a job run alone.
/// Optionally the server is killed (SIGKILL) and restarted, and the output bucket goes away, while the streams run.
/// </summary>
public sealed class SoakRun : IAsyncDisposable
{
    private static readonly string[] OutputFolders = ["cleaned", "scores"];

    private readonly SoakOptions _o;
    private readonly ClientRunDirectory _run;
    private readonly Action<string> _log;
    private readonly WorkflowConfig _workflow;
    private readonly BucketFrameOpener _opener = new();
    private readonly int _grpcPort = ClientRunDirectory.FreePort(), _metricsPort = ClientRunDirectory.FreePort();
    private readonly Dictionary<int, SortedDictionary<string, string>> _reference = [];
    private readonly Stopwatch _clock = new();
    private GwreproBackground _server = null!;
    private MotoServer? _moto;
    private TcpOutageProxy? _proxy;
    private IBucket _output = null!, _verify = null!;
    private string _outputRoot = "";
    private int _framesCommitted;

    private SoakRun(SoakOptions o, ClientRunDirectory run, Action<string> log)
    {
        _o = o;
        _run = run;
        _log = log;
        _workflow = WorkflowConfig.Load(run.Workflow);
    }

    /// <summary>The server's gRPC address.</summary>
    public string Address => $"127.0.0.1:{_grpcPort}";

    /// <summary>The server process now (a new one after each kill).</summary>
    public GwreproBackground Server => _server;

    /// <summary>Simulates the data, builds the Wiener repository with <see cref="SoakOptions.Slots"/> snapshotter instances, starts the server (and moto behind a proxy for a bucket outage) and cleans every segment with a lone job.</summary>
    /// <exception cref="InvalidOperationException">moto_server cannot be started (a bucket outage needs it).</exception>
    public static async Task<SoakRun> CreateAsync(SoakOptions o, Action<string> log, CancellationToken ct = default)
    {
        var run = await ClientRunDirectory.CreateAsync(o.RunOptions);
        var soak = new SoakRun(o, run, log);
        try
        {
            if (o.BucketOutage)
            {
                soak._moto = await MotoServer.StartAsync();
                soak._proxy = TcpOutageProxy.Start(soak._moto.Port);
                // Enough jittered retries (up to ~16 s in all) to ride out the outage; the verifier goes to moto directly.
                soak._output = new S3Bucket(BucketScheme.S3, "gwrepro-soak", Bucket(soak._proxy.Endpoint) with { MaxAttempts = 8, MaxRetryDelay = TimeSpan.FromSeconds(5) });
                soak._verify = new S3Bucket(BucketScheme.S3, "gwrepro-soak", Bucket(soak._moto.Endpoint));
                await ((S3Bucket)soak._verify).CreateAsync(ct);
                soak._outputRoot = "soak/";
            }
            else
            {
                soak._output = soak._verify = new LocalBucket(run.Path);
                soak._outputRoot = "soak/";
            }
            soak._server = await soak.StartServerAsync("server");
            var clock = Stopwatch.StartNew();
            for (int s = 0; s < o.Segments; s++)
            {
                string name = $"lone{s}";
                var result = await soak.RunClientJobAsync(name, s, (ulong)(900 + s), null, ct);
                soak._reference[s] = await soak.HashOutputsAsync(name, ct);
                if (soak._reference[s].Count != 6) throw new InvalidOperationException($"{name} wrote {soak._reference[s].Count} files, not 6 (2 frames x cleaned H1, L1 and scores)");
                log($"lone job for segment {s}: {result.FramesWritten} frames, {result.Retries} reconnects");
            }
            log($"{o.Segments} lone reference jobs in {clock.Elapsed.TotalSeconds:F1} s");
            return soak;
        }
        catch
        {
            await soak.DisposeAsync();
            throw;
        }
    }

    private static BucketOptions Bucket(string endpoint) => new()
    {
        Endpoint = endpoint,
        Region = "us-east-1",
        AccessKeyId = "soak-key",
        SecretAccessKey = "soak-secret",
        Environment = _ => null,
    };

    private async Task<GwreproBackground> StartServerAsync(string label)
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return await _run.StartServerAsync(_grpcPort, _metricsPort, _o.ServerThreads, label);
            }
            catch (InvalidOperationException e) when (attempt < 5 && e.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
            {
                // The killed server's port can linger for a moment.
                await Task.Delay(500);
            }
        }
    }

    private static Segment Core(int segment)
    {
        var start = GpsTime.FromSeconds(1_000_000_000 + SoakOptions.FrameSeconds * (segment + 1));
        return Segment.FromStart(start, GpsDuration.FromSeconds(SoakOptions.JobSeconds));
    }

    private string Prefix(string job) => $"{_outputRoot}{job}/";

    /// <summary>Runs one client job to its end, with the workflow's [cleaning] retries and jittered backoff; <paramref name="observe"/> gets its requests and answers.</summary>
    private async Task<ClientJobResult> RunClientJobAsync(string name, int segment, ulong sequenceId, JobObserver? observe, CancellationToken ct)
    {
        var core = Core(segment);
        var pad = GpsDuration.FromSeconds(_o.RunOptions.Padding);
        var job = new JobSpec(name, core, new Segment(core.Start - pad, core.End + pad), 0, sequenceId);
        var detectors = await WorkflowClientJob.DetectorInputsAsync(_workflow, _run.Path, job, _opener, ct);
        var settings = WorkflowClientJob.Settings(_workflow, job, detectors, _output, Prefix(name), new InferenceEndpoint(Address), Address, null) with
        {
            OnSent = observe is null ? null : observe.Sent,
            OnAnswered = observe is null ? null : observe.Answered,
            MetricsInterval = TimeSpan.FromSeconds(30),
        };
        var reporter = new SoakReporter(name, this);
        var result = await new ClientJob(settings, reporter).RunAsync(ct);
        if (observe is not null)
        {
            observe.Reconnects += result.Retries;
            observe.ResumedFromLaterFrame += reporter.ResumedFromLaterFrame;
        }
        return result;
    }

    /// <summary>SHA-256 of every cleaned frame and scores file the job wrote, by key below its prefix.</summary>
    private async Task<SortedDictionary<string, string>> HashOutputsAsync(string job, CancellationToken ct)
    {
        var hashes = new SortedDictionary<string, string>(StringComparer.Ordinal);
        string prefix = Prefix(job);
        foreach (var folder in OutputFolders)
            await foreach (var o in _verify.ListAsync(prefix + folder + "/", ct))
                hashes[o.Key[prefix.Length..]] = Convert.ToHexString(SHA256.HashData(await _verify.ReadAllBytesAsync(o.Key, ct)));
        return hashes;
    }

    private async Task DeleteOutputsAsync(string job, CancellationToken ct)
    {
        var keys = new List<string>();
        await foreach (var o in _verify.ListAsync(Prefix(job), ct)) keys.Add(o.Key);
        foreach (var k in keys) await _verify.DeleteAsync(k, ct);
    }

    /// <summary>Runs the soak: every stream runs jobs until the duration is over (or its rounds are done), with the faults the options ask for.</summary>
    public async Task<SoakResult> RunAsync(CancellationToken ct)
    {
        var jobs = new ConcurrentBag<SoakJob>();
        var roundTrips = new ConcurrentBag<double>();
        var failures = new ConcurrentQueue<string>();
        var rss = new List<(double, long)>();
        double serverFailures = 0, serverSuccesses = 0;
        int kills = 0;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        _clock.Restart();
        Volatile.Write(ref _framesCommitted, 0);
        var deadline = _o.Duration;

        async Task StreamAsync(int stream)
        {
            for (int k = 0; deadline is { } d ? _clock.Elapsed < d : k < _o.Rounds; k++)
            {
                int segment = (stream + k) % _o.Segments;
                string name = $"s{stream:D3}-{k:D4}";
                ulong sequenceId = (ulong)(1_000_000 + stream * 100_000 + k);
                var observe = new JobObserver(_clock, roundTrips);
                int reruns = 0;
                while (true)
                {
                    try
                    {
                        await RunClientJobAsync(name, segment, sequenceId, observe, stop.Token);
                        break;
                    }
                    catch (Exception e) when (!stop.IsCancellationRequested && reruns < 3)
                    {
                        // As a DAG RETRY would: the job runs again and resumes from its committed frames.
                        reruns++;
                        _log($"{name}: failed ({e.GetType().Name}: {e.Message.Split('\n')[0]}); rerun {reruns}");
                    }
                }
                var hashes = await HashOutputsAsync(name, stop.Token);
                string? mismatch = Compare(_reference[segment], hashes);
                if (mismatch is not null) failures.Enqueue($"{name} (segment {segment}): {mismatch}");
                jobs.Add(observe.Job(stream, name, segment, sequenceId, reruns, mismatch));
                await DeleteOutputsAsync(name, stop.Token);
            }
        }

        var sampler = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                if (ServerRss() is long bytes) lock (rss) rss.Add((_clock.Elapsed.TotalSeconds, bytes));
                try { await Task.Delay(TimeSpan.FromSeconds(2), stop.Token); } catch (OperationCanceledException) { }
            }
        });
        var streams = Enumerable.Range(0, _o.Streams).Select(s => Task.Run(() => StreamAsync(s))).ToList();
        var faults = Task.Run(async () =>
        {
            foreach (var (when, what) in FaultPlan())
            {
                while (!when() && !streams.All(s => s.IsCompleted)) await Task.Delay(50, stop.Token);
                if (streams.All(s => s.IsCompleted)) return;
                if (what == "kill")
                {
                    var (ok, failed) = await ScrapeAsync();
                    serverSuccesses += ok;
                    serverFailures += failed;
                    await _server.KillAsync();
                    await _server.DisposeAsync();
                    kills++;
                    _log($"{_clock.Elapsed.TotalSeconds:F1} s: server killed (SIGKILL) after {Volatile.Read(ref _framesCommitted)} frames committed");
                    await Task.Delay(TimeSpan.FromSeconds(1), stop.Token);
                    _server = await StartServerAsync($"server (restart {kills})");
                    _log($"{_clock.Elapsed.TotalSeconds:F1} s: server back");
                }
                else
                {
                    await _proxy!.StopAsync();
                    _log($"{_clock.Elapsed.TotalSeconds:F1} s: output bucket gone after {Volatile.Read(ref _framesCommitted)} frames committed");
                    // Away for at least the outage length, and until a client has been turned away (at most 30 s), so every outage meets the streams.
                    var away = Stopwatch.StartNew();
                    await Task.Delay(SoakOptions.OutageLength, stop.Token);
                    while (_proxy.ConnectionsTurnedAway == 0 && away.Elapsed < TimeSpan.FromSeconds(30)) await Task.Delay(50, stop.Token);
                    _proxy.Restart();
                    _log($"{_clock.Elapsed.TotalSeconds:F1} s: output bucket back after {away.Elapsed.TotalSeconds:F1} s, {_proxy.ConnectionsTurnedAway} connections turned away");
                }
            }
        });
        try
        {
            await Task.WhenAll(streams);
        }
        catch (Exception e)
        {
            failures.Enqueue($"a stream failed: {e.GetType().Name}: {e.Message.Split('\n')[0]}");
            await stop.CancelAsync();
        }
        double wall = _clock.Elapsed.TotalSeconds;
        await faults;
        var (success, failure) = await ScrapeAsync();
        await stop.CancelAsync();
        await sampler;
        return new SoakResult(_o, wall, jobs.OrderBy(j => j.Name, StringComparer.Ordinal).ToList(), roundTrips.ToList(), failures.ToList(),
            serverFailures + failure, serverSuccesses + success, rss, kills, _proxy?.Outages ?? 0, (_proxy?.ConnectionsReset ?? 0) + (_proxy?.ConnectionsTurnedAway ?? 0));
    }

    /// <summary>When each fault strikes: by time in a timed soak, by frames committed in a counted one (so a slow machine meets the same faults).</summary>
    private IEnumerable<(Func<bool> When, string What)> FaultPlan()
    {
        int total = _o.Streams * _o.Rounds * 2;
        Func<bool> At(double fraction) => _o.Duration is { } d
            ? () => _clock.Elapsed >= d * fraction
            : () => Volatile.Read(ref _framesCommitted) >= (int)(total * fraction);
        var plan = new List<(double, string)>();
        for (int i = 0; i < _o.ServerKills; i++) plan.Add((0.2 + 0.45 * i / Math.Max(1, _o.ServerKills - 1), "kill"));
        if (_o.BucketOutage) plan.Add((0.45, "bucket"));
        return plan.OrderBy(p => p.Item1).Select(p => (At(p.Item1), p.Item2)).ToList();
    }

    private static string? Compare(SortedDictionary<string, string> expected, SortedDictionary<string, string> actual)
    {
        var missing = expected.Keys.Except(actual.Keys).ToList();
        var extra = actual.Keys.Except(expected.Keys).ToList();
        var differ = expected.Keys.Intersect(actual.Keys).Where(k => expected[k] != actual[k]).ToList();
        if (missing.Count + extra.Count + differ.Count == 0) return null;
        return $"missing [{string.Join(", ", missing)}], extra [{string.Join(", ", extra)}], different bytes [{string.Join(", ", differ)}]";
    }

    private long? ServerRss()
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{_server.Id}/status"))
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                    return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException) { }
        return null;
    }

    /// <summary>The server's successful and failed requests so far, all models.</summary>
    private async Task<(double Success, double Failure)> ScrapeAsync()
    {
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{_metricsPort}"), Timeout = TimeSpan.FromSeconds(10) };
        var counters = ModelCounters.FromSamples(PrometheusText.Parse(await http.GetStringAsync("/metrics")));
        return (counters.Sum(c => c.RequestSuccess), counters.Sum(c => c.RequestFailure));
    }

    internal void FrameCommitted() => Interlocked.Increment(ref _framesCommitted);

    public async ValueTask DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
        if (_proxy is not null) await _proxy.DisposeAsync();
        if (!ReferenceEquals(_output, _verify)) _output?.Dispose();
        _verify?.Dispose();
        _moto?.Dispose();
        _opener.Dispose();
        _run.Dispose();
    }

    /// <summary>A job's reporter: counts committed frames for the fault plan, and reconnects that resumed past the first frame.</summary>
    private sealed class SoakReporter(string job, SoakRun soak) : IClientJobReporter
    {
        public int ResumedFromLaterFrame { get; private set; }

        public void Info(string line)
        {
            // "retry n of m in x s from frame k of K": k > 1 means the committed frames before it are not streamed again.
            // (frame 0: every frame was already committed when the stream broke.)
            int at = line.IndexOf(" from frame ", StringComparison.Ordinal);
            if (at >= 0 && int.TryParse(line[(at + 12)..].Split(' ')[0], CultureInfo.InvariantCulture, out int frame) && frame >= 2) ResumedFromLaterFrame++;
            if (line.Contains("stream error", StringComparison.Ordinal)) soak._log($"{job}: {line}");
        }

        public void FrameCommitted(Segment frame, int index, int total, double dataSecondsPerSecond) => soak.FrameCommitted();
    }

    /// <summary>Times a job's requests and answers on the run's clock.</summary>
    private sealed class JobObserver(Stopwatch clock, ConcurrentBag<double> roundTrips)
    {
        private long _sent, _answered;
        private double _firstSent = double.NaN, _lastSent, _firstAnswer = double.NaN, _firstRoundTrip = double.NaN;

        public int Reconnects { get; set; }

        public int ResumedFromLaterFrame { get; set; }

        public void Sent()
        {
            double now = clock.Elapsed.TotalSeconds;
            lock (this)
            {
                if (_sent++ == 0) _firstSent = now;
                _lastSent = now;
            }
        }

        public void Answered(TimeSpan roundTrip)
        {
            double now = clock.Elapsed.TotalSeconds;
            lock (this)
            {
                if (_answered++ == 0)
                {
                    _firstAnswer = now;
                    _firstRoundTrip = roundTrip.TotalSeconds;
                }
                // Requests sent before the sequence had its slot waited for it too: the slot wait is reported apart from the steady round trips.
                if (now - roundTrip.TotalSeconds < _firstAnswer) return;
            }
            roundTrips.Add(roundTrip.TotalSeconds);
        }

        public SoakJob Job(int stream, string name, int segment, ulong sequenceId, int reruns, string? mismatch)
        {
            lock (this)
                return new SoakJob(stream, name, segment, sequenceId, _firstSent, _lastSent, _firstAnswer, _firstRoundTrip, _sent, _answered,
                    Reconnects, ResumedFromLaterFrame, reruns, mismatch);
        }
    }
}
