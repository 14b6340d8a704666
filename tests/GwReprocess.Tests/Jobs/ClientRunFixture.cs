using System.Globalization;
using System.Text;
using GwReprocess.Data;
using GwReprocess.Dsp;
using GwReprocess.Frames;
using GwReprocess.Frames.Gwf;
using GwReprocess.Models;
using GwReprocess.Simulation;
using GwReprocess.Tests.Cli;
using GwReprocess.Time;
using GwReprocess.Workflow;

namespace GwReprocess.Tests.Jobs;

/// <summary>
/// A small run on loopback shared by the client tests: 736 s of simulated H1+L1 (21 witnesses each, 32 s files, injections),
/// Wiener cleaners fitted on 600 s (a shorter fit adds L1 noise in 30–130 Hz beyond ±10 % at the default ridge), the gwe2e repository built from them, and <c>gwrepro serve</c> as a real process.
/// The job cleans the last 96 s (core 80 s, 8 s padding) that the fit never saw.
/// </summary>
public sealed class ClientRunFixture : IAsyncLifetime
{
    public static readonly GpsTime T = GpsTime.FromSeconds(1_000_000_000);

    /// <summary>Stream geometry of the test repository: K = 4096 (1 s), stride 256 (r = 16 Hz), B = 8.</summary>
    public static readonly ModelRepositoryOptions Geometry = new() { SampleRate = 4096, KernelSeconds = 1, Stride = 256, Batch = 8, Witnesses = 21 };

    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("gwrepro-client-");
    private Task<GwreproProcess.Result>? _server;

    public string Root => _dir.FullName;
    public string Frames => Path.Combine(Root, "frames");
    public string Repository => Path.Combine(Root, "repo");
    public string Rendezvous => Path.Combine(Root, "rendezvous");
    public SimulationOptions Simulation { get; private set; } = null!;
    public SimulationResult Simulated { get; private set; } = null!;
    public IReadOnlyList<RepositoryModel> Models { get; private set; } = null!;
    public IReadOnlyDictionary<string, WienerCleaner> Cleaners { get; private set; } = null!;
    public string ServerAddress { get; private set; } = "";

    /// <summary>Wiener taps per witness.</summary>
    public const int Taps = 32;

    /// <summary>Ridge of the Wiener fit: the fit's default, as <c>gwrepro models build</c> uses it.</summary>
    public const double Ridge = WienerCleanerFit.DefaultRidge;

    public static IReadOnlyList<string> WitnessNames => SimulationOptions.DefaultWitnessNames.Take(21).ToList();

    public async Task InitializeAsync()
    {
        Simulation = new SimulationOptions
        {
            Start = T, Duration = 736, Ifos = ["H1", "L1"], FrameLength = 32, FrameDuration = 32, Seed = 7,
            Injections = new InjectionSettings { Rate = 0.05 },
        };
        Simulated = await SimulationRun.RunAsync(Simulation, new DirectoryOutput(Frames));

        var cleaners = new Dictionary<string, WienerCleaner>();
        var fitSpan = Segment.FromStart(T + GpsDuration.FromSeconds(8), GpsDuration.FromSeconds(600));
        foreach (var ifo in Simulation.Ifos)
        {
            var source = new FrameSource(FrameCache.Read(Path.Combine(Frames, SimulationRun.CacheName(ifo))));
            cleaners[ifo] = await WienerCleanerFit.FitAsync(source, ifo, new ChannelName($"{ifo}:GDS-CALIB_STRAIN"),
                WitnessNames.Select(n => new ChannelName($"{ifo}:{n}")).ToList(), fitSpan, SampleRate.Processing, Taps, 0, (15, 500), Ridge);
        }
        Cleaners = cleaners;
        var options = Geometry with
        {
            Cleaner = CleanerKind.Wiener,
            WienerFilters = cleaners.ToDictionary(c => c.Key, c => c.Value.Fir),
            WhiteningTaps = Simulation.Ifos.Select(i => Array.ConvertAll(Whitening.FirFromAsd(cleaners[i].StrainAsd, 4096, 257, lowCornerHz: 10), v => (float)v)).ToList(),
            WhiteningDescription = "test",
            SnapshotterInstances = 4,
        };
        var models = ModelRepositoryBuilder.Build(options);
        foreach (var c in cleaners.Values) c.Annotate(models.Single(m => m.Name == ModelRepositoryBuilder.CleanerName(CleanerKind.Wiener, c.Ifo)).Config);
        await ModelRepository.WriteAsync(Repository, models);
        Models = models;

        _server = GwreproProcess.RunAsync(["serve", "--model-repository", Repository, "--grpc-port", "0", "--http-port", "0", "--metrics-port", "0",
            "--name", "server0", "--rendezvous", Rendezvous, "--intra-op-threads", "1"], timeout: TimeSpan.FromMinutes(10));
        var published = Path.Combine(Rendezvous, "servers", "server0");
        for (int i = 0; i < 600 && !File.Exists(published) && !_server.IsCompleted; i++) await Task.Delay(100);
        if (!File.Exists(published)) throw new InvalidOperationException("server did not start: " + (_server.IsCompleted ? (await _server).StdErr : "timeout"));
        ServerAddress = File.ReadAllText(published).Trim();
    }

