using GwReprocess.Inference;
using GwReprocess.Models;
using Inference;

namespace GwReprocess.Tests.Models;

/// <summary>The written repository: ONNX checker, ONNX Runtime, architecture sizes, and the consistency check (library and CLI).</summary>
public sealed class ModelRepositoryTests : IAsyncLifetime
{
    // Small enough for a fast test run, large enough for every architecture (BBHnet's pooling needs K ≥ 1024).
    private static readonly ModelRepositoryOptions Small = new() { KernelSeconds = 0.25, Stride = 32, Batch = 3, Witnesses = 4 };
    private string _dir = "";
    private IReadOnlyList<RepositoryModel> _models = [];

    public async Task InitializeAsync()
    {
        _dir = ModelTestSupport.NewTempDirectory();
        _models = ModelRepositoryBuilder.Build(Small);
        await ModelRepository.WriteAsync(_dir, _models);
    }

    public Task DisposeAsync()
    {
        Directory.Delete(_dir, recursive: true);
        return Task.CompletedTask;
    }

    [Fact]
    public void RepositoryHasTritonLayout()
    {
        Assert.Equal(
            new[] { "bbhnet", "deepclean-h1", "deepclean-l1", "deepclean-stream", "gwe2e", "postproc", "snapshotter", "snapshotter-stream" },
            ModelRepository.ModelNames(_dir));
        foreach (var m in _models)
        {
            Assert.True(File.Exists(Path.Combine(_dir, m.Name, "config.pbtxt")));
            Assert.True(File.Exists(Path.Combine(_dir, m.Name, "1", m.Onnx is null ? "model.empty" : "model.onnx")));
        }
        Assert.Empty(ModelRepositoryCheck.Check(_dir));
    }

    [Fact]
    public async Task EveryModelPassesTheOnnxCheckerAtTestAndPaperSizes()
    {
        // The paper sizes too (K = 4096, 21 witnesses, 64 windows per request): what `models build` writes by default.
        var paper = ModelTestSupport.NewTempDirectory();
        try
        {
            await ModelRepository.WriteAsync(paper, ModelRepositoryBuilder.Build(new ModelRepositoryOptions()));
            var files = new[] { _dir, paper }.SelectMany(d => Directory.GetFiles(d, "model.onnx", SearchOption.AllDirectories)).ToList();
            Assert.Equal(12, files.Count);
            var (code, output) = ModelTestSupport.OnnxChecker(files);
            Assert.True(code == 0, $"onnx.checker failed (needs Debian's python3-onnx at {ModelTestSupport.SystemPython}):\n{output}");
            Assert.Equal(12, output.Split('\n').Count(l => l.StartsWith("checked ")));
        }
        finally { Directory.Delete(paper, recursive: true); }
    }

    [Fact]
    public void OnnxCheckerRejectsABrokenModel()
    {
        // The checker call must be able to fail: an attribute without its type field is invalid ONNX.
        var model = _models.Single(m => m.Name == "bbhnet").Onnx!.Clone();
        model.Graph.Node.First(n => n.OpType == "Conv").Attribute[0].ClearType();
        var file = Path.Combine(_dir, "broken.onnx");
        File.WriteAllBytes(file, Google.Protobuf.MessageExtensions.ToByteArray(model));
        var (code, _) = ModelTestSupport.OnnxChecker([file]);
        Assert.NotEqual(0, code);
    }

    [Fact]
    public void EveryOnnxModelRunsInOnnxRuntimeWithItsConfigShapes()
    {
        foreach (var m in _models.Where(m => m.Onnx is not null))
        {
            var inputs = m.Config.Input.Select(i => (i.Name, Data: ModelTestSupport.RandomSignal((int)i.Dims.Aggregate(1L, (a, b) => a * b), 1), Shape: i.Dims.Select(d => (int)d).ToArray())).ToList();
            foreach (var st in m.Config.SequenceBatching?.State ?? [])
                inputs.Add((st.InputName, new float[st.Dims.Aggregate(1L, (a, b) => a * b)], st.Dims.Select(d => (int)d).ToArray()));
            var outputs = ModelTestSupport.Run(m.Onnx!, inputs.ToArray());
            foreach (var o in m.Config.Output)
            {
                Assert.True(outputs.ContainsKey(o.Name), $"{m.Name}: no output {o.Name}");
                Assert.Equal(o.Dims.Select(d => (int)d).ToArray(), outputs[o.Name].Shape);
                Assert.All(outputs[o.Name].Data, v => Assert.True(float.IsFinite(v)));
            }
        }
    }

