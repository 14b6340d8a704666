using System.Text;
using GwReprocess.Inference;
using GwReprocess.Models;
using GwReprocess.Models.Onnx.Protos;
using GwReprocess.Tests.Models;
using GwReprocess.Time;

namespace GwReprocess.Tests.Training;

/// <summary>gwrepro-train deepclean as users run it: determinism, the ONNX export against TorchSharp, bad input and the host check.</summary>
[Collection(TrainingProgramCollection.Name)]
public sealed class DeepCleanTrainingProgramTests(TrainingProgramFixture f)
{
    [Fact]
    public async Task The_same_seed_and_threads_give_bit_identical_weights_and_another_seed_does_not()
    {
        var a = await f.SharedRunAsync("seed3-a", 3);
        var b = await f.SharedRunAsync("seed3-b", 3);
        var c = await f.SharedRunAsync("seed4", 4);
        foreach (var run in (TrainingRun[])[a, b, c]) Assert.True(run.ExitCode == 0, run.Stdout + run.Stderr);
        Assert.Contains("H1 epoch 2/2: train loss", a.Stdout);
        Assert.Equal(File.ReadAllBytes(a.Model), File.ReadAllBytes(b.Model));
        var weightsA = ModelRepository.ReadOnnx(a.Model).Graph.Initializer.Select(i => i.RawData.ToBase64()).ToList();
        var weightsC = ModelRepository.ReadOnnx(c.Model).Graph.Initializer.Select(i => i.RawData.ToBase64()).ToList();
        Assert.NotEqual(weightsA, weightsC);
    }

    [Fact]
    public async Task The_exported_onnx_answers_as_torchsharp_did_within_1e5_of_the_peak()
    {
        var run = await f.SharedRunAsync("seed3-a", 3);
        Assert.True(run.ExitCode == 0, run.Stdout + run.Stderr);
        // The program wrote the raw witness windows it fed TorchSharp and TorchSharp's answer; ONNX Runtime here repeats the second half.
        using var check = new BinaryReader(File.OpenRead(Path.Combine(run.Report, "deepclean-h1-v1-check.bin")));
        int windows = check.ReadInt32(), channels = check.ReadInt32(), kernel = check.ReadInt32();
        Assert.Equal((2, 4096), (channels, kernel));
        var input = new float[windows * channels * kernel];
        for (int i = 0; i < input.Length; i++) input[i] = check.ReadSingle();
        var torch = new float[windows * kernel];
        for (int i = 0; i < torch.Length; i++) torch[i] = check.ReadSingle();

        var model = ModelRepository.ReadOnnx(run.Model);
        var onnx = ModelTestSupport.Run(model, (ModelContract.WitnessInput, input, [windows, channels, kernel]))[ModelContract.NoiseOutput];
        Assert.Equal([windows, kernel], onnx.Shape);
        double peak = torch.Max(MathF.Abs), worst = 0;
        for (int i = 0; i < torch.Length; i++) worst = Math.Max(worst, Math.Abs(torch[i] - onnx.Data[i]));
        Assert.True(peak > 1e-23, $"TorchSharp's output peak {peak:E3} is not a strain-scale noise estimate");
        Assert.True(worst <= 1e-5 * peak, $"ONNX Runtime differs from TorchSharp by {worst:E3}, {worst / peak:E2} of the peak {peak:E3}");

        var (code, output) = ModelTestSupport.OnnxChecker([run.Model]);
        Assert.True(code == 0, output);
        Assert.Empty(ModelRepositoryCheck.Check(run.Repository));
        var config = ModelConfigFile.Read(Path.Combine(run.Repository, "deepclean-h1", ModelConfigFile.FileName));
        Assert.NotNull(config.VersionPolicy.All);
        Assert.Equal("H1:PEM-CS_MAINSMON_EBAY_1_DQ,H1:ASC-CHARD_P_INMON", config.Parameters[WienerCleaner.ChannelsParameter].StringValue);
        var meta = model.MetadataProps.ToDictionary(m => m.Key, m => m.Value);
        Assert.Equal("true", meta["trained"]);
        Assert.Equal("55-65", meta["bands_hz"]);
        Assert.Equal("strain", meta["strain_unit"]);
        Assert.True(File.Exists(Path.Combine(run.Report, "deepclean-h1-v1-loss.png")));
        Assert.StartsWith("epoch,train_loss,validation_loss", File.ReadAllText(Path.Combine(run.Report, "deepclean-h1-v1-history.csv")));
        Assert.Empty(Directory.GetDirectories(Path.Combine(run.Repository, "deepclean-h1"), ".partial-*"));
    }

