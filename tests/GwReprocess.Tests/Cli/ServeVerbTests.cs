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
    public void VersionListsTheExecutionProvidersOfThisBuild()
    {
        // No --model-repository needed; the default build is CPU-only (the CUDA build, -p:Accelerator=cuda, adds CUDAExecutionProvider).
        var r = GwreproProcess.Run(["serve", "--version"]);
        Assert.Equal(0, r.ExitCode);
        Assert.Matches(@"^gwrepro serve \d+\.\d+\.\d+\.\d+: ONNX Runtime \d+\.\d+\.\d+, execution providers: .*CPUExecutionProvider\n$", r.StdOut);
        Assert.Equal(Microsoft.ML.OnnxRuntime.OrtEnv.Instance().GetAvailableProviders().Contains("CUDAExecutionProvider"), r.StdOut.Contains("CUDAExecutionProvider"));
    }

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
    public async Task TransportNiceLowersEveryThreadButTheModelThreads()
    {
        var repo = Path.Combine(_dir.FullName, "repo");
        var options = new ModelRepositoryOptions { SampleRate = 1024, KernelSeconds = 1, Stride = 32, Batch = 2, Witnesses = 3 };
        await ModelRepository.WriteAsync(repo, ModelRepositoryBuilder.Build(options));
        await using var server = GwreproBackground.Start("serve", ["serve", "--model-repository", repo, "--grpc-port", "0", "--http-port", "0", "--metrics-port", "0",
            "--intra-op-threads", "2", "--transport-nice", "5"]);
        var listening = await server.WaitForLineAsync("listening on", TimeSpan.FromSeconds(60));
        int port = int.Parse(System.Text.RegularExpressions.Regex.Match(listening, @"gRPC (\d+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        using (var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{port}"))
            Assert.True((await new GRPCInferenceService.GRPCInferenceServiceClient(channel).ModelReadyAsync(new ModelReadyRequest { Name = "gwe2e" })).Ready);
        var line = server.Lines.Single(l => l.Contains("transport threads kept at nice", StringComparison.Ordinal));
        var m = System.Text.RegularExpressions.Regex.Match(line, @"nice (\d+), model threads \(ORT:\*\) at nice (-?\d+)");
        Assert.True(m.Success, line);
        int transport = int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        int model = int.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(Math.Min(19, model + 5), transport);

        // The sweep runs every second: within a few, every thread is where it belongs (threads keep coming and going).
        List<(string Name, int Nice)> threads = [];
        var clock = System.Diagnostics.Stopwatch.StartNew();
        do
        {
            await Task.Delay(500);
            threads = Threads(server.Id);
        }
        while (clock.Elapsed < TimeSpan.FromSeconds(15) && threads.Any(t => t.Nice != (t.Name.StartsWith("ORT:", StringComparison.Ordinal) ? model : transport)));
        var wrong = threads.Where(t => t.Nice != (t.Name.StartsWith("ORT:", StringComparison.Ordinal) ? model : transport)).ToList();
        Assert.True(wrong.Count == 0, "threads at the wrong nice value: " + string.Join(", ", wrong));
        // One thread per model instance, and ONNX Runtime's intra-op threads (2 per session: the caller plus one of its own) named after the loading thread.
        int onnxModels = Directory.EnumerateFiles(repo, "model.onnx", SearchOption.AllDirectories).Count();
        // (Linux keeps 15 characters of a thread's name: "ORT:snapshotter v1 #0" reads "ORT:snapshotter".)
        Assert.Equal(onnxModels, threads.Count(t => t.Name.StartsWith("ORT:", StringComparison.Ordinal) && !t.Name.StartsWith("ORT:load ", StringComparison.Ordinal) && t.Name != "ORT:spawner"));
        Assert.Single(threads, t => t.Name == "ORT:spawner");
        Assert.Equal(onnxModels, threads.Count(t => t.Name.StartsWith("ORT:load ", StringComparison.Ordinal)));
        Assert.Contains(threads, t => t.Name.StartsWith(".NET TP Worker", StringComparison.Ordinal) || t.Name.StartsWith(".NET Sockets", StringComparison.Ordinal));
    }

    /// <summary>Name and nice value of every thread of a process, from /proc/PID/task.</summary>
    private static List<(string Name, int Nice)> Threads(int pid)
    {
        var threads = new List<(string, int)>();
        foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
        {
            try
            {
                var stat = File.ReadAllText(Path.Combine(task, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                threads.Add((File.ReadAllText(Path.Combine(task, "comm")).TrimEnd('\n'), int.Parse(fields[16], System.Globalization.CultureInfo.InvariantCulture)));
            }
            catch (IOException)
            {
                // the thread ended
            }
        }
        return threads;
    }

    [Theory]
    [InlineData("20")]
    [InlineData("-1")]
    public async Task TransportNiceOutOfRangeIsRefusedWithExitCode2(string nice)
    {
        var repo = Path.Combine(_dir.FullName, "repo");
        await ModelRepository.WriteAsync(repo, ModelRepositoryBuilder.Build(new ModelRepositoryOptions { SampleRate = 1024, KernelSeconds = 1, Stride = 32, Batch = 2, Witnesses = 3 }));
        var r = await GwreproProcess.RunAsync("serve", "--model-repository", repo, "--grpc-port", "0", "--http-port", "0", "--metrics-port", "0", "--transport-nice", nice);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains($"--transport-nice {nice}: must be 0 (off) to 19", r.StdErr);
        Assert.DoesNotContain("listening on", r.StdErr);
    }

    [Fact]
    public async Task ServeRefusesAMissingRepositoryWithExitCode2()
    {
        var r = await GwreproProcess.RunAsync("serve", "--model-repository", Path.Combine(_dir.FullName, "nope"), "--grpc-port", "0");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("model repository directory does not exist", r.StdErr);
    }
}