    [Fact]
    public void DeepCleanHasThePaperParameterCount()
    {
        var model = DeepCleanNetwork.Build("dc", witnesses: 21, kernel: 4096, batch: 1, seed: 1).Onnx!;
        long Count(Func<string, bool> pick) => model.Graph.Initializer.Where(i => i.DataType == 1 && pick(i.Name)).Sum(i => i.Dims.Aggregate(1L, (a, b) => a * b));
        Assert.Equal(43_437, Count(n => !n.StartsWith("bn.")));                                   // conv + transposed conv weights and biases
        Assert.Equal(436, Count(n => n.StartsWith("bn.weight") || n.StartsWith("bn.bias")));     // BatchNorm affine
        Assert.Equal(10, model.Graph.Node.Count(n => n.OpType is "Conv" or "ConvTranspose"));
        Assert.Equal(9, model.Graph.Node.Count(n => n.OpType == "Tanh"));
        Assert.Equal("false", model.MetadataProps.Single(p => p.Key == "trained").Value);
        Assert.Contains("UNTRAINED", model.DocString);
    }

    [Fact]
    public void UntrainedNetworksAreSeeded()
    {
        var a = DeepCleanNetwork.Build("dc", 3, 64, 1, seed: 5).Onnx!;
        var b = DeepCleanNetwork.Build("dc", 3, 64, 1, seed: 5).Onnx!;
        var c = DeepCleanNetwork.Build("dc", 3, 64, 1, seed: 6).Onnx!;
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Fact]
    public void PostprocSubtractsNoiseThenAppliesTheFir()
    {
        const int batch = 2, k = 128;
        float[][] taps = [[0.25f, 0.5f, 0.125f, -0.0625f, 0.03125f], [1f, -1f, 0.5f, 0f, 0.2f]];
        var model = Postprocessor.Build("postproc", ["H1", "L1"], k, batch, taps, "test taps").Onnx!;
        var strain = ModelTestSupport.RandomSignal(batch * 2 * k, 1);
        var nh = ModelTestSupport.RandomSignal(batch * k, 2);
        var nl = ModelTestSupport.RandomSignal(batch * k, 3);
        var y = ModelTestSupport.Run(model, ("strain", strain, [batch, 2, k]), ("noise_h1", nh, [batch, k]), ("noise_l1", nl, [batch, k]))["whitened"];
        Assert.Equal(new[] { batch, 2, k }, y.Shape);
        int centre = (taps[0].Length - 1) / 2;
        double worst = 0;
        for (int n = 0; n < batch; n++)
            for (int d = 0; d < 2; d++)
                for (int t = 0; t < k; t++)
                {
                    double acc = 0;
                    for (int j = 0; j < taps[d].Length; j++)
                    {
                        int src = t + centre - j; // y[t] = Σ h[j] x[t + c − j]
                        if (src < 0 || src >= k) continue;
                        float noise = (d == 0 ? nh : nl)[n * k + src];
                        acc += taps[d][j] * (strain[(n * 2 + d) * k + src] - noise);
                    }
                    worst = Math.Max(worst, Math.Abs(acc - y.Data[(n * 2 + d) * k + t]));
                }
        Assert.True(worst <= 1e-5, $"max error {worst:G3}");
    }

    [Theory]
    [InlineData("gwe2e")]
    [InlineData("deepclean-stream")]
    public void EnsembleStepsExecuteInOrderThroughOnnxRuntime(string ensemble)
    {
        // Interpret the ensemble config as Triton would (maps from model tensors to ensemble tensors), two requests of
        // one sequence, the snapshotter state carried between them.
        var byName = _models.ToDictionary(m => m.Name);
        var config = byName[ensemble].Config;
        var update = config.Input[0];
        var states = new Dictionary<string, float[]>();
        for (int request = 0; request < 2; request++)
        {
            var tensors = new Dictionary<string, (int[] Shape, float[] Data)>
            {
                [update.Name] = (update.Dims.Select(d => (int)d).ToArray(), ModelTestSupport.RandomSignal((int)update.Dims.Aggregate(1L, (a, b) => a * b), request)),
            };
            foreach (var step in config.EnsembleScheduling.Step)
            {
                var m = byName[step.ModelName];
                var inputs = step.InputMap.Select(kv => (kv.Key, tensors[kv.Value].Data, tensors[kv.Value].Shape)).ToList();
                foreach (var st in m.Config.SequenceBatching?.State ?? [])
                    inputs.Add((st.InputName, states.TryGetValue(step.ModelName, out var s) ? s : new float[st.Dims.Aggregate(1L, (a, b) => a * b)], st.Dims.Select(d => (int)d).ToArray()));
                var outputs = ModelTestSupport.Run(m.Onnx!, inputs.ToArray());
                foreach (var st in m.Config.SequenceBatching?.State ?? []) states[step.ModelName] = outputs[st.OutputName].Data;
                foreach (var (modelOutput, tensor) in step.OutputMap) tensors[tensor] = outputs[modelOutput];
            }
            foreach (var o in config.Output)
            {
                Assert.Equal(o.Dims.Select(d => (int)d).ToArray(), tensors[o.Name].Shape);
                Assert.All(tensors[o.Name].Data, v => Assert.True(float.IsFinite(v)));
            }
            if (ensemble == "gwe2e") Assert.All(tensors["score"].Data, v => Assert.InRange(v, 0f, 1f));
        }
        Assert.Single(states);
    }

