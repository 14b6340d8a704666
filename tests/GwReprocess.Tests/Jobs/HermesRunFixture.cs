using System.Globalization;
using GwReprocess.Inference;
using GwReprocess.Simulation;
using GwReprocess.Tests.Cli;
using GwReprocess.Time;

namespace GwReprocess.Tests.Jobs;

/// <summary>
/// A small hermes-contract run on loopback: 16 s of simulated H1+L1 (8 witnesses, 4 s files), the hermes DeepClean repository
/// (tests/data/peer/hermes-deepclean) plus a second ensemble for L1 written beside it at test time, and <c>gwrepro serve --allow-cpu-fallback</c> (hermes writes KIND_GPU).
/// The job cleans [T+4, T+12) with 4 s padding (K 1 s + margin 1 s + resampler settling 1 s, and after them one update): two 4 s frames.
/// </summary>
public sealed class HermesRunFixture : IAsyncLifetime
{
    public static readonly GpsTime T = GpsTime.FromSeconds(1_000_000_000);

    public static readonly Segment Core = new(T + GpsDuration.FromSeconds(4), T + GpsDuration.FromSeconds(12));

    public static readonly Segment Padded = new(T, T + GpsDuration.FromSeconds(16));

    /// <summary>The ensemble hermes wrote, and the L1 copy (its own aggregator, so each detector's sequence has its own slot).</summary>
    public const string H1Ensemble = "deepclean-stream-0.5", L1Ensemble = "deepclean-stream-0.5-l1";

    public const int Witnesses = 8;

    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("gwrepro-hermes-");

    public string Root => _dir.FullName;

    public string Frames => Path.Combine(Root, "frames");

    public string Repository => Path.Combine(Root, "repo");

    public static string Committed => Path.Combine(AppContext.BaseDirectory, "data", "peer", "hermes-deepclean");

    public GwreproBackground Server { get; set; } = null!;

    public int Port { get; private set; }

    public string ServerAddress => $"127.0.0.1:{Port}";

    public static IReadOnlyList<string> WitnessNames => SimulationOptions.DefaultWitnessNames.Take(Witnesses).ToList();

    public async Task InitializeAsync()
    {
        await SimulationRun.RunAsync(new SimulationOptions
        {
            Start = T, Duration = 16, Ifos = ["H1", "L1"], FrameLength = 2, FrameDuration = 2, Seed = 5, Witnesses = Witnesses,
            Injections = new InjectionSettings { Rate = 0 },
        }, new DirectoryOutput(Frames));
        TestDirectories.Copy(Committed, Repository);
        await AddCopyAsync(Repository, "-l1");
        await AddRawAsync(Repository);
        Port = ClientRunDirectory.FreePort();
        Server = await StartServerAsync("server");
    }

    /// <summary>Adds <c>deepclean-stream-0.5{suffix}</c> with its own <c>aggregator-0.5{suffix}</c> (the snapshotter has two instances and the network is stateless, so those are shared).</summary>
    public static async Task AddCopyAsync(string repository, string suffix)
    {
        TestDirectories.Copy(Path.Combine(repository, "aggregator-0.5"), Path.Combine(repository, "aggregator-0.5" + suffix));
        var aggregator = ModelConfigFile.Read(Path.Combine(repository, "aggregator-0.5" + suffix, ModelConfigFile.FileName));
        aggregator.Name += suffix;
        await ModelConfigFile.WriteAsync(Path.Combine(repository, "aggregator-0.5" + suffix, ModelConfigFile.FileName), aggregator);
        TestDirectories.Copy(Path.Combine(repository, H1Ensemble), Path.Combine(repository, H1Ensemble + suffix));
        var ensemble = ModelConfigFile.Read(Path.Combine(repository, H1Ensemble + suffix, ModelConfigFile.FileName));
        ensemble.Name += suffix;
        foreach (var step in ensemble.EnsembleScheduling.Step)
            if (step.ModelName == "aggregator-0.5") step.ModelName += suffix;
        await ModelConfigFile.WriteAsync(Path.Combine(repository, H1Ensemble + suffix, ModelConfigFile.FileName), ensemble);
    }

