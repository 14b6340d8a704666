using GwReprocess.Dsp;
using GwReprocess.Inference;
using GwReprocess.Models;
using GwReprocess.Simulation;
using Inference;
using Xunit.Abstractions;

namespace GwReprocess.Tests.Models;

/// <summary><c>models build --whitening stream</c>: snapshotter → whitener → bbhnet as ensemble <c>search</c>, checked, and run step by step in ONNX Runtime as its config wires it.</summary>
public sealed class StrainOnlyRepositoryTests(ITestOutputHelper output) : IDisposable
{
    private const int Rate = 1024, Kernel = 1024, Stride = 256, Batch = 4, Background = 4 * Rate;
    private readonly string _dir = ModelTestSupport.NewTempDirectory();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static ModelRepositoryOptions Options => new()
    {
        SampleRate = Rate,
        KernelSeconds = 1,
        Stride = Stride,
        Batch = Batch,
        Whitening = WhiteningMode.Stream,
        StreamWhitening = new StreamWhiteningOptions { BackgroundSeconds = 4, SegmentSeconds = 0.25, LowCornerHz = 15 },
    };

    [Fact]
    public async Task TheSearchEnsembleScoresAStreamThroughTheWhitenerAsTheReferenceWhitensIt()
    {
        string repo = Path.Combine(_dir, "repo");
        var result = await ModelRepositoryBuild.BuildAsync(new ModelRepositoryRequest { Directory = repo, Models = Options });
        Assert.Empty(result.Problems);
        Assert.Empty(ModelRepositoryCheck.Check(repo));
        Assert.Equal(["bbhnet", "search", "snapshotter", "whitener"], ModelRepository.ModelNames(repo).Order(StringComparer.Ordinal));

        var search = ModelConfigFile.Read(Path.Combine(repo, "search", "config.pbtxt"));
        Assert.Equal(ModelContract.SnapshotUpdate, search.Input.Single().Name);
        Assert.Equal(new long[] { 1, 2, Batch * Stride }, search.Input[0].Dims);
        Assert.Equal(ModelContract.ScoreOutput, search.Output.Single().Name);
        Assert.Equal(new long[] { Batch, 1 }, search.Output[0].Dims);
        Assert.Equal("stream", search.Parameters["whitening"].StringValue);
        Assert.Equal(Background.ToString(System.Globalization.CultureInfo.InvariantCulture), search.Parameters["background_samples"].StringValue);
        Assert.Contains("strain-only", search.Parameters["description"].StringValue);
        var whitenerConfig = ModelConfigFile.Read(Path.Combine(repo, "whitener", "config.pbtxt"));
        Assert.Equal("255", whitenerConfig.Parameters["fir_taps"].StringValue);
        Assert.Equal("256", whitenerConfig.Parameters["welch_segment"].StringValue);

        // A stream of coloured noise for H1 and L1, long enough for full backgrounds in the later requests.
        int delay = (127 + Stride - 1) / Stride * Stride, snapshot = Background + Kernel + delay, updates = snapshot / (Batch * Stride) + 3, n = updates * Batch * Stride;
        var filter = new NoiseFilter(f => 1e-23 * (1 + Math.Pow(40 / Math.Max(f, 1), 4)), Rate, 4096);
        var stream = new[] { 1L, 2L }.Select(seed => { var x = new double[n]; new ColoredNoise(filter, StreamKey.FromSeed(seed)).Fill(0, x); return x; }).ToArray();
        var state = new float[2 * snapshot];
        var models = ModelRepository.ModelNames(repo).Where(m => m != "search")
            .ToDictionary(m => m, m => ModelRepository.ReadOnnx(Path.Combine(repo, m, "1", ModelRepository.OnnxFileName)));

        double worst = 0;
        int compared = 0;
        for (int u = 0; u < updates; u++)
        {
            var update = new float[2 * Batch * Stride];
            for (int d = 0; d < 2; d++)
                for (int i = 0; i < Batch * Stride; i++) update[d * Batch * Stride + i] = (float)stream[d][u * Batch * Stride + i];
            // Run the ensemble's steps in order, each reading and writing the tensors its maps name.
            var tensors = new Dictionary<string, (int[] Shape, float[] Data)> { [ModelContract.SnapshotUpdate] = ([1, 2, Batch * Stride], update) };
            foreach (var step in search.EnsembleScheduling.Step)
            {
                var inputs = step.InputMap.Select(kv => (kv.Key, tensors[kv.Value].Data, tensors[kv.Value].Shape)).ToList();
                if (step.ModelName == "snapshotter") inputs.Add((ModelContract.SnapshotStateInput, state, [1, 2, snapshot]));
                var outputs = ModelTestSupport.Run(models[step.ModelName], [.. inputs]);
                if (step.ModelName == "snapshotter") state = outputs[ModelContract.SnapshotStateOutput].Data;
                foreach (var (modelOut, tensor) in step.OutputMap) tensors[tensor] = outputs[modelOut];
            }
            var (shape, scores) = tensors[ModelContract.ScoreOutput];
            Assert.Equal(new[] { Batch, 1 }, shape);
            Assert.All(scores, s => Assert.True(s >= 0 && s <= 1, $"score {s}"));

            // Snapshot j of the stream (zero-prefixed) ends at sample (j+1)·stride, its whitened window one delay before: compare those with a full background against the reference.
            var whitened = tensors[Postprocessor.Output].Data;
            for (int b = 0; b < Batch; b++)
            {
                int end = (u * Batch + b + 1) * Stride;
                if (end < snapshot) continue;
                for (int d = 0; d < 2; d++)
                {
                    var series = new double[snapshot];
                    for (int i = 0; i < series.Length; i++) series[i] = (float)stream[d][end - series.Length + i];
                    var expected = StreamWhitening.Window(series, Kernel, 256, 255, 15, Rate, delay);
                    double rms = Math.Sqrt(expected.Average(v => v * v));
                    for (int i = 0; i < Kernel; i++) worst = Math.Max(worst, Math.Abs(whitened[(b * 2 + d) * Kernel + i] - expected[i]) / rms);
                    compared++;
                }
            }
        }
        output.WriteLine($"{compared} (window, detector) pairs through snapshotter -> whitener: max error {worst:E2} of the reference rms");
        Assert.True(compared >= 8, $"only {compared} windows had a full background");
        Assert.True(worst <= 1e-4, $"max error {worst:E2}");
    }

