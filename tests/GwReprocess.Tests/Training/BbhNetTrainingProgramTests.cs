using GwReprocess.Inference;
using GwReprocess.Models;
using GwReprocess.Tests.Models;

namespace GwReprocess.Tests.Training;

/// <summary>gwrepro-train bbhnet as users run it on the demo's repository: determinism, the export against TorchSharp, the ensemble it writes, the comparison report and bad input.</summary>
[Collection(TrainingProgramCollection.Name)]
public sealed class BbhNetTrainingProgramTests(TrainingProgramFixture f)
{
    private static string Model(TrainingRun run) => Path.Combine(run.Repository, "bbhnet", "1", "model.onnx");

    [Fact]
    public async Task The_same_seed_and_threads_give_bit_identical_weights_and_another_seed_does_not()
    {
        var a = await f.SharedBbhRunAsync("bbh-seed3-a", 3);
        var b = await f.SharedBbhRunAsync("bbh-seed3-b", 3);
        var c = await f.SharedBbhRunAsync("bbh-seed4", 4);
        foreach (var run in (TrainingRun[])[a, b, c]) Assert.True(run.ExitCode == 0, run.Stdout + run.Stderr);
        Assert.Contains("bbhnet epoch 2/2: train loss", a.Stdout);
        Assert.Equal(File.ReadAllBytes(Model(a)), File.ReadAllBytes(Model(b)));
        var weightsA = ModelRepository.ReadOnnx(Model(a)).Graph.Initializer.Select(i => i.RawData.ToBase64()).ToList();
        var weightsC = ModelRepository.ReadOnnx(Model(c)).Graph.Initializer.Select(i => i.RawData.ToBase64()).ToList();
        Assert.NotEqual(weightsA, weightsC);
    }

    [Theory]
    [InlineData("bbh-seed3-a", "bbhnet-deepfiltering")] // the default
    [InlineData("bbh-paper", "bbhnet")]
    public async Task The_exported_onnx_scores_as_torchsharp_did_within_1e5(string name, string architecture)
    {
        var run = architecture == "bbhnet" ? await f.SharedBbhRunAsync(name, 3, "--architecture", architecture) : await f.SharedBbhRunAsync(name, 3);
        Assert.True(run.ExitCode == 0, run.Stdout + run.Stderr);
        // The program wrote the whitened windows it fed TorchSharp (as postproc writes them) and TorchSharp's scores.
        using var check = new BinaryReader(File.OpenRead(Path.Combine(run.Report, "bbhnet-v1-check.bin")));
        int windows = check.ReadInt32(), detectors = check.ReadInt32(), kernel = check.ReadInt32();
        Assert.Equal((2, 4096), (detectors, kernel));
        var input = new float[windows * detectors * kernel];
        for (int i = 0; i < input.Length; i++) input[i] = check.ReadSingle();
        var torch = new float[windows];
        for (int i = 0; i < torch.Length; i++) torch[i] = check.ReadSingle();

        var model = ModelRepository.ReadOnnx(Model(run));
        var onnx = ModelTestSupport.Run(model, (ModelContract.DetectorInput, input, [windows, detectors, kernel]))[ModelContract.ScoreOutput];
        Assert.Equal([windows, 1], onnx.Shape);
        Assert.All(torch, s => Assert.InRange(s, 0f, 1f));
        double worst = 0;
        for (int i = 0; i < windows; i++) worst = Math.Max(worst, Math.Abs(torch[i] - onnx.Data[i]));
        Assert.True(worst <= 1e-5 * torch.Max(), $"ONNX Runtime differs from TorchSharp by {worst:E3}");
        Assert.True(torch.Max() - torch.Min() > 1e-4, "every window scored the same: the check windows or the network are degenerate");

        var (code, output) = ModelTestSupport.OnnxChecker([Model(run)]);
        Assert.True(code == 0, output);
        var meta = model.MetadataProps.ToDictionary(m => m.Key, m => m.Value);
        Assert.Equal("true", meta["trained"]);
        Assert.Equal("H1,L1", meta["ifos"]);
        Assert.Equal("[1000020000, 1000020096)", meta["training_span"]);
        Assert.Equal(architecture, meta["architecture"]);
        Assert.Equal("1025", meta["input_filter_taps"]);
    }

