using System.Diagnostics;
using GwReprocess.Data;
using GwReprocess.Frames;
using GwReprocess.Frames.Gwf;
using GwReprocess.Time;

namespace GwReprocess.Tests.Training;

/// <summary>
/// The published gwrepro-train (LibTorch does not load into the test host: it runs as its own program), the training root it
/// needs on hosts with an older libstdc++, and small handmade frames to train on: H1 strain with a 60 Hz line coupled from a mains
/// monitor, 48 s at 4096 Hz, plus a copy with a NaN in a witness and a pair of files with a gap between them.
/// </summary>
public sealed partial class TrainingProgramFixture : IAsyncLifetime
{
    public static readonly GpsTime T0 = GpsTime.FromSeconds(1_100_000_000);
    public const int Seconds = 48;

    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("gwrepro-train-");

    public string Root => _dir.FullName;

    /// <summary>The published program (GWREPRO_TRAIN, or published by this fixture into dist/train).</summary>
    public string Program { get; private set; } = "";

    /// <summary>The training root (GWREPRO_TRAINING_ROOT, or made by training/make-root.sh at its default place).</summary>
    public string TrainingRoot { get; private set; } = "";

    public string Frames => Path.Combine(Root, "H-H1_TEST-1100000000-48.gwf");

    public string NanFrames => Path.Combine(Root, "nan", "H-H1_TEST-1100000000-48.gwf");

    public string GapCache => Path.Combine(Root, "gap", "H1.lcf");

    public string Workflow => Path.Combine(Root, "train.toml");

    public async Task InitializeAsync()
    {
        string repo = SourceTree.Root;
        Program = Environment.GetEnvironmentVariable("GWREPRO_TRAIN") ?? Path.Combine(repo, "dist", "train", "gwrepro-train");
        if (Environment.GetEnvironmentVariable("GWREPRO_TRAIN") is null)
            await RunAsync("dotnet", ["publish", Path.Combine(repo, "src", "GwReprocess.Training"), "-c", "Release", "-r", "linux-x64", "-o", Path.GetDirectoryName(Program)!, "--nologo", "-v", "q"]);
        TrainingRoot = Environment.GetEnvironmentVariable("GWREPRO_TRAINING_ROOT") ?? "/var/cache/gwrepro/training-trixie";
        await RunAsync("bash", [Path.Combine(repo, "training", "make-root.sh"), TrainingRoot]);

        var rng = new Random(5);
        var strain = new double[4096 * Seconds];
        var mains = new double[512 * Seconds];
        var other = new double[256 * Seconds];
        for (int i = 0; i < mains.Length; i++) mains[i] = Math.Sin(2 * Math.PI * 60 * i / 512.0) + 1e-3 * Gaussian(rng);
        for (int i = 0; i < other.Length; i++) other[i] = 5 + Gaussian(rng);
        for (int i = 0; i < strain.Length; i++) strain[i] = 1e-21 * (Gaussian(rng) + 3 * Math.Sin(2 * Math.PI * 60 * i / 4096.0));
        await WriteAsync(Frames, strain, mains, other, T0, Seconds);
        var broken = (double[])other.Clone();
        broken[256 * 20 + 7] = double.NaN;
        Directory.CreateDirectory(Path.GetDirectoryName(NanFrames)!);
        await WriteAsync(NanFrames, strain, mains, broken, T0, Seconds);
        // Two 16 s files with 16 s missing between them.
        Directory.CreateDirectory(Path.GetDirectoryName(GapCache)!);
        var lines = new List<string>();
        foreach (int offset in (int[])[0, 32])
        {
            string path = Path.Combine(Root, "gap", $"H-H1_TEST-{1_100_000_000 + offset}-16.gwf");
            await WriteAsync(path, strain[(4096 * offset)..(4096 * (offset + 16))], mains[(512 * offset)..(512 * (offset + 16))],
                other[(256 * offset)..(256 * (offset + 16))], T0 + GpsDuration.FromSeconds(offset), 16);
            lines.Add($"H H1_TEST {1_100_000_000 + offset} 16 file://localhost{path}");
        }
        File.WriteAllLines(GapCache, lines);
        File.WriteAllText(Workflow, WorkflowText("H1:ASC-CHARD_P_INMON"));
    }

    /// <summary>A workflow naming H1's strain, the mains monitor and <paramref name="second"/> as witnesses.</summary>
    public static string WorkflowText(string second) => $"""
        [run]
        name = "train-test"
        [data]
        start = {T0}
        end = {T0 + GpsDuration.FromSeconds(Seconds)}
        [detectors.H1]
        strain = "H1:GDS-CALIB_STRAIN"
        witnesses = ["H1:PEM-CS_MAINSMON_EBAY_1_DQ", "{second}"]
        [cleaning]
        band_low = 55
        band_high = 65
        [inference]
        batch = 4
        [outputs]
        uri = "out"
        """;

