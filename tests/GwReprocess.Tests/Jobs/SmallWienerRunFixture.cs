using System.Globalization;
using System.Text;
using GwReprocess.Data;
using GwReprocess.Frames;
using GwReprocess.Models;
using GwReprocess.Simulation;
using GwReprocess.Tests.Cli;
using GwReprocess.Time;

namespace GwReprocess.Tests.Jobs;

/// <summary>
/// A small run for the client's option tests (causal aggregation, TLS): 64 s of simulated H1+L1 (16 s files, 3 witnesses),
/// Wiener cleaners fitted in process with look-ahead (so a window's last samples lack the future the taps want, and where a
/// sample sits in a window matters), the gwe2e repository built from them, and a plain <c>gwrepro serve</c>.
/// The job cleans [T+16, T+48) with 8 s padding: two 16 s output frames.
/// </summary>
public sealed class SmallWienerRunFixture : IAsyncLifetime
{
    public static readonly GpsTime T = GpsTime.FromSeconds(1_000_000_000);

    /// <summary>K = 4096 (1 s), stride 256 (r = 16 Hz), B = 4 (0.25 s updates).</summary>
    public static readonly ModelRepositoryOptions Geometry = new() { SampleRate = 4096, KernelSeconds = 1, Stride = 256, Batch = 4, Witnesses = 3 };

    /// <summary>Taps per witness, and future samples each tap set uses.</summary>
    public const int Taps = 32, Advance = 16;

    public static readonly Segment Core = new(T + GpsDuration.FromSeconds(16), T + GpsDuration.FromSeconds(48));

    public static readonly GpsDuration Padding = GpsDuration.FromSeconds(8);

    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("gwrepro-client-options-");

    public string Root => _dir.FullName;

    public string Frames => Path.Combine(Root, "frames");

    public string Repository => Path.Combine(Root, "repo");

    public IReadOnlyDictionary<string, WienerCleaner> Cleaners { get; private set; } = null!;

    public GwreproBackground Server { get; private set; } = null!;

    public string ServerAddress { get; private set; } = "";

    public static IReadOnlyList<string> WitnessNames => SimulationOptions.DefaultWitnessNames.Take(3).ToList();

    public async Task InitializeAsync()
    {
        var simulation = new SimulationOptions
        {
            Start = T, Duration = 64, Ifos = ["H1", "L1"], FrameLength = 16, FrameDuration = 16, Seed = 11, Witnesses = 3,
            Injections = new InjectionSettings { Rate = 0.02 },
        };
        await SimulationRun.RunAsync(simulation, new DirectoryOutput(Frames));
        var cleaners = new Dictionary<string, WienerCleaner>();
        foreach (var ifo in simulation.Ifos)
        {
            var source = new FrameSource(FrameCache.Read(Path.Combine(Frames, SimulationRun.CacheName(ifo))));
            cleaners[ifo] = await WienerCleanerFit.FitAsync(source, ifo, new ChannelName($"{ifo}:GDS-CALIB_STRAIN"),
                WitnessNames.Select(n => new ChannelName($"{ifo}:{n}")).ToList(), Segment.FromStart(T, GpsDuration.FromSeconds(64)),
                SampleRate.Processing, Taps, Advance, (15, 500));
        }
        Cleaners = cleaners;
        var models = ModelRepositoryBuilder.Build(Geometry with
        {
            Cleaner = CleanerKind.Wiener,
            WienerFilters = cleaners.ToDictionary(c => c.Key, c => c.Value.Fir),
            SnapshotterInstances = 2,
        });
        foreach (var c in cleaners.Values) c.Annotate(models.Single(m => m.Name == ModelRepositoryBuilder.CleanerName(CleanerKind.Wiener, c.Ifo)).Config);
        await ModelRepository.WriteAsync(Repository, models);
        int port = ClientRunDirectory.FreePort();
        Server = await StartServerAsync("server", port);
        ServerAddress = $"127.0.0.1:{port}";
    }

    /// <summary>Starts <c>gwrepro serve</c> on the repository and <paramref name="grpcPort"/>, with <paramref name="extra"/> arguments (TLS, token); waits until it listens.</summary>
    public async Task<GwreproBackground> StartServerAsync(string label, int grpcPort, params string[] extra)
    {
        var server = GwreproBackground.Start(label, ["serve", "--model-repository", Repository, "--grpc-port", grpcPort.ToString(CultureInfo.InvariantCulture),
            "--http-port", "0", "--metrics-port", "0", "--intra-op-threads", "1", "--inter-op-threads", "1", .. extra], Root);
        await server.WaitForLineAsync("listening on", TimeSpan.FromSeconds(120));
        return server;
    }

    /// <summary>Writes <c>&lt;name&gt;/workflow.toml</c> (outputs in <c>&lt;name&gt;/out</c>) with extra <c>[cleaning]</c> and <c>[inference]</c> keys; returns its path.</summary>
    public async Task<string> WorkflowAsync(string name, string cleaning = "", string inference = "")
    {
        string dir = Path.Combine(Root, name);
        Directory.CreateDirectory(dir);
        string List(string ifo) => string.Join(", ", WitnessNames.Select(w => $"\"{ifo}:{w}\""));
        var toml = new StringBuilder();
        toml.Append(CultureInfo.InvariantCulture, $"""
            [run]
            name = "client-options"

            [data]
            source = "simulated"
            start = {T.Seconds}
            end = {T.Seconds + 64}

            [data.simulate]
            directory = "{Frames}"

            [detectors.H1]
            strain = "H1:GDS-CALIB_STRAIN"
            witnesses = [{List("H1")}]

            [detectors.L1]
            strain = "L1:GDS-CALIB_STRAIN"
            witnesses = [{List("L1")}]

            [jobs]
            length = 32
            minimum = 16
            padding = {Padding.TotalSeconds}

            [inference]
            model_repository = "{Repository}"
            rate = 16
            batch = 4
            {inference}

            [cleaning]
            {cleaning}

            [outputs]
            uri = "out"

            """);
        string workflow = Path.Combine(dir, "workflow.toml");
        await File.WriteAllTextAsync(workflow, toml.ToString());
        return workflow;
    }

    /// <summary>The one-off client command line for the core segment (no barrier: there are no jobs.csv).</summary>
    public static string[] ClientArguments(string workflow, string server, params string[] extra) => OneOffClient.Arguments(workflow, Core, server, extra);

    public async Task DisposeAsync()
    {
        if (Server is not null) await Server.DisposeAsync();
        try { _dir.Delete(true); } catch (IOException) { }
    }
}

/// <summary>The client option tests share one small simulated run, its Wiener repository and a server.</summary>
[CollectionDefinition(Name)]
public sealed class SmallWienerRunCollection : ICollectionFixture<SmallWienerRunFixture>
{
    public const string Name = "small wiener run";
}
