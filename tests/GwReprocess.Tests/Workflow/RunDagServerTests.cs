using GwReprocess.Tests.Cli;
using GwReprocess.Workflow;

namespace GwReprocess.Tests.Workflow;

/// <summary>
/// <c>gwrepro run --dag</c> on a run directory: a server node is ready once its address is published under the rendezvous
/// and name of the typed <see cref="ServeCommand"/> of the run's workflow copy; the node's own arguments are never read
/// (here they are a bare <c>sleep</c>).
/// </summary>
public sealed class RunDagServerTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("gwrepro-run-dag-server-");

    public void Dispose() => _dir.Delete(true);

    private string P(string name) => Path.Combine(_dir.FullName, name);

    private async Task<string> RunAsync(string? published)
    {
        File.WriteAllText(P(RunDirectory.WorkflowName), RunEndToEndTests.Workflow);
        File.WriteAllText(P(ServeCommand.SubmitFile), "executable = /bin/sleep\narguments = \"20\"\nqueue\n");
        File.WriteAllText(P("step.sub"), "executable = /bin/sh\narguments = \"-c 'sleep 2'\"\nqueue\n");
        File.WriteAllText(P("final.sub"), "executable = /bin/true\nqueue\n");
        File.WriteAllText(P("r.dag"), $"SERVICE {NodeNames.Server(0)} {ServeCommand.SubmitFile}\nJOB a step.sub\nFINAL fin final.sub\n");
        if (published is not null)
        {
            // The workflow's outputs are "out": the rendezvous is out/rendezvous, relative to the node's directory.
            Directory.CreateDirectory(P("out/rendezvous/servers"));
            File.WriteAllText(P("out/rendezvous/servers/" + published), "127.0.0.1:1\n");
        }
        var r = await GwreproProcess.RunAsync(["run", "--dag", P("r.dag"), "--stop-grace", "1"], _dir.FullName);
        Assert.True(r.ExitCode == 0, r.StdOut + r.StdErr);
        return r.StdErr;
    }

    [Fact]
    public async Task A_server_published_under_its_node_name_is_ready()
    {
        Assert.Contains($"{NodeNames.Server(0)}: ready after", await RunAsync(NodeNames.Server(0)));
    }

    [Fact]
    public async Task A_server_that_has_not_published_is_not_ready()
    {
        Assert.DoesNotContain($"{NodeNames.Server(0)}: ready after", await RunAsync(NodeNames.Server(1)));
    }
}
