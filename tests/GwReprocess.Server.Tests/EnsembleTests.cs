using Grpc.Core;
using GwReprocess.Models;
using Inference;

namespace GwReprocess.Server.Tests;

/// <summary>gwe2e through the server's ensemble scheduler equals its models run one by one in process with ONNX Runtime.</summary>
public sealed class EnsembleTests(SharedServer shared) : IClassFixture<SharedServer>
{
    [Fact]
    public async Task EndToEndOverAStreamEqualsTheModelsOneByOne()
    {
        var s = shared.Server;
        const int channels = 8, update = 64, k = 1024, requests = 4;
        var snapshotter = s.Model(ModelRepositoryBuilder.Snapshotter);
        var state = new float[channels * k];
        var expected = new List<Dictionary<string, float[]>>();
        var updates = Enumerable.Range(0, requests).Select(i => TestServer.Signal(channels * update, 100 + i)).ToList();
        foreach (var u in updates)
        {
            var snap = TestServer.RunInProcess(snapshotter, ("snapshot_update", u, [1, channels, update]), ("input_snapshot", state, [1, channels, k]));
            state = snap["output_snapshot"];
            var noiseH1 = TestServer.RunInProcess(s.Model("deepclean-h1"), ("witness", snap["witness_h1"], [2, 3, k]))["noise"];
            var noiseL1 = TestServer.RunInProcess(s.Model("deepclean-l1"), ("witness", snap["witness_l1"], [2, 3, k]))["noise"];
            var whitened = TestServer.RunInProcess(s.Model("postproc"),
                ("strain", snap["strain"], [2, 2, k]), ("noise_h1", noiseH1, [2, k]), ("noise_l1", noiseL1, [2, k]))["whitened"];
            var score = TestServer.RunInProcess(s.Model("bbhnet"), ("strain", whitened, [2, 2, k]))["score"];
            expected.Add(new() { ["noise_h1"] = noiseH1, ["noise_l1"] = noiseL1, ["score"] = score });
        }

        using var call = s.Client.ModelStreamInfer();
        for (int i = 0; i < requests; i++)
            await call.RequestStream.WriteAsync(TestServer.InSequence(
                TestServer.RawRequest(ModelRepositoryBuilder.EndToEnd, "snapshot_update", updates[i], [1, channels, update], $"e2e_{i}"), 31, i == 0, i == requests - 1));
        await call.RequestStream.CompleteAsync();
        int n = 0;
        await foreach (var r in call.ResponseStream.ReadAllAsync())
        {
            Assert.Equal("", r.ErrorMessage);
            Assert.Equal($"e2e_{n}", r.InferResponse.Id);
            Assert.Equal(["noise_h1", "noise_l1", "score"], r.InferResponse.Outputs.Select(o => o.Name));
            foreach (var name in expected[n].Keys) TestServer.Close(expected[n][name], TestServer.Output(r.InferResponse, name), 1e-5);
            n++;
        }
        Assert.Equal(requests, n);
        var stats = (await s.Client.ModelStatisticsAsync(new ModelStatisticsRequest { Name = "bbhnet" })).ModelStats.Single();
        Assert.True(stats.InferenceStats.Success.Count >= requests);
    }

    private static Dictionary<string, double> Failures(IReadOnlyList<GwReprocess.Analysis.PrometheusSample> samples, string model) =>
        samples.Where(x => x.Name == "nv_inference_request_failure" && x.Label("model") == model).ToDictionary(x => x.Label("reason"), x => x.Value);

    [Fact]
    public async Task AFailedStepFailsTheEnsembleAsOtherAndTheEnsembleIsNeverPending()
    {
        var s = shared.Server;
        var before = GwReprocess.Analysis.PrometheusText.Parse(await s.Metrics.GetStringAsync("/metrics"));
        // A sequence that never started: the snapshotter step's sequence batcher refuses it (a core refusal, OTHER), and so the ensemble fails.
        var request = TestServer.InSequence(TestServer.RawRequest(ModelRepositoryBuilder.EndToEnd, "snapshot_update", new float[8 * 64], [1, 8, 64], "orphan"), 9_999, false, false);
        var e = await TestServer.Fails(async () => await s.Client.ModelInferAsync(request));
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Contains("START flag", e.Status.Detail);

        var after = GwReprocess.Analysis.PrometheusText.Parse(await s.Metrics.GetStringAsync("/metrics"));
        var ensembleBefore = Failures(before, ModelRepositoryBuilder.EndToEnd);
        var ensembleAfter = Failures(after, ModelRepositoryBuilder.EndToEnd);
        Assert.Equal(["BACKEND", "CANCELED", "OTHER", "REJECTED"], ensembleAfter.Keys.Order(StringComparer.Ordinal));
        foreach (var (reason, n) in ensembleAfter) Assert.Equal(ensembleBefore[reason] + (reason == "OTHER" ? 1 : 0), n);
        var stepBefore = Failures(before, ModelRepositoryBuilder.Snapshotter);
        Assert.Equal(stepBefore["OTHER"] + 1, Failures(after, ModelRepositoryBuilder.Snapshotter)["OTHER"]);
        Assert.Equal(0, Assert.Single(after, x => x.Name == "nv_inference_pending_request_count" && x.Label("model") == ModelRepositoryBuilder.EndToEnd).Value);
    }
}
