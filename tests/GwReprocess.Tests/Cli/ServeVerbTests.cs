using Grpc.Net.Client;
using GwReprocess.Models;
using Inference;

namespace GwReprocess.Tests.Cli;

/// <summary><c>gwrepro serve</c> as the DAG starts it: free ports, rendezvous address file, provisioner chirp, stop marker.</summary>
public sealed class ServeVerbTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("gwrepro-serve-");

    public void Dispose() => _dir.Delete(true);

    [Fact]
    public async Task ServePublishesItsAddressServesAndStopsOnTheMarker()
    {
        var repo = Path.Combine(_dir.FullName, "repo");
        var options = new ModelRepositoryOptions { SampleRate = 1024, KernelSeconds = 1, Stride = 32, Batch = 2, Witnesses = 3 };
        await ModelRepository.WriteAsync(repo, ModelRepositoryBuilder.Build(options));
        var rendezvous = Path.Combine(_dir.FullName, "rendezvous");
        // A marker left by an earlier attempt of the run (rescue DAG, resubmission) must not stop the new server.
        Directory.CreateDirectory(rendezvous);
        File.WriteAllText(Path.Combine(rendezvous, "stop"), "");
        var run = GwreproProcess.RunAsync(["serve", "--model-repository", repo, "--grpc-port", "0", "--http-port", "0", "--metrics-port", "0",
            "--name", "server0", "--rendezvous", rendezvous, "--provisioner", "--intra-op-threads", "1"], timeout: TimeSpan.FromSeconds(60));
        var published = Path.Combine(rendezvous, "servers", "server0");
        for (int i = 0; i < 300 && !File.Exists(published) && !run.IsCompleted; i++) await Task.Delay(100);
        Assert.True(File.Exists(published), run.IsCompleted ? (await run).StdErr : "no address published within 30 s");
        var address = File.ReadAllText(published).Trim();
        Assert.Matches(@"^127\.0\.0\.1:\d+$", address);
        Assert.False(File.Exists(Path.Combine(rendezvous, "stop")));

        using (var channel = GrpcChannel.ForAddress("http://" + address))
        {
            var client = new GRPCInferenceService.GRPCInferenceServiceClient(channel);
            Assert.True((await client.ServerReadyAsync(new ServerReadyRequest())).Ready);
            Assert.True((await client.ModelReadyAsync(new ModelReadyRequest { Name = "gwe2e" })).Ready);
        }
        File.WriteAllText(Path.Combine(rendezvous, "stop"), "");
        var r = await run;
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("loaded model 'gwe2e' version 1", r.StdErr);
        Assert.Contains("removed a stop marker left by an earlier attempt", r.StdErr);
        Assert.Contains("stop marker", r.StdErr);
        Assert.False(File.Exists(published), "a stopped server withdraws its address");
        Assert.True(r.StdErr.Contains("condor_chirp not found", StringComparison.Ordinal) || r.StdErr.Contains("ProvisionerState 2", StringComparison.Ordinal), r.StdErr);
    }

    [Fact]
    public async Task ServeRefusesAMissingRepositoryWithExitCode2()
    {
        var r = await GwreproProcess.RunAsync("serve", "--model-repository", Path.Combine(_dir.FullName, "nope"), "--grpc-port", "0");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("model repository directory does not exist", r.StdErr);
    }
}
