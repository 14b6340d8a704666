using System.Globalization;
using GwReprocess.Data;
using GwReprocess.Frames;
using GwReprocess.Frames.Gwf;
using GwReprocess.Models;
using GwReprocess.Tests.Cli;
using GwReprocess.Time;

namespace GwReprocess.Tests.Jobs;

/// <summary>
/// A strain-only run on loopback: 24 s of H1 and L1 strain at 4096 Hz in 4 s GWF files (uniform values in [−0.5, 0.5),
/// one H1 spike of 8 at <see cref="H1Spike"/> and one L1 spike of 5 at <see cref="L1Spike"/>), a LAL cache, the
/// <see cref="StrainOnlyRepository"/> and a plain <c>gwrepro serve</c>. Jobs score [T+4, T+20) with 4 s padding
/// (snapshot 2 s + 1 s resampler settling before; one update + settling after): four 4 s score spans.
/// </summary>
public sealed class StrainOnlyRunFixture : IAsyncLifetime
{
    public static readonly GpsTime T = GpsTime.FromSeconds(1_000_000_000);

    public const int Seconds = 24, FileSeconds = 4, Rate = 4096;

    public static readonly Segment Core = new(T + GpsDuration.FromSeconds(4), T + GpsDuration.FromSeconds(20));

    /// <summary>Sample (from T) of the H1 spike (T+10.5 s) and of the L1 spike (T+15.25 s + one sample).</summary>
    public const int H1Spike = 43008, L1Spike = 62465;

    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("gwrepro-strain-only-");

    public string Root => _dir.FullName;

    public string Cache => Path.Combine(Root, "frames", "strain.lcf");

    public string Repository => Path.Combine(Root, "repo");

    /// <summary>Each detector's strain from T, as written.</summary>
    public IReadOnlyDictionary<string, double[]> Strain { get; private set; } = null!;

    public GwreproBackground Server { get; private set; } = null!;

    public string ServerAddress { get; private set; } = "";

    public async Task InitializeAsync()
    {
        var strain = new Dictionary<string, double[]>();
        var files = new List<string>();
        int seed = 1;
        foreach (var ifo in new[] { "H1", "L1" })
        {
            var random = new Random(seed++);
            var x = new double[Seconds * Rate];
            for (int i = 0; i < x.Length; i++) x[i] = random.NextDouble() - 0.5;
            if (ifo == "H1") x[H1Spike] = 8;
            else x[L1Spike] = -5;
            strain[ifo] = x;
            var series = new TimeSeries(new ChannelName($"{ifo}:GDS-CALIB_STRAIN"), T, SampleRate.Processing, x, "strain");
            for (int f = 0; f < Seconds / FileSeconds; f++)
            {
                var span = Segment.FromStart(T + GpsDuration.FromSeconds(f * FileSeconds), GpsDuration.FromSeconds(FileSeconds));
                string path = Path.Combine(Root, "frames", GwfWriter.FileName(ifo[..1], $"{ifo}_TEST", span));
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                await GwfWriter.WriteFileAsync(path, GwfFrameData.Split([series], [span]));
                files.Add(path);
            }
        }
        Strain = strain;
        await FrameCache.FromFiles(files).WriteAsync(Cache);
        await ModelRepository.WriteAsync(Repository, StrainOnlyRepository.Build());
        int port = ClientRunDirectory.FreePort();
        Server = GwreproBackground.Start("server", ["serve", "--model-repository", Repository, "--grpc-port", port.ToString(CultureInfo.InvariantCulture),
            "--http-port", "0", "--metrics-port", "0", "--intra-op-threads", "1", "--inter-op-threads", "1"], Root);
        await Server.WaitForLineAsync("listening on", TimeSpan.FromSeconds(120));
        ServerAddress = $"127.0.0.1:{port}";
    }

    /// <summary>
    /// The expected score of the window ending at sample <paramref name="end"/> (from T): the largest |x| of either detector
    /// over the K samples before it, as float32 (what the stream carries).
    /// </summary>
    public double ExpectedScore(long end)
    {
        float max = 0;
        foreach (var x in Strain.Values)
            for (long i = end - StrainOnlyRepository.Window; i < end; i++) max = Math.Max(max, Math.Abs((float)x[i]));
        return max;
    }

    /// <summary>Writes <c>&lt;name&gt;/workflow.toml</c> (outputs in <c>&lt;name&gt;/out</c>); <paramref name="detectors"/> replaces the strain-only detector tables.</summary>
    public async Task<string> WorkflowAsync(string name, string? detectors = null, string ensemble = StrainOnlyRepository.Ensemble, int padding = 4)
    {
        string dir = Path.Combine(Root, name);
        Directory.CreateDirectory(dir);
        string workflow = Path.Combine(dir, "workflow.toml");
        await File.WriteAllTextAsync(workflow, WorkflowText(Cache, Repository, detectors, ensemble, padding));
        return workflow;
    }

    /// <summary>A strain-only workflow over <paramref name="cache"/> streaming to <paramref name="ensemble"/> of <paramref name="repository"/>; jobs of 16 s.</summary>
    public static string WorkflowText(string cache, string repository, string? detectors = null, string ensemble = StrainOnlyRepository.Ensemble, int padding = 4) =>
        string.Create(CultureInfo.InvariantCulture, $"""
            [run]
            name = "strain-only"

            [data]
            source = "cache"
            cache = "{cache}"
            start = {T.Seconds}
            end = {T.Seconds + Seconds}

            {detectors ?? "[detectors.H1]\nstrain = \"H1:GDS-CALIB_STRAIN\"\n\n[detectors.L1]\nstrain = \"L1:GDS-CALIB_STRAIN\""}

            [jobs]
            length = 16
            minimum = 4
            padding = {padding}

            [inference]
            model_repository = "{repository}"
            ensemble = "{ensemble}"
            rate = {Rate / StrainOnlyRepository.Stride}
            batch = {StrainOnlyRepository.Batch}

            [outputs]
            uri = "out"

            """);

    /// <summary>The one-off client command line for the core segment.</summary>
    public static string[] ClientArguments(string workflow, string server, params string[] extra) => OneOffClient.Arguments(workflow, Core, server, extra);

    public async Task DisposeAsync()
    {
        if (Server is not null) await Server.DisposeAsync();
        try { _dir.Delete(true); } catch (IOException) { }
    }
}

/// <summary>The strain-only client tests share one run and one server.</summary>
[CollectionDefinition(Name)]
public sealed class StrainOnlyRunCollection : ICollectionFixture<StrainOnlyRunFixture>
{
    public const string Name = "strain-only run";
}
