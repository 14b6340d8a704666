using GwReprocess.Inference;
using GwReprocess.Workflow;
using Inference;

namespace GwReprocess.Tests.Workflow;

/// <summary>request_gpus of the server nodes: the GPUs the repository's instance groups name, reconciled with [inference] gpus_per_server.</summary>
public sealed class ServerGpusTests
{
    private static (string, ModelConfig) Model(string name, string groups) => (name, ModelConfigFile.Parse($"name: \"{name}\"\nplatform: \"onnxruntime_onnx\"\n{groups}"));

    private static int Gpus(int gpusPerServer, params (string, ModelConfig)[] models) => ServerGpus.For(models, gpusPerServer, "w.toml: inference.gpus_per_server");

    [Fact]
    public void TheGpusNamedAreRequested()
    {
        Assert.Equal(4, Gpus(0, Model("deepclean", "instance_group { kind: KIND_GPU count: 2 gpus: [0, 1, 2, 3] }")));
        // HTCondor shows a job its GPUs as devices 0..N-1: naming device 1 needs two.
        Assert.Equal(2, Gpus(0, Model("a", "instance_group { kind: KIND_GPU gpus: [1] }"), Model("b", "instance_group { kind: KIND_GPU gpus: [0] }")));
        Assert.Equal(4, Gpus(4, Model("deepclean", "instance_group [ { kind: KIND_GPU gpus: [0, 1] }, { kind: KIND_GPU } ]")));
    }

    [Fact]
    public void CpuOnlyRepositoriesRequestNone()
    {
        Assert.Equal(0, Gpus(0, Model("snap", "instance_group { kind: KIND_CPU count: 4 }"), Model("m", "instance_group { kind: KIND_MODEL }")));
        // KIND_AUTO naming no GPU runs on the CPU without one: it asks for what gpus_per_server gives.
        Assert.Equal(0, Gpus(0, Model("auto", "instance_group { count: 1 }"), Model("none", "")));
        Assert.Equal(2, Gpus(2, Model("auto", "instance_group { count: 1 }")));
        // Ensembles place nothing.
        Assert.Equal(0, Gpus(0, ("e", ModelConfigFile.Parse("name: \"e\"\nplatform: \"ensemble\"\nensemble_scheduling { step { model_name: \"x\" model_version: -1 } }"))));
    }

    [Fact]
    public void KindGpuOnEveryGpuNeedsAtLeastOne()
    {
        Assert.Equal(1, Gpus(0, Model("g", "instance_group { kind: KIND_GPU count: 2 }")));
        Assert.Equal(4, Gpus(4, Model("g", "instance_group { kind: KIND_GPU count: 2 }")));
    }

    [Fact]
    public void GpusPerServerThatDisagreesIsAnErrorNamingTheKey()
    {
        var few = Assert.Throws<BadInputException>(() => Gpus(2, Model("deepclean", "instance_group { name: \"dc\" kind: KIND_GPU gpus: [0, 1, 2, 3] }")));
        Assert.Equal("w.toml: inference.gpus_per_server = 2, but model 'deepclean' instance group 'dc' names GPU 3: a server needs 4 GPUs", few.Message);
        var many = Assert.Throws<BadInputException>(() => Gpus(4, Model("deepclean", "instance_group { kind: KIND_GPU gpus: [0, 1] }"), Model("s", "instance_group { kind: KIND_CPU }")));
        Assert.StartsWith("w.toml: inference.gpus_per_server = 4, but the model repository's instance groups name 2 GPU(s)", many.Message);
    }

    [Fact]
    public async Task TheDagsServerNodesRequestWhatTheRepositoryNames()
    {
        var dir = Path.Combine(Path.GetTempPath(), "gwrepro-gpus-" + Guid.NewGuid().ToString("N")[..12]);
        try
        {
            Directory.CreateDirectory(Path.Combine(dir, "repo", "deepclean-h1"));
            Directory.CreateDirectory(Path.Combine(dir, "repo", "snapshotter"));
            await File.WriteAllTextAsync(Path.Combine(dir, "repo", "deepclean-h1", "config.pbtxt"),
                "name: \"deepclean-h1\"\nplatform: \"onnxruntime_onnx\"\ninstance_group { kind: KIND_GPU count: 2 gpus: [0, 1, 2] }\n");
            await File.WriteAllTextAsync(Path.Combine(dir, "repo", "snapshotter", "config.pbtxt"),
                "name: \"snapshotter\"\nplatform: \"onnxruntime_onnx\"\ninstance_group { kind: KIND_CPU count: 8 }\n");
            string workflow = Path.Combine(dir, "w.toml");
            await File.WriteAllTextAsync(workflow, """
                [run]
                name = "gpus"

                [data]
                start = 1238166018
                end = 1238169618

                [detectors.H1]
                strain = "H1:GDS-CALIB_STRAIN"
                witnesses = ["H1:PEM-CS_MAINSMON_EBAY_1_DQ"]

                [inference]
                model_repository = "repo"
                ensemble = "deepclean-h1"

                [outputs]
                uri = "out"
                """);
            var files = DagWriter.Render(JobPlanner.Plan(WorkflowConfig.Load(workflow)), "/x/gwrepro");
            string server = files.Single(f => f.Key == "server.sub").Value;
            Assert.Contains("request_gpus            = 3\n", server);
            // The clients request none.
            Assert.DoesNotContain("request_gpus", files.Single(f => f.Key == "client.sub").Value);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
