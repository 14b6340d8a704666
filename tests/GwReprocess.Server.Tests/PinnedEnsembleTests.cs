using Google.Protobuf;
using GwReprocess.Inference;
using GwReprocess.Models;
using Inference;

namespace GwReprocess.Server.Tests;

/// <summary>
/// <see cref="PinnedEnsemble"/> (issue 18): a trained chunk's ensemble copy pins its cleaner's version, appears in one step,
/// and the real server picks it up by polling and runs the pinned version while a newer one is the latest.
/// </summary>
public sealed class PinnedEnsembleTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "gwrepro-pinned-" + Guid.NewGuid().ToString("N")[..12]);

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private static void WriteVersion(string repository, string model, long version, RepositoryModel network)
    {
        string tmp = Path.Combine(repository, model, $".tmp-{version}");
        Directory.CreateDirectory(tmp);
        File.WriteAllBytes(Path.Combine(tmp, ModelRepository.OnnxFileName), network.Onnx!.ToByteArray());
        Directory.Move(tmp, Path.Combine(repository, model, version.ToString(System.Globalization.CultureInfo.InvariantCulture)));
    }

    private async Task<string> RepositoryAsync()
    {
        Directory.CreateDirectory(_dir);
        await ModelRepository.WriteAsync(_dir, ModelRepositoryBuilder.Build(TestServer.SmallOptions));
        return _dir;
    }

    [Fact]
    public async Task A_trained_cleaner_takes_the_place_of_the_linear_one_in_a_named_copy()
    {
        // gwrepro-train --ensemble-from: an ensemble built around wiener-h1 gets a copy whose wiener-h1 step runs deepclean-h1 version 1.
        Directory.CreateDirectory(_dir);
        var o = TestServer.SmallOptions;
        var models = ModelRepositoryBuilder.Build(o);
        await ModelRepository.WriteAsync(_dir, models);
        var original = ModelConfigFile.Read(Path.Combine(_dir, ModelRepositoryBuilder.EndToEnd, "config.pbtxt"));
        string replaced = original.EnsembleScheduling.Step.Select(s => s.ModelName).First(n => n.EndsWith("-h1", StringComparison.Ordinal));
        WriteVersion(_dir, "trained-h1", 1, DeepCleanNetwork.Build("trained-h1", o.Witnesses, o.Kernel, o.Batch, seed: 3));
        File.WriteAllText(Path.Combine(_dir, "trained-h1", "config.pbtxt"),
            File.ReadAllText(Path.Combine(_dir, replaced, "config.pbtxt")).Replace($"\"{replaced}\"", "\"trained-h1\"", StringComparison.Ordinal));

        string name = await PinnedEnsemble.WriteAsync(_dir, ModelRepositoryBuilder.EndToEnd, new Dictionary<string, string> { [replaced] = "trained-h1" }, 1, "gwe2e-trained");
        Assert.Equal("gwe2e-trained", name);
        var written = ModelConfigFile.Read(Path.Combine(_dir, "gwe2e-trained", "config.pbtxt"));
        var step = written.EnsembleScheduling.Step.Single(s => s.ModelName == "trained-h1");
        Assert.Equal(1, step.ModelVersion);
        Assert.DoesNotContain(written.EnsembleScheduling.Step, s => s.ModelName == replaced);
        Assert.Equal(original.EnsembleScheduling.Step.Count, written.EnsembleScheduling.Step.Count);
        Assert.Equal(original.EnsembleScheduling.Step.Single(s => s.ModelName == replaced).InputMap, step.InputMap);
        Assert.Contains("trained-h1 version 1 in place of " + replaced, written.Parameters["description"].StringValue, StringComparison.Ordinal);
        Assert.Empty(ModelRepositoryCheck.Check(_dir));
        // Beside the linear cleaner: the trained one answers the ensemble's noise output, the linear one keeps feeding the later steps.
        await PinnedEnsemble.WriteAsync(_dir, ModelRepositoryBuilder.EndToEnd, new Dictionary<string, string> { [replaced] = "trained-h1" }, 1, "gwe2e-both",
            keepReplacedForLaterSteps: true);
        var both = ModelConfigFile.Read(Path.Combine(_dir, "gwe2e-both", "config.pbtxt"));
        string tensor = original.EnsembleScheduling.Step.Single(s => s.ModelName == replaced).OutputMap.Values.Single();
        Assert.Equal(original.EnsembleScheduling.Step.Count + 1, both.EnsembleScheduling.Step.Count);
        Assert.Equal(tensor, both.EnsembleScheduling.Step.Single(s => s.ModelName == "trained-h1").OutputMap.Values.Single());
        Assert.Equal($"{tensor}_{replaced}", both.EnsembleScheduling.Step.Single(s => s.ModelName == replaced).OutputMap.Values.Single());
        var consumers = both.EnsembleScheduling.Step.Where(s => s.InputMap.Values.Contains($"{tensor}_{replaced}")).ToList();
        Assert.NotEmpty(consumers);
        Assert.DoesNotContain(both.EnsembleScheduling.Step, s => s.InputMap.Values.Contains(tensor));
        Assert.Contains(both.Output, o => o.Name == tensor);
        Assert.Empty(ModelRepositoryCheck.Check(_dir));
        // Summed: the ensemble's noise is the linear estimate plus the trained one; the later steps still read the linear one alone.
        await ModelRepository.WriteAsync(_dir, [NoiseSumNetwork.Build("noise-sum", o.Kernel, o.Batch)]);
        await PinnedEnsemble.WriteAsync(_dir, ModelRepositoryBuilder.EndToEnd, new Dictionary<string, string> { [replaced] = "trained-h1" }, 1, "gwe2e-sum",
            sumModel: "noise-sum");
        var summed = ModelConfigFile.Read(Path.Combine(_dir, "gwe2e-sum", "config.pbtxt"));
        Assert.Equal(original.EnsembleScheduling.Step.Count + 2, summed.EnsembleScheduling.Step.Count);
        var sum = summed.EnsembleScheduling.Step.Single(s => s.ModelName == "noise-sum");
        Assert.Equal(tensor, sum.OutputMap["noise"]);
        Assert.Equal($"{tensor}_{replaced}", sum.InputMap[NoiseSumNetwork.LinearInput]);
        Assert.Equal($"{tensor}_trained-h1", sum.InputMap[NoiseSumNetwork.NonlinearInput]);
        Assert.Equal($"{tensor}_trained-h1", summed.EnsembleScheduling.Step.Single(s => s.ModelName == "trained-h1").OutputMap.Values.Single());
        Assert.DoesNotContain(summed.EnsembleScheduling.Step.Where(s => s.ModelName != "noise-sum"), s => s.InputMap.Values.Contains($"{tensor}_trained-h1"));
        Assert.Empty(ModelRepositoryCheck.Check(_dir));
    }

    [Fact]
    public async Task Copy_pins_the_cleaner_steps_only_and_the_cleaner_keeps_every_version()
    {
        string repo = await RepositoryAsync();
        var o = TestServer.SmallOptions;
        WriteVersion(repo, "deepclean-h1", 7, DeepCleanNetwork.Build("deepclean-h1", o.Witnesses, o.Kernel, o.Batch, seed: 7));
        string original = await File.ReadAllTextAsync(Path.Combine(repo, ModelRepositoryBuilder.EndToEnd, "config.pbtxt"));

        string name = await PinnedEnsemble.WriteAsync(repo, ModelRepositoryBuilder.EndToEnd, ["deepclean-h1"], 7);
        Assert.Equal("gwe2e-v7", name);

        // Expected: the original config with its name changed and the deepclean-h1 step pinned, built from the original independently.
        var expected = ModelConfigFile.Parse(original);
        expected.Name = "gwe2e-v7";
        foreach (var step in expected.EnsembleScheduling.Step.Where(s => s.ModelName == "deepclean-h1")) step.ModelVersion = 7;
        string text = await File.ReadAllTextAsync(Path.Combine(repo, "gwe2e-v7", "config.pbtxt"));
        var written = ModelConfigFile.Parse(text);
        Assert.Equal(expected, written);
        Assert.Equal(7, written.EnsembleScheduling.Step.Single(s => s.ModelName == "deepclean-h1").ModelVersion);
        Assert.All(written.EnsembleScheduling.Step.Where(s => s.ModelName != "deepclean-h1"), s => Assert.Equal(-1, s.ModelVersion));
        Assert.Contains("name: \"gwe2e-v7\"", text, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(repo, "gwe2e-v7", "1", ModelRepository.EnsemblePlaceholder)));
        Assert.Equal(original, await File.ReadAllTextAsync(Path.Combine(repo, ModelRepositoryBuilder.EndToEnd, "config.pbtxt")));
        Assert.Equal(ModelVersionPolicy.PolicyChoiceOneofCase.All,
            ModelConfigFile.Read(Path.Combine(repo, "deepclean-h1", "config.pbtxt")).VersionPolicy.PolicyChoiceCase);
        Assert.Null(ModelConfigFile.Read(Path.Combine(repo, "deepclean-l1", "config.pbtxt")).VersionPolicy);
        Assert.Empty(Directory.GetDirectories(repo, ".*"));

        // The same copy again is a no-op; a cleaner without version K, or one the ensemble does not run, is refused by name.
        Assert.Equal("gwe2e-v7", await PinnedEnsemble.WriteAsync(repo, ModelRepositoryBuilder.EndToEnd, ["deepclean-h1"], 7));
        var missing = await Assert.ThrowsAsync<BadInputException>(() => PinnedEnsemble.WriteAsync(repo, ModelRepositoryBuilder.EndToEnd, ["deepclean-l1"], 7));
        Assert.Contains("model 'deepclean-l1' has no version 7", missing.Message, StringComparison.Ordinal);
        var stranger = await Assert.ThrowsAsync<BadInputException>(() => PinnedEnsemble.WriteAsync(repo, ModelRepositoryBuilder.CleanerStream, ["deepclean-l1"], 7));
        Assert.Contains("has no step running 'deepclean-l1'", stranger.Message, StringComparison.Ordinal);
        // A different model already under the name is not overwritten.
        await File.WriteAllTextAsync(Path.Combine(repo, "gwe2e-v7", "config.pbtxt"), text.Replace("model_version: 7", "model_version: 1", StringComparison.Ordinal));
        var clash = await Assert.ThrowsAsync<BadInputException>(() => PinnedEnsemble.WriteAsync(repo, ModelRepositoryBuilder.EndToEnd, ["deepclean-h1"], 7));
        Assert.Contains("model 'gwe2e-v7' already exists with another config", clash.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bucket_repository_gets_the_same_copy_and_the_servers_bucket_store_lists_it()
    {
        string repo = await RepositoryAsync();
        var o = TestServer.SmallOptions;
        WriteVersion(repo, "deepclean-h1", 5, DeepCleanNetwork.Build("deepclean-h1", o.Witnesses, o.Kernel, o.Batch, seed: 5));
        string copy = Path.Combine(Path.GetTempPath(), "gwrepro-pinned-dir-" + Guid.NewGuid().ToString("N")[..12]);
        try
        {
            // The same repository as a plain directory, for the expected text.
            CopyDirectory(repo, copy);
            await PinnedEnsemble.WriteAsync(copy, ModelRepositoryBuilder.EndToEnd, ["deepclean-h1", "deepclean-l1"], 1);
            string url = new Uri(repo + "/").AbsoluteUri;
            Assert.StartsWith("file:///", url, StringComparison.Ordinal);
            Assert.Equal("gwe2e-v1", await PinnedEnsemble.WriteAsync(url, ModelRepositoryBuilder.EndToEnd, ["deepclean-h1", "deepclean-l1"], 1));
            Assert.Equal(await File.ReadAllTextAsync(Path.Combine(copy, "gwe2e-v1", "config.pbtxt")), await File.ReadAllTextAsync(Path.Combine(repo, "gwe2e-v1", "config.pbtxt")));
            Assert.Equal(await File.ReadAllTextAsync(Path.Combine(copy, "deepclean-h1", "config.pbtxt")), await File.ReadAllTextAsync(Path.Combine(repo, "deepclean-h1", "config.pbtxt")));
            var missing = await Assert.ThrowsAsync<BadInputException>(() => PinnedEnsemble.WriteAsync(url, ModelRepositoryBuilder.EndToEnd, ["deepclean-l1"], 5));
            Assert.Contains("model 'deepclean-l1' has no version 5", missing.Message, StringComparison.Ordinal);
            Assert.StartsWith("file:///", missing.Message, StringComparison.Ordinal); // named as a bucket object: the bucket path ran
            var (bucket, prefix) = GwReprocess.Storage.BucketFactory.Open(url);
            using var store = new GwReprocess.Server.Repository.BucketModelRepositoryStore(bucket, prefix);
            Assert.Contains("gwe2e-v1", await store.ListModelsAsync(CancellationToken.None));
            Assert.Equal([1L], await store.ListVersionsAsync("gwe2e-v1", CancellationToken.None));
        }
        finally
        {
            Directory.Delete(copy, recursive: true);
        }
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (var dir in Directory.GetDirectories(from, "*", SearchOption.AllDirectories)) Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, dir)));
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories)) File.Copy(file, Path.Combine(to, Path.GetRelativePath(from, file)));
    }

    [Fact]
    public async Task The_pinned_model_directory_appears_complete_in_one_rename()
    {
        string repo = await RepositoryAsync();
        var o = TestServer.SmallOptions;
        WriteVersion(repo, "deepclean-h1", 3, DeepCleanNetwork.Build("deepclean-h1", o.Witnesses, o.Kernel, o.Batch, seed: 3));
        string target = Path.Combine(repo, "deepclean-stream-v3");
        var events = new List<(WatcherChangeTypes Kind, string Path)>();
        var renamed = new TaskCompletionSource();
        using var watcher = new FileSystemWatcher(repo) { IncludeSubdirectories = true };
        watcher.Created += (_, e) => { lock (events) events.Add((e.ChangeType, e.FullPath)); };
        watcher.Changed += (_, e) => { lock (events) events.Add((e.ChangeType, e.FullPath)); };
        watcher.Renamed += (_, e) =>
        {
            lock (events) events.Add((e.ChangeType, e.FullPath));
            if (e.FullPath == target) renamed.TrySetResult();
        };
        watcher.EnableRaisingEvents = true;

        await PinnedEnsemble.WriteAsync(repo, ModelRepositoryBuilder.CleanerStream, ["deepclean-h1"], 3);
        // Waits for the event, not for a time: the rename is reported once inotify delivers it.
        await renamed.Task.WaitAsync(TimeSpan.FromMinutes(1));
        lock (events)
        {
            // Nothing was ever created or written under the final name: it came into being by the rename of a finished directory.
            Assert.DoesNotContain(events, e => e.Kind != WatcherChangeTypes.Renamed && (e.Path == target || e.Path.StartsWith(target + "/", StringComparison.Ordinal)));
            Assert.Contains(events, e => e.Kind == WatcherChangeTypes.Created && e.Path.Contains("/.deepclean-stream-v3.partial-", StringComparison.Ordinal));
        }
        Assert.True(File.Exists(Path.Combine(target, "config.pbtxt")));
        Assert.Empty(Directory.GetDirectories(repo, ".*"));
    }

    [Fact]
    public async Task A_polling_server_loads_the_copy_and_runs_the_pinned_version_while_a_newer_one_is_latest()
    {
        await using var s = await TestServer.StartAsync(o => o with { RepositoryPollSeconds = 1 });
        var o = TestServer.SmallOptions;
        WriteVersion(s.Repository, "deepclean-h1", 7, DeepCleanNetwork.Build("deepclean-h1", o.Witnesses, o.Kernel, o.Batch, seed: 70));
        await PinnedEnsemble.WriteAsync(s.Repository, ModelRepositoryBuilder.CleanerStream, ["deepclean-h1"], 7);
        // A later chunk's training writes a newer version: plain ensembles follow it, the pinned copy must not.
        WriteVersion(s.Repository, "deepclean-h1", 9, DeepCleanNetwork.Build("deepclean-h1", o.Witnesses, o.Kernel, o.Batch, seed: 90));

        const string pinned = "deepclean-stream-v7";
        bool ready = false;
        for (int attempt = 0; attempt < 600 && !ready; attempt++)
        {
            ready = (await s.Client.ModelReadyAsync(new ModelReadyRequest { Name = pinned })).Ready
                && (await s.Client.ModelMetadataAsync(new ModelMetadataRequest { Name = "deepclean-h1" })).Versions.Contains("9");
            if (!ready) await Task.Delay(100);
        }
        Assert.True(ready, "the server never loaded the pinned ensemble and version 9 by polling");
        Assert.Equal(["1", "7", "9"], (await s.Client.ModelMetadataAsync(new ModelMetadataRequest { Name = "deepclean-h1" })).Versions);

        async Task<long> SuccessesAsync(string version) =>
            (long)(await s.Client.ModelStatisticsAsync(new ModelStatisticsRequest { Name = "deepclean-h1", Version = version })).ModelStats.Single().InferenceStats.Success.Count;
        long v7 = await SuccessesAsync("7"), v9 = await SuccessesAsync("9");
        var update = TestServer.Signal(3 * 64, 5);
        var viaPinned = await s.Client.ModelInferAsync(TestServer.InSequence(TestServer.RawRequest(pinned, "snapshot_update", update, [1, 3, 64]), 11, true, true));
        Assert.Equal(v7 + 1, await SuccessesAsync("7"));
        Assert.Equal(v9, await SuccessesAsync("9"));
        var viaLatest = await s.Client.ModelInferAsync(TestServer.InSequence(TestServer.RawRequest(ModelRepositoryBuilder.CleanerStream, "snapshot_update", update, [1, 3, 64]), 12, true, true));
        Assert.Equal(v9 + 1, await SuccessesAsync("9"));
        Assert.NotEqual(TestServer.Output(viaPinned, "noise"), TestServer.Output(viaLatest, "noise"));
    }
}
