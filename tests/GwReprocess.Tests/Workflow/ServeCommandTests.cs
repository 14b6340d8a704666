using GwReprocess.Workflow;

namespace GwReprocess.Tests.Workflow;

/// <summary>
/// The server nodes' command as one typed value: it renders exactly the argv of the golden server.sub files, and
/// <c>gwrepro run</c> gets the rendezvous and server name from it, not from parsing a node's arguments back.
/// </summary>
public sealed class ServeCommandTests
{
    private static string Data(params string[] parts) => Path.Combine([AppContext.BaseDirectory, "data", "workflow", .. parts]);

    private const string TlsKeys = "tls_cert = \"secrets/server.pem\"\ntls_key = \"secrets/server.key\"\ntls_ca = \"secrets/ca.pem\"\ntoken_file = \"secrets/token\"\n";

    private static WorkflowConfig Ldg(Func<string, string>? edit = null)
    {
        string text = File.ReadAllText(Data("ldg", "workflow.toml"));
        return WorkflowConfig.Parse(edit is null ? text : edit(text), Data("ldg", "workflow.toml"));
    }

    /// <summary>The <c>arguments</c> value of a golden submit file, as written (with its double quotes).</summary>
    private static string ArgumentsLine(string submitFile) =>
        File.ReadAllLines(submitFile).Single(l => l.StartsWith("arguments ", StringComparison.Ordinal)).Split('=', 2)[1].Trim();

    [Theory]
    [InlineData("expected", false)]
    [InlineData("expected-tls", true)]
    public void Renders_the_argv_of_the_golden_server_submit_file(string expected, bool tls)
    {
        var serve = ServeCommand.For(Ldg(tls ? t => t.Replace("clients_per_server = 4\n", "clients_per_server = 4\n" + TlsKeys) : null));
        string line = ArgumentsLine(Data("ldg", expected, "server.sub"));
        Assert.Equal(line, SubmitArguments.Quote(serve.ToArguments()));
        Assert.Equal(SubmitArguments.Parse(line), serve.ToArguments());
    }

    [Fact]
    public void Carries_the_workflow_values_as_typed_fields()
    {
        var serve = ServeCommand.For(Ldg(t => t.Replace("clients_per_server = 4\n", "clients_per_server = 4\n" + TlsKeys + "transport_nice = 7\n")));
        Assert.Equal("model-repository", serve.ModelRepository);
        Assert.Equal("/home/albert.einstein/o3/cleaned/rendezvous", serve.Rendezvous);
        Assert.Equal(ServeCommand.NodeNameMacro, serve.Name);
        Assert.Equal(("0.0.0.0", 0, 0, 0), (serve.Host, serve.GrpcPort, serve.HttpPort, serve.MetricsPort));
        Assert.Equal((RunDirectory.TlsCertName, RunDirectory.TlsKeyName, RunDirectory.TokenName), (serve.TlsCert, serve.TlsKey, serve.TokenFile));
        Assert.Equal(7, serve.TransportNice);
        Assert.Equal(["--token-file", RunDirectory.TokenName, "--transport-nice", "7"], serve.ToArguments().TakeLast(4));

        var plain = ServeCommand.For(Ldg());
        Assert.Null(plain.TlsCert);
        Assert.Null(plain.TokenFile);
        Assert.Equal(0, plain.TransportNice);
        Assert.DoesNotContain("--transport-nice", plain.ToArguments());
    }

    [Fact]
    public void A_transferring_site_names_the_repository_by_its_directory_and_a_bucket_by_its_url()
    {
        Assert.Equal("model-repository", ServeCommand.For(Ldg(t => t
            .Replace("model_repository = \"model-repository\"", "model_repository = \"/data/models/model-repository/\"")
            .Replace("profile = \"ldg\"", "profile = \"igwn-osg\""))).ModelRepository);
        Assert.Equal("/data/models/model-repository/", ServeCommand.For(Ldg(t => t
            .Replace("model_repository = \"model-repository\"", "model_repository = \"/data/models/model-repository/\""))).ModelRepository);
        Assert.Equal("gs://bucket/models", ServeCommand.For(Ldg(t => t
            .Replace("model_repository = \"model-repository\"", "model_repository = \"gs://bucket/models\"")
            .Replace("profile = \"ldg\"", "profile = \"igwn-osg\""))).ModelRepository);
    }

    [Fact]
    public void The_published_name_is_the_node_name_where_the_dag_gives_the_macro()
    {
        var serve = ServeCommand.For(Ldg());
        Assert.Equal(NodeNames.Server(3), serve.NameFor(NodeNames.Server(3)));
        Assert.Equal("fixed", (serve with { Name = "fixed" }).NameFor(NodeNames.Server(3)));
    }

    [Fact]
    public async Task A_run_directory_gives_the_command_it_was_written_from_without_reading_its_argv()
    {
        var dir = Directory.CreateTempSubdirectory("gwrepro-serve-command-");
        try
        {
            var workflow = WorkflowConfig.Load(Data("ldg", "workflow.toml"));
            var plan = JobPlanner.Plan(workflow, JobPlanner.ReadScience(workflow),
                JobPlanner.FrameCoverage(workflow, GwReprocess.Frames.FrameCache.Read(Data("ldg", "frames.lcf"))));
            var run = await DagWriter.WriteAsync(plan, dir.FullName, "/opt/gwrepro/bin/gwrepro");
            Assert.Contains($"SERVICE {NodeNames.Server(0)} {ServeCommand.SubmitFile}\n", File.ReadAllText(run.DagFile));

            // The submit file's arguments are not where the command comes from: with them gone it is the same.
            File.WriteAllText(Path.Combine(dir.FullName, ServeCommand.SubmitFile), "executable = /bin/true\nqueue\n");
            Assert.Equal(ServeCommand.For(workflow), ServeCommand.OfRunDirectory(run.DagFile));

            File.Delete(Path.Combine(dir.FullName, RunDirectory.WorkflowName));
            Assert.Null(ServeCommand.OfRunDirectory(run.DagFile));
        }
        finally { dir.Delete(true); }
    }
}