    [Fact]
    public async Task It_writes_an_ensemble_scoring_with_the_new_version_and_a_comparison_with_the_template_bank()
    {
        var run = await f.SharedBbhRunAsync("bbh-seed3-a", 3);
        Assert.True(run.ExitCode == 0, run.Stdout + run.Stderr);
        Assert.Empty(ModelRepositoryCheck.Check(run.Repository));
        var ensemble = ModelConfigFile.Read(Path.Combine(run.Repository, "gwe2e-deepclean-bbhnet", ModelConfigFile.FileName));
        var steps = ensemble.EnsembleScheduling.Step;
        var scorer = steps.Single(s => s.OutputMap.Values.Contains("score"));
        Assert.Equal(("bbhnet", 1L), (scorer.ModelName, scorer.ModelVersion));
        Assert.DoesNotContain(steps, s => s.ModelName == "bbh-templates");
        // Every other step is the base ensemble's, unchanged.
        var baseSteps = ModelConfigFile.Read(Path.Combine(run.Repository, "gwe2e-deepclean", ModelConfigFile.FileName)).EnsembleScheduling.Step;
        Assert.Equal(baseSteps.Where(s => s.ModelName != "bbh-templates").Select(s => s.ToString()), steps.Where(s => s.ModelName != "bbhnet").Select(s => s.ToString()));
        Assert.NotNull(ModelConfigFile.Read(Path.Combine(run.Repository, "bbhnet", ModelConfigFile.FileName)).VersionPolicy.All);

        Assert.Contains("cleaned by wiener-h1 v1", run.Stdout);
        var csv = File.ReadAllLines(Path.Combine(run.Report, "bbhnet-v1-efficiency.csv"));
        Assert.Equal("network_snr,bbhnet v1,bbh-templates", csv[0]);
        Assert.Equal(9, csv.Count(l => !l.StartsWith('#')));
        // The template bank was calibrated on this noise: loud sources clear its threshold, quiet ones mostly do not.
        var bank = csv.Skip(1).Where(l => !l.StartsWith('#')).Select(l => double.Parse(l.Split(',')[2], System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        Assert.True(bank[^1] >= 0.75 && bank[0] <= 0.25, string.Join("\n", csv));
        Assert.Contains("per-window false-alarm probability 0.001 (14.4 per hour", csv[^1]);
        foreach (var png in (string[])["bbhnet-v1-loss.png", "bbhnet-v1-efficiency.png", "bbhnet-v1-roc.png"])
            Assert.True(new FileInfo(Path.Combine(run.Report, png)).Length > 1000, png);
    }

    [Fact]
    public async Task Behind_the_stream_whitener_it_whitens_each_window_as_the_served_whitener_does_and_pins_the_new_version()
    {
        var (repo, args) = await StrainSearchAsync("bbh-stream", kernelSeconds: 1);
        var (code, stdout, stderr) = await f.TrainAsync(args);
        Assert.True(code == 0, stdout + stderr);
        Assert.Contains("with the stream whitener (FIR of 4095 taps from each window's preceding 8 s, Welch 4096 samples, mean; above 10 Hz)", stdout);
        // Training's C# whitening against the repository's whitener run in ONNX Runtime on held-out windows.
        var agree = System.Text.RegularExpressions.Regex.Match(stdout, @"the served whitener and training's agree within (\S+) of the whitened rms");
        Assert.True(agree.Success, stdout);
        Assert.InRange(double.Parse(agree.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), 0, 1e-3);
        Assert.Empty(ModelRepositoryCheck.Check(repo));
        Assert.True(File.Exists(Path.Combine(repo, "bbhnet", "2", ModelRepository.OnnxFileName)));
        var scorer = ModelConfigFile.Read(Path.Combine(repo, "search-bbhnet", ModelConfigFile.FileName)).EnsembleScheduling.Step.Single(s => s.OutputMap.Values.Contains("score"));
        Assert.Equal(("bbhnet", 2L), (scorer.ModelName, scorer.ModelVersion));
        Assert.DoesNotContain("cleaned by", stdout);
    }

    [Fact]
    public async Task A_window_too_short_for_the_layer_plan_is_refused_before_any_data_is_read()
    {
        // A strain-only repository of 0.5 s windows: enough for the paper-era plan, not for Deep Filtering's decimating filter and blocks.
        var (repo, args) = await StrainSearchAsync("bbh-short", kernelSeconds: 0.5);
        var before = Directory.GetFiles(repo, "*", SearchOption.AllDirectories).Order().ToList();
        var (code, stdout, stderr) = await f.TrainAsync(args);
        Assert.True(code == 2, $"exit {code}\n{stdout}\n{stderr}");
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, stderr);
        Assert.EndsWith("search/config.pbtxt: a 2048-sample window is too short for bbhnet-deepfiltering's 1025-tap input filter, convolutions and pooling; choose --architecture bbhnet or a longer window", lines[0]);
        Assert.DoesNotContain("reading", stdout);
        Assert.Equal(before, Directory.GetFiles(repo, "*", SearchOption.AllDirectories).Order().ToList());
    }

    /// <summary>A strain-only repository (stream whitener → BBHnet, windows of <paramref name="kernelSeconds"/>) under <paramref name="name"/>, and gwrepro-train's arguments to train its search ensemble as version 2.</summary>
    private async Task<(string Repository, List<string> Arguments)> StrainSearchAsync(string name, double kernelSeconds)
    {
        string background = await f.StrainBackgroundAsync();
        string repo = Path.Combine(f.Root, name, "repo"), report = Path.Combine(f.Root, name, "report");
        var built = await ModelRepositoryBuild.BuildAsync(new ModelRepositoryRequest
        {
            Directory = repo,
            Models = new ModelRepositoryOptions { KernelSeconds = kernelSeconds, Stride = 1024, Batch = 8, Witnesses = 0, Whitening = WhiteningMode.Stream, Detector = DetectorKind.BbhNet },
        });
        Assert.Empty(built.Problems);
        var args = f.QuickBbhArguments(background, repo, report).ToList();
        args[args.IndexOf("--workflow") + 1] = TrainingProgramFixture.StrainWorkflow;
        args[args.IndexOf("--ensemble-from") + 1] = "search";
        args.AddRange(["--ensemble", "search-bbhnet", "--version", "2"]);
        return (repo, args);
    }

    public static TheoryData<string, string> BadInputs => new()
    {
        { "no-ensemble", "no ensemble 'nope'" },
        { "outside", "1000030000" },
        { "same-name", "would overwrite the ensemble it is made from" },
        { "architecture", "--architecture 'resnet' is not one of bbhnet, bbhnet-deepfiltering" },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public async Task Bad_input_exits_2_with_one_line_naming_it_and_writes_nothing(string kind, string named)
    {
        string background = await f.BackgroundAsync();
        string repo = f.CopyCommittedRepository("bbh-bad-" + kind), report = Path.Combine(f.Root, "bbh-bad-" + kind, "report");
        var before = Directory.GetFiles(repo, "*", SearchOption.AllDirectories).Order().ToList();
        var args = f.QuickBbhArguments(background, repo, report).ToList();
        if (kind == "no-ensemble") args[args.IndexOf("--ensemble-from") + 1] = "nope";
        args.AddRange(kind switch
        {
            "no-ensemble" => [],
            "outside" => ["--start", "1000030000", "--end", "1000030160"],
            "architecture" => ["--architecture", "resnet"],
            _ => ["--ensemble", "gwe2e-deepclean"],
        });
        var (code, stdout, stderr) = await f.TrainAsync(args);
        Assert.True(code == 2, $"exit {code}\n{stdout}\n{stderr}");
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, stderr);
        Assert.StartsWith("gwrepro-train: ", lines[0]);
        Assert.Contains(named, lines[0]);
        Assert.DoesNotContain("epoch", stdout);
        Assert.Equal(before, Directory.GetFiles(repo, "*", SearchOption.AllDirectories).Order().ToList());
    }
}