    /// <summary>The ensemble without its aggregator, returning the network's raw windows (for client-side averaging).</summary>
    public const string RawEnsemble = "deepclean-raw";

    /// <summary>Adds <see cref="RawEnsemble"/>: snapshotter → deepclean, output <c>noise</c> [32, 4096].</summary>
    public static async Task AddRawAsync(string repository)
    {
        TestDirectories.Copy(Path.Combine(repository, H1Ensemble), Path.Combine(repository, RawEnsemble));
        var ensemble = ModelConfigFile.Read(Path.Combine(repository, RawEnsemble, ModelConfigFile.FileName));
        ensemble.Name = RawEnsemble;
        ensemble.EnsembleScheduling.Step.Remove(ensemble.EnsembleScheduling.Step.Single(s => s.ModelName == "aggregator-0.5"));
        ensemble.Output.Clear();
        ensemble.Output.Add(new global::Inference.ModelOutput { Name = "noise", DataType = global::Inference.DataType.TypeFp32, Dims = { 32, 4096 } });
        await ModelConfigFile.WriteAsync(Path.Combine(repository, RawEnsemble, ModelConfigFile.FileName), ensemble);
    }

    /// <summary>Starts <c>gwrepro serve</c> on the repository and the fixture's port; waits until it listens.</summary>
    public async Task<GwreproBackground> StartServerAsync(string label)
    {
        var server = GwreproBackground.Start(label, ["serve", "--model-repository", Repository, "--grpc-port", Port.ToString(CultureInfo.InvariantCulture),
            "--http-port", "0", "--metrics-port", "0", "--intra-op-threads", "1", "--inter-op-threads", "1", "--allow-cpu-fallback"], Root);
        await server.WaitForLineAsync("listening on", TimeSpan.FromSeconds(120));
        return server;
    }

    /// <summary>Writes <c>&lt;name&gt;/workflow.toml</c> (outputs in <c>&lt;name&gt;/out</c>), each detector naming its hermes ensemble; returns its path.</summary>
    public async Task<string> WorkflowAsync(string name, string cleaning = "")
    {
        string dir = Path.Combine(Root, name);
        Directory.CreateDirectory(dir);
        string workflow = Path.Combine(dir, "workflow.toml");
        await File.WriteAllTextAsync(workflow, WorkflowText(Frames, Repository, cleaning));
        return workflow;
    }

    /// <summary>The test workflow's text: H1 and L1 with 8 witnesses each, on their own hermes ensembles.</summary>
    public static string WorkflowText(string frames, string repository, string cleaning = "")
    {
        string List(string ifo) => string.Join(", ", WitnessNames.Select(w => $"\"{ifo}:{w}\""));
        string toml = string.Create(CultureInfo.InvariantCulture, $"""
            [run]
            name = "hermes"

            [data]
            source = "simulated"
            start = {T.Seconds}
            end = {T.Seconds + 16}

            [data.simulate]
            directory = "{frames}"

            [detectors.H1]
            strain = "H1:GDS-CALIB_STRAIN"
            witnesses = [{List("H1")}]
            ensemble = "{H1Ensemble}"

            [detectors.L1]
            strain = "L1:GDS-CALIB_STRAIN"
            witnesses = [{List("L1")}]
            ensemble = "{L1Ensemble}"

            [jobs]
            length = 8
            minimum = 4
            padding = 4

            [inference]
            model_repository = "{repository}"
            rate = 256
            batch = 32

            [cleaning]
            band_low = 55
            band_high = 65
            margin = 1
            {cleaning}

            [outputs]
            uri = "out"

            """);
        return toml;
    }

    /// <summary>The one-off client command line for the core segment.</summary>
    public static string[] ClientArguments(string workflow, string server) => OneOffClient.Arguments(workflow, Core, server);

    public async Task DisposeAsync()
    {
        if (Server is not null) await Server.DisposeAsync();
        try { _dir.Delete(true); } catch (IOException) { }
    }
}

/// <summary>The hermes client tests share one simulated run and one server.</summary>
[CollectionDefinition(Name)]
public sealed class HermesRunCollection : ICollectionFixture<HermesRunFixture>
{
    public const string Name = "hermes run";
}
