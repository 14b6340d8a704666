using System.Globalization;
using GwReprocess.Simulation;
using GwReprocess.Time;
using GwReprocess.Workflow;

namespace GwReprocess.Tests.Training;

/// <summary>What the BBHnet tests share: injection-free background simulated as the demo simulates it, and a copy of the committed repository per run.</summary>
public sealed partial class TrainingProgramFixture
{
    /// <summary>Start of the simulated background: far from the demo's hour, so none of its frames or injections are reused.</summary>
    public static readonly GpsTime BackgroundStart = GpsTime.FromSeconds(1_000_020_000);

    public const int BackgroundSeconds = 160;

    private Task<string>? _background;

    private Task<string>? _strainBackground;

    /// <summary>The strain-only search workflow (H1 + L1, no witnesses), which model-repository-strain serves.</summary>
    public static string StrainWorkflow => Path.Combine(SourceTree.Root, "workflows", "local-search.toml");

    /// <summary>Like <see cref="BackgroundAsync"/>, the strain-only simulation (no witnesses) over the same span.</summary>
    public Task<string> StrainBackgroundAsync()
    {
        lock (_runs) return _strainBackground ??= SimulateAsync(StrainWorkflow, "strain-background");
    }

    /// <summary>The demo workflow (H1 + L1, 21 witnesses each), which the committed repository was built for.</summary>
    public static string DemoWorkflow => Path.Combine(SourceTree.Root, "workflows", "local-demo.toml");

    /// <summary>A <c>gwrepro simulate</c>-style directory of the demo's simulation over <see cref="BackgroundSeconds"/> s without injections.</summary>
    public Task<string> BackgroundAsync()
    {
        lock (_runs) return _background ??= SimulateAsync(DemoWorkflow, "bbh-background");
    }

    private async Task<string> SimulateAsync(string workflow, string name)
    {
        string dir = Path.Combine(Root, name);
        var options = WorkflowSimulation.Options(WorkflowConfig.Load(workflow)) with
        {
            Start = BackgroundStart,
            Duration = BackgroundSeconds,
            FrameLength = BackgroundSeconds,
            Injections = new InjectionSettings { Rate = 0 },
        };
        await SimulationRun.RunAsync(options, new DirectoryOutput(dir));
        return dir;
    }

    /// <summary>A copy of the committed model-repository under <paramref name="name"/>, without the BBHnet trained for the demo and its ensemble (what the training writes).</summary>
    public string CopyCommittedRepository(string name)
    {
        string target = Path.Combine(Root, name, "repo");
        TestDirectories.Copy(Path.Combine(SourceTree.Root, "model-repository"), target, model => model is "bbhnet" or "gwe2e-deepclean-bbhnet");
        return target;
    }

    /// <summary>gwrepro-train bbhnet's arguments for a seconds-long run: 64 s held out, 2 epochs of 16 steps, few sources, 2 threads.</summary>
    public IReadOnlyList<string> QuickBbhArguments(string background, string repository, string report, int seed = 3) =>
    [
        "bbhnet", "--workflow", DemoWorkflow, "--ensemble-from", "gwe2e-deepclean", "--fit", background, "--out", repository, "--report", report,
        "--validation", "64", "--epochs", "2", "--epoch-windows", "512", "--batch-size", "32", "--injections", "64", "--validation-injections", "32", "--evaluation-sources", "8",
        "--seed", seed.ToString(CultureInfo.InvariantCulture), "--threads", "2", "--root", TrainingRoot,
    ];

    /// <summary>A quick BBHnet training into its own copy of the committed repository, run once per name, with <paramref name="extra"/> arguments.</summary>
    public Task<TrainingRun> SharedBbhRunAsync(string name, int seed, params string[] extra) => Once(name, () => RunBbhAsync(name, seed, extra));

    private async Task<TrainingRun> RunBbhAsync(string name, int seed, string[] extra)
    {
        string background = await BackgroundAsync();
        string repo = CopyCommittedRepository(name), report = Path.Combine(Root, name, "report");
        var (code, stdout, stderr) = await TrainAsync([.. QuickBbhArguments(background, repo, report, seed), .. extra]);
        return new TrainingRun(repo, report, code, stdout, stderr);
    }
}