    public static TheoryData<string, string> BadInputs => new()
    {
        { "nan", "H1:ASC-CHARD_P_INMON: NaN sample at GPS 1100000020.027" },
        { "missing-channel", "H1:ASC-NOPE_P_INMON" },
        { "outside", "1100000100" },
        { "gap", "1100000016" },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public async Task Bad_input_exits_2_with_one_line_naming_it_and_writes_nothing(string kind, string named)
    {
        string dir = Path.Combine(f.Root, "bad-" + kind);
        Directory.CreateDirectory(dir);
        string repo = Path.Combine(dir, "repo");
        var args = kind switch
        {
            "nan" => f.QuickArguments(repo, dir, frames: f.NanFrames),
            "missing-channel" => f.QuickArguments(repo, dir, workflow: WriteWorkflow(dir, "H1:ASC-NOPE_P_INMON")),
            "outside" => [.. f.QuickArguments(repo, dir), "--start", "1100000100", "--end", "1100000148"],
            _ => [.. f.QuickArguments(repo, dir, frames: f.GapCache), "--start", "1100000000", "--end", "1100000048"],
        };
        var (code, stdout, stderr) = await f.TrainAsync(args);
        Assert.True(code == 2, $"exit {code}\n{stdout}\n{stderr}");
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, stderr);
        Assert.StartsWith("gwrepro-train: ", lines[0]);
        Assert.Contains(named, lines[0]);
        Assert.DoesNotContain("epoch", stdout);
        Assert.False(Directory.Exists(repo), $"{repo} was created");
    }

    [Theory]
    [InlineData("0.5 Hz order 4", "", "fitted on witnesses high-passed at 0.5 Hz order 4, the workflow's [cleaning] witness_highpass gives none")]
    [InlineData(null, "witness_highpass = 1.0", "fitted on witnesses without a high-pass, the workflow's [cleaning] witness_highpass gives high-passed at 1 Hz order 4")]
    public async Task Sharing_a_Wiener_cleaners_scales_needs_the_witness_highpass_it_was_fitted_with(string? fitted, string cleaning, string named)
    {
        // --ensemble-from trains on the Wiener cleaner's scales, fitted on witnesses through its own high-pass: another is refused before training.
        string dir = Path.Combine(f.Root, "highpass-" + (fitted ?? "none").Replace(' ', '-'));
        string repo = Path.Combine(dir, "repo");
        var wiener = new global::Inference.ModelConfig { Name = "wiener-h1" };
        wiener.Parameters[GwReprocess.Models.WienerCleaner.ChannelsParameter] = new global::Inference.ModelParameter { StringValue = "H1:PEM-CS_MAINSMON_EBAY_1_DQ,H1:ASC-CHARD_P_INMON" };
        wiener.Parameters[GwReprocess.Models.WienerCleaner.ScalingParameter] = new global::Inference.ModelParameter { StringValue = "0:0.7,5:1" };
        GwReprocess.Models.WienerCleaner.AnnotateHighpass(wiener, fitted is null ? null : GwReprocess.Dsp.WitnessHighpass.Parse(fitted));
        await GwReprocess.Inference.ModelConfigFile.WriteAsync(Path.Combine(repo, "wiener-h1", "config.pbtxt"), wiener);
        await GwReprocess.Inference.ModelConfigFile.WriteAsync(Path.Combine(repo, "gwe2e", "config.pbtxt"), new global::Inference.ModelConfig { Name = "gwe2e", Platform = "ensemble" });
        string workflow = Path.Combine(dir, "train.toml");
        File.WriteAllText(workflow, TrainingProgramFixture.WorkflowText("H1:ASC-CHARD_P_INMON").Replace("band_high = 65", "band_high = 65\n" + cleaning));
        var (code, stdout, stderr) = await f.TrainAsync([.. f.QuickArguments(repo, dir, workflow: workflow), "--ensemble-from", "gwe2e"]);
        Assert.True(code == 2, $"exit {code}\n{stdout}\n{stderr}");
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("wiener-h1", line);
        Assert.Contains(named, line);
        Assert.DoesNotContain("epoch", stdout);
        Assert.False(Directory.Exists(Path.Combine(repo, "deepclean-h1")));
    }

    [Fact]
    public async Task An_existing_version_is_refused_before_anything_is_read()
    {
        var run = await f.SharedRunAsync("seed3-a", 3);
        Assert.True(run.ExitCode == 0, run.Stdout + run.Stderr);
        byte[] before = File.ReadAllBytes(run.Model);
        var (code, stdout, stderr) = await f.TrainAsync(f.QuickArguments(run.Repository, Path.Combine(f.Root, "again")));
        Assert.Equal(2, code);
        Assert.Contains("version 1 exists already; choose another --version", stderr);
        Assert.Equal("", stdout);
        Assert.Equal(before, File.ReadAllBytes(run.Model));
    }

