using System.Text;
using GwReprocess.Inference;
using GwReprocess.Server.Repository;
using GwReprocess.Storage;
using GwReprocess.Tests.Cli;
using GwReprocess.Tests.Storage;

namespace GwReprocess.Tests.Training;

/// <summary>
/// gwrepro-train --out s3://BUCKET/PREFIX against moto on loopback, with gwrepro serve polling the same prefix: an upload cut
/// off midway leaves nothing a server loads, a rerun then writes the version, and the server loads exactly the bytes the same
/// training writes into a directory.
/// </summary>
[Collection(TrainingProgramCollection.Name)]
public sealed class BucketRepositoryTrainingTests(TrainingProgramFixture f)
{
    private const string Bucket = "gwrepro-train-tests";

    [SkippableTheory]
    [InlineData("1/model.onnx")]
    [InlineData("config.pbtxt")]
    public async Task An_upload_cut_off_midway_leaves_nothing_loadable_and_a_rerun_writes_the_version_a_polling_server_loads(string cut)
    {
        using var moto = await StartMotoAsync();
        using (var bucket = Open(moto.Endpoint)) await ((S3Bucket)bucket).CreateAsync();
        string prefix = $"repo-{cut.Replace('/', '-').Replace('.', '-')}/";
        string repository = $"s3://{Bucket}/{prefix}";
        string dir = Path.Combine(f.Root, "bucket-" + prefix.TrimEnd('/'));

        await using var server = GwreproBackground.Start("server", ["serve", "--model-repository", repository, "--grpc-port", "0", "--http-port", "0",
            "--metrics-port", "0", "--repository-poll-secs", "1", "--intra-op-threads", "1", "--inter-op-threads", "1"], f.Root, Environment(moto.Endpoint));
        await server.WaitForLineAsync("listening on", TimeSpan.FromMinutes(1));

        // The training's uploads of deepclean-h1/<cut> are reset after their headers and a few bytes of the body, every attempt.
        await using (var proxy = UploadCuttingProxy.Start(moto.Port, $"{Bucket}/{prefix}deepclean-h1/{cut}"))
        {
            var (code, stdout, stderr) = await f.TrainAsync(f.QuickArguments(repository, Path.Combine(dir, "report-cut")), Environment(proxy.Endpoint));
            Assert.True(code == 1, $"exit {code}\n{stdout}\n{stderr}");
            Assert.True(proxy.Cuts >= 2, $"{proxy.Cuts} upload(s) cut: the store's retries were not all cut off");
            var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.True(lines.Length == 1, stderr);
            Assert.StartsWith($"gwrepro-train: {repository}deepclean-h1/{cut}: ", lines[0]);
            Assert.DoesNotContain("wrote ", stdout);
        }

        // What a polling server sees, through its own store: no model deepclean-h1, so no version of it.
        using (var store = new BucketModelRepositoryStore(Open(moto.Endpoint), prefix))
        {
            Assert.DoesNotContain("deepclean-h1", await store.ListModelsAsync(CancellationToken.None));
            var keys = await KeysAsync(moto.Endpoint, prefix);
            // Cut on the config, the ONNX went up whole under its final key, yet stays invisible without a config.
            string[] expected = cut == "config.pbtxt" ? ["deepclean-h1/1/model.onnx"] : [];
            Assert.Equal(expected, keys);
        }
        await Task.Delay(TimeSpan.FromSeconds(3)); // three polls
        Assert.DoesNotContain(server.Lines, l => l.Contains("'deepclean-h1'", StringComparison.Ordinal));
        Assert.False(server.HasExited, server.StdErr);

        // The same training again, uncut: the failed attempt's leftover does not block version 1.
        var rerun = await f.TrainAsync(f.QuickArguments(repository, Path.Combine(dir, "report")), Environment(moto.Endpoint));
        Assert.True(rerun.ExitCode == 0, rerun.Stdout + rerun.Stderr);
        Assert.Contains($"wrote {repository}deepclean-h1/1", rerun.Stdout);
        Assert.Equal(["deepclean-h1/1/model.onnx", "deepclean-h1/config.pbtxt"], await KeysAsync(moto.Endpoint, prefix));

        await server.WaitForLineAsync("loaded model 'deepclean-h1' version 1", TimeSpan.FromMinutes(1));
        // The bytes the server loaded are those the same seed and threads write into a directory.
        var local = await f.SharedRunAsync("seed3-a", 3);
        Assert.True(local.ExitCode == 0, local.Stdout + local.Stderr);
        using (var bucket = Open(moto.Endpoint))
        {
            Assert.Equal(File.ReadAllBytes(local.Model), await bucket.ReadAllBytesAsync($"{prefix}deepclean-h1/1/model.onnx"));
            Assert.Equal(File.ReadAllText(Path.Combine(local.Repository, "deepclean-h1", ModelConfigFile.FileName)),
                Encoding.UTF8.GetString(await bucket.ReadAllBytesAsync($"{prefix}deepclean-h1/config.pbtxt")));
        }

        // A live version is refused, and left as it was.
        var again = await f.TrainAsync(f.QuickArguments(repository, Path.Combine(dir, "report-again")), Environment(moto.Endpoint));
        Assert.Equal(2, again.ExitCode);
        Assert.Equal($"gwrepro-train: {repository}deepclean-h1/1: version 1 exists already; choose another --version", again.Stderr.Trim());
        Assert.Equal(File.ReadAllBytes(local.Model), await ReadAsync(moto.Endpoint, $"{prefix}deepclean-h1/1/model.onnx"));
    }

    private static async Task<byte[]> ReadAsync(string endpoint, string key)
    {
        using var bucket = Open(endpoint);
        return await bucket.ReadAllBytesAsync(key);
    }

    private static async Task<List<string>> KeysAsync(string endpoint, string prefix)
    {
        using var bucket = Open(endpoint);
        var keys = new List<string>();
        await foreach (var o in bucket.ListAsync(prefix)) keys.Add(o.Key[prefix.Length..]);
        return keys;
    }

    private static IBucket Open(string endpoint) => new S3Bucket(BucketScheme.S3, Bucket, new BucketOptions
    {
        Endpoint = endpoint, Region = "us-east-1", AccessKeyId = "testing-access-key", SecretAccessKey = "testing-secret-key",
        MaxAttempts = 3, BaseRetryDelay = TimeSpan.FromMilliseconds(20), Environment = _ => null,
    });

    /// <summary>How gwrepro-train and gwrepro serve reach the store: the standard AWS variables, nothing from the host's own.</summary>
    private static Dictionary<string, string?> Environment(string endpoint) => new()
    {
        ["AWS_ENDPOINT_URL"] = endpoint,
        ["AWS_ENDPOINT_URL_S3"] = null,
        ["AWS_ACCESS_KEY_ID"] = "testing-access-key",
        ["AWS_SECRET_ACCESS_KEY"] = "testing-secret-key",
        ["AWS_SESSION_TOKEN"] = null,
        ["AWS_REGION"] = "us-east-1",
        ["AWS_PROFILE"] = null,
    };

    /// <summary>moto on a free loopback port; skipped without moto_server, except under CI=true (as the storage tests).</summary>
    private static async Task<MotoServer> StartMotoAsync()
    {
        try { return await MotoServer.StartAsync(); }
        catch (InvalidOperationException e) when (!S3ServerFixture.UnderCi)
        {
            Skip.If(true, $"no S3 server: {e.Message}");
            throw;
        }
    }
}