    [Fact]
    public async Task EveryModelPassesTheOnnxCheckerAtTheDefaultSizes()
    {
        // What `models build --whitening stream` writes by default: 8 s of background, K = 4096, 64 windows per request.
        string repo = Path.Combine(_dir, "defaults");
        await ModelRepository.WriteAsync(repo, ModelRepositoryBuilder.Build(new ModelRepositoryOptions { Whitening = WhiteningMode.Stream }));
        var files = Directory.GetFiles(repo, "model.onnx", SearchOption.AllDirectories);
        Assert.Equal(3, files.Length);
        var (code, text) = ModelTestSupport.OnnxChecker(files);
        Assert.True(code == 0, $"onnx.checker failed (needs Debian's python3-onnx at {ModelTestSupport.SystemPython}):\n{text}");
        Assert.Equal(3, text.Split('\n').Count(l => l.StartsWith("checked ", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task TemplatesAndFittedCleanersAreRefusedWithStreamWhitening()
    {
        string repo = Path.Combine(_dir, "never");
        var e = await Assert.ThrowsAsync<BadInputException>(() => ModelRepositoryBuild.BuildAsync(new ModelRepositoryRequest
        {
            Directory = repo,
            Models = Options with { Detector = DetectorKind.Templates },
        }));
        Assert.Contains("--detector bbhnet", e.Message);
        await Assert.ThrowsAsync<BadInputException>(() => ModelRepositoryBuild.BuildAsync(new ModelRepositoryRequest
        {
            Directory = repo,
            Models = Options with { Cleaner = CleanerKind.Wiener },
        }));
        Assert.False(Directory.Exists(repo));
    }

    [Fact]
    public void CliBuildsAndChecksTheStrainOnlyRepositoryAndRefusesBadCombinations()
    {
        string dir = Path.Combine(_dir, "cli");
        var built = ModelTestSupport.Gwrepro("models", "build", "--out", dir, "--whitening", "stream", "--fs", "1024", "--kernel", "1", "--stride", "256",
            "--batch", "4", "--psd-length", "4", "--psd-segment", "0.25");
        Assert.True(built.ExitCode == 0, built.Stderr);
        Assert.Contains("search", built.Stdout);
        Assert.Contains("whitener", built.Stdout);
        // 4 s of background, the 1 s window, and after it the 255-tap FIR's half-length (127) rounded up to a stride.
        Assert.Equal(new long[] { 4, 2, 4096 + 1024 + 256 }, ModelConfigFile.Read(Path.Combine(dir, "snapshotter", "config.pbtxt")).Output.Single().Dims);
        var check = ModelTestSupport.Gwrepro("models", "check", dir);
        Assert.True(check.ExitCode == 0, check.Stderr);
        Assert.Contains("4 models, all consistent", check.Stdout);

        foreach (var (args, message) in new[]
        {
            (new[] { "--detector", "templates" }, "--whitening stream takes --detector bbhnet"),
            (["--cleaner", "wiener"], "--whitening stream builds a strain-only repository"),
            (["--stream-fir-taps", "1024"], "whitener: whitening FIR of 1024 taps must be odd"),
            (["--psd-length", "0.1"], "--psd-length 0.1 s"),
            (["--low-corner", "x"], "--low-corner 'x'"),
        })
        {
            var r = ModelTestSupport.Gwrepro(["models", "build", "--out", Path.Combine(_dir, "never"), "--whitening", "stream", "--fs", "1024", .. args]);
            Assert.Equal(2, r.ExitCode);
            Assert.Contains(message, r.Stderr);
            Assert.Single(r.Stderr.Trim().Split('\n'));
            Assert.False(Directory.Exists(Path.Combine(_dir, "never")));
        }
    }
}
