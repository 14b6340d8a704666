using GwReprocess.Workflow;

namespace GwReprocess.Tests.Workflow;

/// <summary>gwrepro dag with [training] (issue 18): a training node per chunk with the program's exact argv, PARENT … CHILD its clients, each client asking for its chunk's pinned ensemble, servers polling.</summary>
public sealed class TrainingDagTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("gwrepro-train-dag-");

    public void Dispose() => _dir.Delete(true);

    private async Task<(JobPlan Plan, TrainingPlan Training, DagFile Dag)> WriteAsync(string training)
    {
        string source = Path.Combine(_dir.FullName, "src.toml");
        await File.WriteAllTextAsync(source, TrainingPlanTests.Workflow(training));
        var w = WorkflowConfig.Load(source);
        var plan = TrainingPlanTests.Plan(w);
        string run = Path.Combine(_dir.FullName, "run");
        var written = await DagWriter.WriteAsync(plan, run, "/opt/gwrepro/bin/gwrepro");
        Assert.Empty(DagChecker.CheckFile(written.DagFile));
        return (plan, TrainingPlan.Create(plan), DagFile.Load(written.DagFile));
    }

    private static Dictionary<string, string> Macros(DagNode node)
    {
        var m = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { ["JOB"] = node.Name, ["RETRY"] = "0" };
        foreach (var (k, v) in node.Vars) m[k] = v;
        return m;
    }

    [Fact]
    public async Task Each_chunk_has_a_training_node_running_the_program_with_exact_arguments_before_its_clients()
    {
        var (plan, training, dag) = await WriteAsync("[training]\nprogram = \"/opt/train/gwrepro-train\"\nroot = \"/srv/trixie\"\nseed = 7\nepochs = 30\n"
            + "arguments = [\"--stride\", \"1\", \"--report\", \"training report\", \"--psd-weight=0.5\"]\n");
        string run = Path.GetDirectoryName(dag.Path)!;
        Assert.Equal(4, training.Spans.Count);
        foreach (var span in training.Spans)
        {
            var node = dag[span.NodeName("H1L1")]!;
            Assert.Equal(TrainingNodes.SubmitFile, node.SubmitFile);
            Assert.Equal(span.Jobs.Select(j => j.Name), node.Children);
            Assert.Equal(3, node.Retries);
            Assert.Equal(2, node.UnlessExit);
            // What condor_submit (and gwrepro run) makes of train.sub with the node's VARS.
            var command = LocalDagExecutor.Command(run, node, Macros(node));
            Assert.Equal("/opt/train/gwrepro-train", command.Executable);
            Assert.Equal(["deepclean", "--workflow", "workflow.toml", "--fit", "frames", "--start", span.Train.Start.ToString(), "--end", span.Train.End.ToString(),
                "--validation", span.Validation.ToString(), "--out", "model-repository", "--version", span.Version.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "--root", "/srv/trixie", "--seed", "7", "--epochs", "30", "--stride", "1", "--report", "training report", "--psd-weight=0.5"], command.Arguments);
            foreach (var job in span.Jobs)
            {
                var client = dag[job.Name]!;
                Assert.Equal([node.Name], client.Parents);
                var argv = LocalDagExecutor.Command(run, client, Macros(client)).Arguments;
                Assert.Equal(["--ensemble", span.Ensemble, "--no-barrier"], argv.Skip(argv.Count - 3));
            }
        }
        Assert.Equal("VARS train_H1L1_1000001000_500 train_start=\"1000001000\" train_end=\"1000001500\" validation=\"125\" version=\"101\"",
            File.ReadLines(dag.Path).Single(l => l.StartsWith("VARS train_H1L1_1000001000_500 ", StringComparison.Ordinal)));
        Assert.Equal($"PARENT train_H1L1_1000010000_600 CHILD {string.Join(' ', training.Spans[1].Jobs.Select(j => j.Name))}",
            File.ReadLines(dag.Path).Single(l => l.StartsWith("PARENT train_H1L1_1000010000_600 ", StringComparison.Ordinal)));

        // The servers poll, so each chunk's pinned ensemble appears while they run; the client waits for it to be ready.
        var server = LocalDagExecutor.Command(run, dag["server_0"]!, Macros(dag["server_0"]!));
        int poll = server.Arguments.ToList().IndexOf("--repository-poll-secs");
        Assert.True(poll > 0, string.Join(' ', server.Arguments));
        Assert.Equal("10", server.Arguments[poll + 1]);
        var train = await File.ReadAllTextAsync(Path.Combine(run, "train.sub"));
        Assert.Contains("request_cpus            = 4\n", train, StringComparison.Ordinal);
        Assert.Contains("request_memory          = 8GB\n", train, StringComparison.Ordinal);
        Assert.Contains("transfer_executable     = false\n", train, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Optional_arguments_are_left_out_and_a_workflow_without_training_is_unchanged()
    {
        var (_, training, dag) = await WriteAsync("[training]\nprogram = \"bin/train\"\n");
        var node = dag[training.Spans[0].NodeName("H1L1")]!;
        var command = LocalDagExecutor.Command(Path.GetDirectoryName(dag.Path)!, node, Macros(node));
        Assert.Equal(Path.Combine(_dir.FullName, "bin", "train"), command.Executable); // relative to the workflow file
        Assert.Equal(15, command.Arguments.Count);
        Assert.DoesNotContain("--root", command.Arguments);

        var w = WorkflowConfig.Parse(TrainingPlanTests.Workflow(""), Path.Combine(_dir.FullName, "plain.toml"));
        var files = DagWriter.Render(TrainingPlanTests.Plan(w), "/opt/gwrepro/bin/gwrepro");
        Assert.DoesNotContain(files, f => f.Key == TrainingNodes.SubmitFile);
        Assert.DoesNotContain("train_", files.Single(f => f.Key == RunDirectory.DagName).Value, StringComparison.Ordinal);
        Assert.DoesNotContain("--ensemble", files.Single(f => f.Key == "client.sub").Value, StringComparison.Ordinal);
        Assert.DoesNotContain("--repository-poll-secs", files.Single(f => f.Key == "server.sub").Value, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_regenerated_dag_marks_a_chunks_training_done_once_all_its_clients_are()
    {
        string source = Path.Combine(_dir.FullName, "src.toml");
        await File.WriteAllTextAsync(source, TrainingPlanTests.Workflow());
        var plan = TrainingPlanTests.Plan(WorkflowConfig.Load(source));
        var training = TrainingPlan.Create(plan);
        var done = training.Spans[1].Jobs.Select(j => j.Name).Append(training.Spans[2].Jobs[0].Name).ToHashSet();
        string dag = DagWriter.Render(plan, "/opt/gwrepro/bin/gwrepro", done).Single(f => f.Key == RunDirectory.DagName).Value;
        Assert.Contains($"JOB {training.Spans[1].NodeName("H1L1")} train.sub DONE\n", dag, StringComparison.Ordinal);
        Assert.Contains($"JOB {training.Spans[2].NodeName("H1L1")} train.sub\n", dag, StringComparison.Ordinal);
    }
}