    private void Rewrite(string model, Action<ModelConfig> change)
    {
        var path = Path.Combine(_dir, model, "config.pbtxt");
        var c = ModelConfigFile.Read(path);
        change(c);
        File.WriteAllText(path, ModelConfigFile.Format(c));
    }

    [Fact]
    public void CheckFindsAConfigThatDisagreesWithItsOnnxGraph()
    {
        Rewrite("deepclean-h1", c => c.Input[0].Dims[1] = 5);
        var problems = ModelRepositoryCheck.Check(_dir);
        Assert.Contains(problems, p => p.Model == "deepclean-h1" && p.Message.Contains("input 'witness'") && p.Message.Contains("dimension 1"));
        // The ensemble wiring sees it too: the snapshotter gives 4 witness channels, deepclean-h1 now wants 5.
        Assert.Contains(problems, p => p.Model == "gwe2e" && p.Message.Contains("'witness_h1'"));
    }

    [Fact]
    public void CheckFindsBrokenEnsembleWiring()
    {
        Rewrite("gwe2e", c =>
        {
            c.EnsembleScheduling.Step[4].InputMap["strain"] = "whitend";
            c.EnsembleScheduling.Step[1].ModelName = "deepclean-v1";
        });
        Rewrite("postproc", c => c.Output[0].DataType = DataType.TypeFp64);
        var problems = ModelRepositoryCheck.Check(_dir).Select(p => p.ToString()).ToList();
        Assert.Contains(problems, p => p.StartsWith("gwe2e:") && p.Contains("'whitend'") && p.Contains("no ensemble input or step output"));
        Assert.Contains(problems, p => p.StartsWith("gwe2e:") && p.Contains("model 'deepclean-v1' is not in the repository"));
        Assert.Contains(problems, p => p.StartsWith("gwe2e:") && p.Contains("ensemble output 'noise_h1' is not produced"));
        Assert.Contains(problems, p => p.StartsWith("postproc:") && p.Contains("output 'whitened'") && p.Contains("TypeFp64"));
    }

    [Fact]
    public void CheckFindsAStateMissingFromTheGraph()
    {
        Rewrite("snapshotter", c => c.SequenceBatching.State[0].InputName = "state_in");
        var problems = ModelRepositoryCheck.Check(_dir).Select(p => p.ToString()).ToList();
        Assert.Contains("snapshotter: state input 'state_in' is not an input of the ONNX graph", problems);
        Assert.Contains("snapshotter: ONNX graph input 'input_snapshot' is neither a config input, a control input nor a state", problems);
    }

    [Fact]
    public void CliCheckPassesAGoodRepositoryAndFailsAMismatchWithExit2NamingModelAndTensor()
    {
        var ok = ModelTestSupport.Gwrepro("models", "check", _dir);
        Assert.True(ok.ExitCode == 0, ok.Stderr);
        Assert.Contains("8 models, all consistent", ok.Stdout);

        Rewrite("bbhnet", c => c.Output[0].Name = "prob");
        var bad = ModelTestSupport.Gwrepro("models", "check", _dir);
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("bbhnet: config output 'prob' is not an output of the ONNX graph", bad.Stderr);
    }

    [Fact]
    public void CliBuildWritesACheckedRepositoryAndRejectsUnavailableOptions()
    {
        var dir = Path.Combine(_dir, "built");
        var built = ModelTestSupport.Gwrepro("models", "build", "--out", dir, "--kernel", "0.25", "--stride", "128", "--batch", "2", "--witnesses", "3");
        Assert.True(built.ExitCode == 0, built.Stderr);
        Assert.Empty(ModelRepositoryCheck.Check(dir));
        Assert.Equal(new long[] { 1, 2 * 3 + 2, 256 }, ModelConfigFile.Read(Path.Combine(dir, "gwe2e", "config.pbtxt")).Input[0].Dims);

        foreach (var (args, message) in new[]
        {
            (new[] { "--cleaner", "wiener" }, "--cleaner wiener needs --fit FRAMES and --workflow"),
            (["--detector", "templates"], "--detector templates needs --cleaner wiener"),
            (["--fit", "file:///frames", "--start", "0", "--end", "10"], "--fit and --workflow go with --cleaner wiener"),
        })
        {
            var r = ModelTestSupport.Gwrepro(["models", "build", "--out", Path.Combine(_dir, "never"), .. args]);
            Assert.Equal(2, r.ExitCode);
            Assert.Contains(message, r.Stderr);
            Assert.False(Directory.Exists(Path.Combine(_dir, "never")));
        }
        var odd = ModelTestSupport.Gwrepro("models", "build", "--out", Path.Combine(_dir, "odd"), "--kernel", "0.1");
        Assert.Equal(2, odd.ExitCode);
        Assert.Contains("--kernel", odd.Stderr);
    }
}
