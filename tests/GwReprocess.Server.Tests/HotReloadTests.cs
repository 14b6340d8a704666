using Google.Protobuf;
using Grpc.Core;
using GwReprocess.Models;
using Inference;

namespace GwReprocess.Server.Tests;

/// <summary>--repository-poll-secs: a new version appears while streams run; nothing fails, new requests use it, running sequences finish on the version that holds their state.</summary>
public sealed class HotReloadTests
{
    private static void WriteVersion(string repository, string model, long version, byte[] onnx)
    {
        // The version directory appears with its file inside (a poll never sees an empty version).
        string tmp = Path.Combine(repository, model, $".tmp-{version}");
        Directory.CreateDirectory(tmp);
        File.WriteAllBytes(Path.Combine(tmp, ModelRepository.OnnxFileName), onnx);
        Directory.Move(tmp, Path.Combine(repository, model, version.ToString(System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Fact]
    public async Task NewVersionWhileStreamsRunNoRequestFails()
    {
        await using var s = await TestServer.StartAsync(o => o with { RepositoryPollSeconds = 1 });
        var o = TestServer.SmallOptions;
        var v2 = DeepCleanNetwork.Build("deepclean-h1", o.Witnesses, o.Kernel, o.Batch, seed: 4711);
        var x = TestServer.Signal(2 * 3 * 1024, 9);
        var v1Noise = TestServer.RunInProcess(s.Model("deepclean-h1"), ("witness", x, [2, 3, 1024]))["noise"];
        var v2Noise = TestServer.RunInProcess(v2, ("witness", x, [2, 3, 1024]))["noise"];
        Assert.NotEqual(v1Noise, v2Noise);

        using var stop = new CancellationTokenSource();
        var sequenceVersions = new List<string>();
        int sent = 0, ensembleAnswers = 0;
        async Task<int> StreamAsync(string model, long id, List<string>? versions)
        {
            using var call = s.Client.ModelStreamInfer();
            var reader = Task.Run(async () =>
            {
                int ok = 0;
                await foreach (var r in call.ResponseStream.ReadAllAsync())
                {
                    Assert.True(r.ErrorMessage == "", $"request {r.InferResponse.Id} failed during reload: {r.ErrorMessage}");
                    lock (sequenceVersions) versions?.Add(r.InferResponse.ModelVersion);
                    if (versions is null) Interlocked.Increment(ref ensembleAnswers);
                    ok++;
                }
                return ok;
            });
            int i = 0;
            while (!stop.IsCancellationRequested || i < 3)
            {
                await call.RequestStream.WriteAsync(TestServer.InSequence(
                    TestServer.RawRequest(model, "snapshot_update", TestServer.Signal(3 * 64, i), [1, 3, 64], $"{model}-{i}"), id, i == 0, false));
                Interlocked.Increment(ref sent);
                i++;
                await Task.Delay(20);
            }
            await call.RequestStream.CompleteAsync();
            int answered = await reader;
            Assert.Equal(i, answered);
            return answered;
        }
        var ensembleStream = StreamAsync(ModelRepositoryBuilder.CleanerStream, 1, null);
        var snapshotStream = StreamAsync(ModelRepositoryBuilder.StreamSnapshotter, 2, sequenceVersions);
        // Both sequences must have started on version 1 before version 2 appears: on a loaded machine the first
        // answers can take longer than a poll interval.
        var started = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (DateTime.UtcNow < started && (Volatile.Read(ref ensembleAnswers) == 0 || sequenceVersions.Count == 0)) await Task.Delay(20);
        lock (sequenceVersions) Assert.True(sequenceVersions.Count > 0 && ensembleAnswers > 0, "the streams did not start within 30 s");
        await Task.Delay(300);

        WriteVersion(s.Repository, "deepclean-h1", 2, v2.Onnx!.ToByteArray());
        WriteVersion(s.Repository, ModelRepositoryBuilder.StreamSnapshotter, 2, s.Model(ModelRepositoryBuilder.StreamSnapshotter).Onnx!.ToByteArray());
        ModelInferResponse? after = null;
        for (int attempt = 0; attempt < 100; attempt++)
        {
            after = await s.Client.ModelInferAsync(TestServer.RawRequest("deepclean-h1", "witness", x, [2, 3, 1024]));
            if (after.ModelVersion == "2") break;
            TestServer.Close(v1Noise, TestServer.Output(after, "noise"), 0);
            await Task.Delay(100);
        }
        Assert.Equal("2", after!.ModelVersion);
        TestServer.Close(v2Noise, TestServer.Output(after, "noise"), 0);
        // Also the snapshotter has moved on: wait for its reload, then let the streams run a little longer.
        for (int attempt = 0; attempt < 50 && (await s.Client.ModelMetadataAsync(new ModelMetadataRequest { Name = ModelRepositoryBuilder.StreamSnapshotter })).Versions.Single() != "2"; attempt++)
            await Task.Delay(100);
        await Task.Delay(300);
        stop.Cancel();
        Assert.True(await ensembleStream > 3);
        Assert.True(await snapshotStream > 3);

        // Policy latest 1: version 1 is no longer served to new requests; the running sequence stayed on the version holding its state.
        Assert.False((await s.Client.ModelReadyAsync(new ModelReadyRequest { Name = "deepclean-h1", Version = "1" })).Ready);
        Assert.All(sequenceVersions, v => Assert.Equal("1", v));
        var fresh = await s.Client.ModelInferAsync(TestServer.InSequence(TestServer.RawRequest(ModelRepositoryBuilder.StreamSnapshotter, "snapshot_update", new float[192], [1, 3, 64]), 99, true, true));
        Assert.Equal("2", fresh.ModelVersion);
        lock (s.Log)
        {
            Assert.Contains(s.Log, l => l.Contains("loaded model 'deepclean-h1' version 2", StringComparison.Ordinal));
            Assert.Contains(s.Log, l => l.Contains("retired model 'deepclean-h1' version 1", StringComparison.Ordinal));
        }
    }
}