    /// <summary>gwrepro-train's arguments for a seconds-long run on the fixture's frames (1 s windows, 2 epochs, 2 threads).</summary>
    public IReadOnlyList<string> QuickArguments(string repository, string report, int seed = 3, string? frames = null, string? workflow = null) =>
    [
        "deepclean", "--workflow", workflow ?? Workflow, "--fit", frames ?? Frames, "--out", repository, "--report", report,
        "--validation", "8", "--window", "1", "--stride", "1", "--batch-size", "8", "--epochs", "2", "--seed", seed.ToString(System.Globalization.CultureInfo.InvariantCulture),
        "--threads", "2", "--root", TrainingRoot,
    ];

    private readonly Dictionary<string, Task<TrainingRun>> _runs = [];

    /// <summary>A quick training into its own repository, run once per name and shared by the tests that read it.</summary>
    public Task<TrainingRun> SharedRunAsync(string name, int seed) => Once(name, () => RunQuickAsync(name, seed));

    /// <summary>The run named <paramref name="name"/>, started by <paramref name="start"/> the first time it is asked for.</summary>
    private Task<TrainingRun> Once(string name, Func<Task<TrainingRun>> start)
    {
        lock (_runs)
        {
            if (!_runs.TryGetValue(name, out var run))
                _runs[name] = run = start();
            return run;
        }
    }

    private async Task<TrainingRun> RunQuickAsync(string name, int seed)
    {
        string repo = Path.Combine(Root, name, "repo"), report = Path.Combine(Root, name, "report");
        var (code, stdout, stderr) = await TrainAsync(QuickArguments(repo, report, seed));
        return new TrainingRun(repo, report, code, stdout, stderr);
    }

    /// <summary>Runs gwrepro-train; returns exit code, stdout and stderr.</summary>
    public Task<(int ExitCode, string Stdout, string Stderr)> TrainAsync(IEnumerable<string> args, IReadOnlyDictionary<string, string?>? environment = null)
    {
        // The root comes from the arguments only, whatever the environment running the tests says.
        var env = new Dictionary<string, string?>(environment ?? new Dictionary<string, string?>());
        env.TryAdd("GWREPRO_TRAINING_ROOT", null);
        return RunProcessAsync(Program, args, Root, env, TimeSpan.FromMinutes(5));
    }

    private static async Task WriteAsync(string path, double[] strain, double[] mains, double[] other, GpsTime t0, int seconds)
    {
        var channels = new List<TimeSeries>
        {
            new(new ChannelName("H1:GDS-CALIB_STRAIN"), t0, new SampleRate(4096), strain, "strain"),
            new(new ChannelName("H1:PEM-CS_MAINSMON_EBAY_1_DQ"), t0, new SampleRate(512), mains),
            new(new ChannelName("H1:ASC-CHARD_P_INMON"), t0, new SampleRate(256), other),
        };
        await GwfWriter.WriteFileAsync(path, GwfFrameData.Split(channels, [Segment.FromStart(t0, GpsDuration.FromSeconds(seconds))]));
    }

    internal static async Task RunAsync(string file, IReadOnlyList<string> args)
    {
        var (code, stdout, stderr) = await RunProcessAsync(file, args, null, null, null);
        if (code != 0) throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited {code}:\n{stdout}\n{stderr}");
    }

    /// <summary>Runs a program to its end (or <paramref name="timeout"/>); a null value in <paramref name="environment"/> removes that variable.</summary>
    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunProcessAsync(string file, IEnumerable<string> args, string? workingDirectory,
        IReadOnlyDictionary<string, string?>? environment, TimeSpan? timeout)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (workingDirectory is not null) psi.WorkingDirectory = workingDirectory;
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (k, v) in environment ?? new Dictionary<string, string?>())
            if (v is null) psi.Environment.Remove(k); else psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cancel = timeout is { } t ? new CancellationTokenSource(t) : new CancellationTokenSource();
        await p.WaitForExitAsync(cancel.Token);
        return (p.ExitCode, await stdout, await stderr);
    }

    private static double Gaussian(Random rng) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    public Task DisposeAsync()
    {
        try { _dir.Delete(recursive: true); } catch (IOException) { }
        return Task.CompletedTask;
    }
}

/// <summary>One gwrepro-train run: where it wrote, and what it said.</summary>
public sealed record TrainingRun(string Repository, string Report, int ExitCode, string Stdout, string Stderr)
{
    public string Model => Path.Combine(Repository, "deepclean-h1", "1", "model.onnx");
}

/// <summary>Tests that run gwrepro-train share one publish and one set of frames; training takes both cores, so they run on their own.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TrainingProgramCollection : ICollectionFixture<TrainingProgramFixture>
{
    public const string Name = "gwrepro-train";
}