    [Fact]
    public async Task A_new_version_of_a_model_whose_config_carries_client_side_scales_is_trained_on_them_and_keeps_them()
    {
        // Version 1 standardises inside its network (config scales 0:1). A repository whose deepclean-h1 versions take the
        // witnesses standardised by the client instead (as the demo's, trained beside the Wiener cleaner): version 2 must too,
        // since every version is served under the one config the client reads its scales from.
        var first = await f.SharedRunAsync("seed3-a", 3);
        Assert.True(first.ExitCode == 0, first.Stdout + first.Stderr);
        string repo = Path.Combine(f.Root, "client-scaled", "repo");
        Directory.CreateDirectory(Path.Combine(repo, "deepclean-h1"));
        File.Copy(Path.Combine(first.Repository, "deepclean-h1", ModelConfigFile.FileName), Path.Combine(repo, "deepclean-h1", ModelConfigFile.FileName));
        var config = ModelConfigFile.Read(Path.Combine(repo, "deepclean-h1", ModelConfigFile.FileName));
        Assert.Equal("0:1,0:1", config.Parameters[WienerCleaner.ScalingParameter].StringValue);
        config.Parameters[WienerCleaner.ScalingParameter].StringValue = "0.5:2,5:1";
        await ModelConfigFile.WriteAsync(Path.Combine(repo, "deepclean-h1", ModelConfigFile.FileName), config);

        string report = Path.Combine(f.Root, "client-scaled", "report");
        var (code, stdout, stderr) = await f.TrainAsync([.. f.QuickArguments(repo, report), "--version", "2"]);
        Assert.True(code == 0, stdout + stderr);
        Assert.Contains("H1: deepclean-h1's versions take the witnesses standardised by the client", stdout);
        var after = ModelConfigFile.Read(Path.Combine(repo, "deepclean-h1", ModelConfigFile.FileName));
        Assert.Equal("0.5:2,5:1", after.Parameters[WienerCleaner.ScalingParameter].StringValue);
        // Version 1 carries its standardisation; version 2 takes its input as the client sends it.
        Assert.Contains(ModelRepository.ReadOnnx(first.Model).Graph.Initializer, i => i.Name.StartsWith("input_mean", StringComparison.Ordinal));
        Assert.DoesNotContain(ModelRepository.ReadOnnx(Path.Combine(repo, "deepclean-h1", "2", "model.onnx")).Graph.Initializer,
            i => i.Name.StartsWith("input_mean", StringComparison.Ordinal));
        // The windows each network was checked on, as its served input: the mains monitor (a unit sine) raw for version 1,
        // (x - 0.5) / 2 for version 2.
        var (mean1, std1) = FirstWitness(Path.Combine(first.Report, "deepclean-h1-v1-check.bin"));
        var (mean2, std2) = FirstWitness(Path.Combine(report, "deepclean-h1-v2-check.bin"));
        Assert.True(Math.Abs(mean1) < 0.02 && Math.Abs(std1 - Math.Sqrt(0.5)) < 0.03, $"version 1 input: mean {mean1}, std {std1}");
        Assert.True(Math.Abs(mean2 + 0.25) < 0.02 && Math.Abs(std2 - Math.Sqrt(0.5) / 2) < 0.02, $"version 2 input: mean {mean2}, std {std2}");
    }

    private static (double Mean, double Std) FirstWitness(string checkFile)
    {
        using var check = new BinaryReader(File.OpenRead(checkFile));
        int windows = check.ReadInt32(), channels = check.ReadInt32(), kernel = check.ReadInt32();
        var input = new float[windows * channels * kernel];
        for (int i = 0; i < input.Length; i++) input[i] = check.ReadSingle();
        double sum = 0, squares = 0;
        int n = windows * kernel;
        for (int b = 0; b < windows; b++)
            for (int i = 0; i < kernel; i++)
            {
                double x = input[(b * channels) * kernel + i];
                sum += x;
                squares += x * x;
            }
        double mean = sum / n;
        return (mean, Math.Sqrt(squares / n - mean * mean));
    }

    [Fact]
    public async Task A_host_whose_libstdcxx_lacks_GLIBCXX_3_4_32_is_told_at_once_what_is_missing_and_the_remedy()
    {
        bool hostHasIt = (string[])["/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib/x86_64-linux-gnu/libstdc++.so.6"] is var paths
            && paths.Where(File.Exists).Any(p => Encoding.Latin1.GetString(File.ReadAllBytes(p)).Contains("GLIBCXX_3.4.32", StringComparison.Ordinal));
        string repo = Path.Combine(f.Root, "no-root", "repo");
        var args = f.QuickArguments(repo, Path.Combine(f.Root, "no-root")).ToList();
        int at = args.IndexOf("--root");
        args.RemoveRange(at, 2);
        var (code, stdout, stderr) = await f.TrainAsync(args);
        if (hostHasIt)
        {
            Assert.True(code == 0, stdout + stderr);
            return;
        }
        Assert.Equal(2, code);
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.Contains("libLibTorchSharp.so needs GLIBCXX_3.4.32 (GCC 13's libstdc++)", lines[0]);
        Assert.Contains("training/make-root.sh", lines[0]);
        Assert.Contains("--root DIR", lines[0]);
        Assert.False(Directory.Exists(repo));
    }

    private static string WriteWorkflow(string dir, string second)
    {
        string path = Path.Combine(dir, "w.toml");
        File.WriteAllText(path, TrainingProgramFixture.WorkflowText(second));
        return path;
    }
}
