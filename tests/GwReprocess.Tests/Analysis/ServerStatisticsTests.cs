using Google.Protobuf;
using Grpc.Net.Client;
using GwReprocess.Analysis;
using GwReprocess.Models;
using GwReprocess.Tests.Cli;
using Inference;

namespace GwReprocess.Tests.Analysis;

/// <summary>The FINAL node's fallback when nobody scraped the servers: their ModelStatistics read once over gRPC.</summary>
public sealed class ServerStatisticsTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("gwrepro-stats-");

    public void Dispose() => _dir.Delete(true);

    [Fact]
    public async Task Counters_of_a_served_model_are_read_from_the_rendezvous_servers()
    {
        var repo = Path.Combine(_dir.FullName, "repo");
        var options = new ModelRepositoryOptions { SampleRate = 1024, KernelSeconds = 1, Stride = 32, Batch = 2, Witnesses = 3 };
        await ModelRepository.WriteAsync(repo, ModelRepositoryBuilder.Build(options));
        var rendezvous = Path.Combine(_dir.FullName, "rendezvous");
        var run = GwreproProcess.RunAsync(["serve", "--model-repository", repo, "--grpc-port", "0", "--http-port", "0", "--metrics-port", "0",
            "--name", "server0", "--rendezvous", rendezvous, "--intra-op-threads", "1"], timeout: TimeSpan.FromSeconds(60));
        try
        {
            var published = Path.Combine(rendezvous, "servers", "server0");
            for (int i = 0; i < 300 && !File.Exists(published) && !run.IsCompleted; i++) await Task.Delay(100);
            Assert.True(File.Exists(published), run.IsCompleted ? (await run).StdErr : "no address published within 30 s");
            string address = File.ReadAllText(published).Trim();

            // Three requests of zeros to the stateless post-processor, shaped from its own config.
            const int requests = 3;
            using (var channel = GrpcChannel.ForAddress("http://" + address))
            {
                var client = new GRPCInferenceService.GRPCInferenceServiceClient(channel);
                var config = (await client.ModelConfigAsync(new ModelConfigRequest { Name = ModelRepositoryBuilder.Postproc })).Config;
                var request = new ModelInferRequest { ModelName = ModelRepositoryBuilder.Postproc };
                foreach (var input in config.Input)
                {
                    var shape = new List<long>();
                    if (config.MaxBatchSize > 0) shape.Add(1);
                    shape.AddRange(input.Dims.Select(d => d < 0 ? 1 : d));
                    var tensor = new ModelInferRequest.Types.InferInputTensor { Name = input.Name, Datatype = "FP32" };
                    tensor.Shape.AddRange(shape);
                    request.Inputs.Add(tensor);
                    request.RawInputContents.Add(ByteString.CopyFrom(new byte[4 * shape.Aggregate(1L, (a, b) => a * b)]));
                }
                for (int i = 0; i < requests; i++) await client.ModelInferAsync(request);
            }

            var rows = await ServerStatistics.CollectAsync(rendezvous, null, TimeSpan.FromSeconds(10), CancellationToken.None);
            var post = Assert.Single(rows, r => r.Model == ModelRepositoryBuilder.Postproc);
            Assert.Equal(address, post.Server);
            Assert.Equal(requests, post.RequestSuccess);
            Assert.Equal(0, post.RequestFailure);
            Assert.True(post.ComputeInferUs > 0);
            Assert.Contains(rows, r => r.Model == ModelRepositoryBuilder.EndToEnd && r.RequestSuccess == 0);

            // Written beside the outputs, the snapshot reads back as a scrape file.
            string outputs = Path.Combine(_dir.FullName, "out");
            Directory.CreateDirectory(outputs);
            await ServerStatistics.WriteAsync(outputs, rows, CancellationToken.None);
            var back = ServerMetricsInterval.ReadCsv(Path.Combine(outputs, ServerStatistics.FileName));
            Assert.Equal(requests, back.Single(r => r.Model == ModelRepositoryBuilder.Postproc).RequestSuccess);
        }
        finally
        {
            Directory.CreateDirectory(rendezvous);
            File.WriteAllText(Path.Combine(rendezvous, "stop"), "");
            await run;
        }
    }
}