    /// <summary>A run directory: workflow.toml (the test's channels, [outputs] uri = out) and jobs.csv planned from it.</summary>
    public async Task<(string Workflow, string Jobs, JobPlan Plan)> RunDirectoryAsync(string name, string? extra = null, IReadOnlyList<string>? h1Witnesses = null, string? frames = null)
    {
        string dir = Path.Combine(Root, name);
        Directory.CreateDirectory(dir);
        string List(IEnumerable<string> w) => string.Join(", ", w.Select(x => $"\"{x}\""));
        var toml = new StringBuilder();
        toml.Append(CultureInfo.InvariantCulture, $"""
            [run]
            name = "client-test"

            [data]
            source = "simulated"
            start = {(T + GpsDuration.FromSeconds(640)).Seconds}
            end = {(T + GpsDuration.FromSeconds(736)).Seconds}

            [data.simulate]
            directory = "{frames ?? Frames}"

            [detectors.H1]
            strain = "H1:GDS-CALIB_STRAIN"
            witnesses = [{List(h1Witnesses ?? WitnessNames.Select(n => "H1:" + n))}]

            [detectors.L1]
            strain = "L1:GDS-CALIB_STRAIN"
            witnesses = [{List(WitnessNames.Select(n => "L1:" + n))}]

            [jobs]
            length = 4096
            minimum = 16
            padding = 8

            [inference]
            model_repository = "{Repository}"
            rate = 16
            batch = 8
            barrier_timeout = 5

            [outputs]
            uri = "out"

            """);
        if (extra is not null) toml.Append(extra).Append('\n');
        string workflow = Path.Combine(dir, "workflow.toml");
        await File.WriteAllTextAsync(workflow, toml.ToString());
        var plan = JobPlanner.Plan(WorkflowConfig.Load(workflow));
        string jobs = Path.Combine(dir, "jobs.csv");
        await plan.WriteCsvAsync(jobs);
        return (workflow, jobs, plan);
    }

    private Task<(string Out, JobPlan Plan, GwreproProcess.Result Result)>? _reference;

    /// <summary>The undisturbed run of the test job (run once, shared by the tests that compare against it).</summary>
    public Task<(string Out, JobPlan Plan, GwreproProcess.Result Result)> ReferenceRunAsync()
    {
        lock (this) return _reference ??= RunClientAsync("reference");
    }

    /// <summary>Runs the single job of a fresh run directory to completion as a real process.</summary>
    public async Task<(string Out, JobPlan Plan, GwreproProcess.Result Result)> RunClientAsync(string name, string? extra = null, IReadOnlyList<string>? h1Witnesses = null, string? frames = null)
    {
        var (workflow, jobs, plan) = await RunDirectoryAsync(name, extra, h1Witnesses, frames);
        var r = await GwreproProcess.RunAsync(ClientArguments(workflow, jobs, plan), timeout: TimeSpan.FromMinutes(4));
        return (Path.Combine(Path.GetDirectoryName(workflow)!, "out"), plan, r);
    }

    /// <summary>
    /// A copy of the simulated frames under <paramref name="name"/> (its caches naming the copies) in which <paramref name="channel"/>
    /// is NaN over the second half of the file <paramref name="fileName"/>; returns the copy's directory and that file.
    /// </summary>
    public async Task<(string Frames, string Victim)> FramesWithNanHalfAsync(string name, string channel, string fileName)
    {
        string frames = Path.Combine(Root, name);
        Directory.CreateDirectory(frames);
        foreach (var f in Directory.EnumerateFiles(Frames))
        {
            string target = Path.Combine(frames, Path.GetFileName(f));
            if (f.EndsWith(".lcf", StringComparison.Ordinal)) File.WriteAllText(target, File.ReadAllText(f).Replace(Frames, frames, StringComparison.Ordinal));
            else File.Copy(f, target);
        }
        string victim = Path.Combine(frames, fileName);
        if (!File.Exists(victim)) throw new FileNotFoundException($"the simulated run has no {fileName}", victim);
        GwfFrameData rewritten;
        await using (var file = await GwfFile.OpenAsync(victim))
        {
            var channels = new List<GwfChannelData>();
            foreach (var n in file.ChannelNames)
            {
                var s = await file.ReadAsync(n);
                var samples = s.Samples.ToArray();
                if (n == channel) samples.AsSpan(samples.Length / 2).Fill(double.NaN);
                channels.Add(GwfChannelData.FromSeries(s.WithSamples(samples), file.KindOf(n)));
            }
            rewritten = new GwfFrameData(file.Span.Start, file.Span.Duration, channels);
        }
        await GwfWriter.WriteFileAsync(victim, [rewritten]);
        return (frames, victim);
    }

    /// <summary>The DAG's client command line for the plan's job, against the test server.</summary>
    public string[] ClientArguments(string workflow, string jobs, JobPlan plan) =>
        ["client", "--workflow", workflow, "--jobs", jobs, "--job", plan.Jobs.Single().Name, "--server", ServerAddress];

    public async Task DisposeAsync()
    {
        Directory.CreateDirectory(Rendezvous);
        await File.WriteAllTextAsync(Path.Combine(Rendezvous, "stop"), "");
        if (_server is not null) try { await _server; } catch (TimeoutException) { }
        try { _dir.Delete(true); } catch (IOException) { }
    }
}

/// <summary>The client test classes share one simulated run and one server.</summary>
[CollectionDefinition(Name)]
public sealed class ClientRunCollection : ICollectionFixture<ClientRunFixture>
{
    public const string Name = "client run";
}
