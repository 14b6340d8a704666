using System.Globalization;
using System.Text;
using GwReprocess.Storage;
using GwReprocess.Tests.Cli;
using GwReprocess.Tests.Storage;
using Xunit.Abstractions;

namespace GwReprocess.Tests.Jobs;

/// <summary>A small run directory and a server for the bucket tests: 64 s of H1+L1 (16 s files, 3 witnesses), one job of two 16 s frames.</summary>
public sealed class ClientBucketFixture : IAsyncLifetime
{
    public static readonly ClientRunOptions Options = new(Seconds: 64, FrameLength: 16, Witnesses: 3, Stride: 256, Batch: 4);

    public ClientRunDirectory Run { get; private set; } = null!;

    public GwreproBackground Server { get; private set; } = null!;

    public string Address { get; private set; } = "";

    public const string Job = "job000";

    public async Task InitializeAsync()
    {
        Run = await ClientRunDirectory.CreateAsync(Options);
        await Run.WriteJobsAsync([(Options.Start + 16, Options.Start + 48)]);
        int port = ClientRunDirectory.FreePort();
        Server = await Run.StartServerAsync(port);
        Address = $"127.0.0.1:{port}";
    }

    public string[] ClientArgs(string workflow) => ["client", "--workflow", workflow, "--jobs", Run.Jobs, "--job", Job, "--server", Address];

    public async Task DisposeAsync()
    {
        if (Server is not null) await Server.DisposeAsync();
        Run?.Dispose();
    }
}

/// <summary><c>gwrepro client</c> with frames read from an S3 bucket and outputs written to one (moto on loopback): same bytes as a local run.</summary>
[Collection(S3ServerCollection.Name)]
public sealed class ClientBucketTests(S3ServerFixture s3, ClientBucketFixture f, ITestOutputHelper output) : IClassFixture<ClientBucketFixture>
{
    private static readonly TimeSpan Long = TimeSpan.FromMinutes(3);

    private Dictionary<string, string?> Environment() => new()
    {
        ["AWS_ENDPOINT_URL"] = s3.Endpoint,
        ["AWS_ACCESS_KEY_ID"] = "client-key",
        ["AWS_SECRET_ACCESS_KEY"] = "client-secret",
        ["AWS_REGION"] = "us-east-1",
    };

    private static int Count(string log, string text) => log.Split('\n').Count(l => l.Contains(text, StringComparison.Ordinal));

    /// <summary>Every object under <paramref name="prefix"/> whose key (relative to it) starts with one of <paramref name="folders"/>, with its bytes.</summary>
    private static async Task<SortedDictionary<string, byte[]>> ObjectsAsync(IBucket bucket, string prefix, params string[] folders)
    {
        var result = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        await foreach (var o in bucket.ListAsync(prefix))
        {
            string key = o.Key[prefix.Length..];
            if (folders.Any(x => key.StartsWith(x + "/", StringComparison.Ordinal))) result[key] = await bucket.ReadAllBytesAsync(o.Key);
        }
        return result;
    }

    [SkippableFact]
    public async Task Frames_from_a_bucket_and_outputs_to_a_bucket_equal_a_local_run_and_a_rerun_skips_committed_frames()
    {
        s3.Require();
        string run = $"client-{Guid.NewGuid():N}/";
        string root = $"s3://{S3ServerFixture.BucketName}/{run}";
        using var bucket = s3.Open();

        // The frames go up as IGWN-named objects, with no cache beside them: the client finds them by listing the prefix.
        foreach (var file in Directory.EnumerateFiles(Path.Combine(f.Run.Path, "frames"), "*.gwf"))
        {
            await using var content = File.OpenRead(file);
            await bucket.WriteAsync($"{run}frames/{Path.GetFileName(file)}", content);
        }

        var local = await GwreproProcess.RunAsync(f.ClientArgs(await f.Run.WriteWorkflowAsync("local.toml", "out-local")), f.Run.Path, null, Long);
        Assert.True(local.ExitCode == 0, local.StdErr);
        var expected = ClientRunDirectory.Files(Path.Combine(f.Run.Path, "out-local"), "cleaned", "scores");
        Assert.Equal(6, expected.Count); // two frames: H1 and L1 cleaned frames and a score file each

        // As in the DAG: a server node publishes its address in the run's rendezvous prefix (here in the bucket) and the
        // client is given the node's name.
        await using var server = GwreproBackground.Start("server0", ["serve", "--model-repository", f.Run.Repository, "--grpc-port", "0", "--http-port", "0",
            "--metrics-port", "0", "--intra-op-threads", "1", "--inter-op-threads", "1", "--name", "server0", "--rendezvous", root + "out/rendezvous"], f.Run.Path, Environment());
        string workflow = await f.Run.WriteWorkflowAsync("bucket.toml", root + "out", data: $"source = \"bucket\"\nbucket = \"{root}frames/\"");
        string[] dagLine = ["client", "--workflow", workflow, "--jobs", f.Run.Jobs, "--job", ClientBucketFixture.Job, "--server", "server0"];
        var remote = await GwreproProcess.RunAsync(dagLine, f.Run.Path, Environment(), Long);
        Assert.True(remote.ExitCode == 0, remote.StdErr + "\n" + server.StdErr);
        Assert.Contains("server server0 is 127.0.0.1:", remote.StdErr);
        Assert.Equal(2, Count(remote.StdErr, "committed frame"));
        Assert.False(Directory.Exists(Path.Combine(f.Run.Path, "out")), "the bucket run wrote outputs locally");
        foreach (var (what, r) in new[] { ("local", local), ("s3", remote) })
            output.WriteLine($"{what}: {r.StdErr.Split('\n').LastOrDefault(l => l.Contains(" done: ", StringComparison.Ordinal))}");

        string outputs = run + "out/";
        var actual = await ObjectsAsync(bucket, outputs, "cleaned", "scores");
        Assert.Equal(expected.Keys, actual.Keys);
        foreach (var (key, bytes) in expected) Assert.True(bytes.AsSpan().SequenceEqual(actual[key]), $"{root}out/{key} differs from the local run's file");

        // Checkpoints, metrics and the barrier are in the bucket too.
        var markers = await ObjectsAsync(bucket, outputs, "progress", "done", "metrics", "rendezvous");
        string[] frames = [$"{f.Run.Options.Start + 16}-16", $"{f.Run.Options.Start + 32}-16"];
        Assert.Equal(frames.Select(x => $"progress/{ClientBucketFixture.Job}/{x}"), markers.Keys.Where(k => k.StartsWith("progress/", StringComparison.Ordinal)));
        Assert.Contains($"done/{ClientBucketFixture.Job}", markers.Keys);
        Assert.Contains($"metrics/{ClientBucketFixture.Job}.csv", markers.Keys);
        Assert.Contains($"rendezvous/ready/{ClientBucketFixture.Job}", markers.Keys);
        Assert.Equal(remote.StdErr.Split("server server0 is ")[1].Split([' ', '\n'])[0], Encoding.UTF8.GetString(markers["rendezvous/servers/server0"]).Trim());

        // Run again as it is: the done marker ends it at once.
        var again = await GwreproProcess.RunAsync(dagLine, f.Run.Path, Environment(), Long);
        Assert.True(again.ExitCode == 0, again.StdErr);
        Assert.Contains($"already done ({root}out/done/{ClientBucketFixture.Job})", again.StdErr);

        // Lose the second frame (its outputs, its progress marker and the done marker, as a job preempted after one frame
        // leaves things): the rerun keeps the first frame and writes only the second, with the same bytes.
        string first = Encoding.UTF8.GetString(markers[$"progress/{ClientBucketFixture.Job}/{frames[0]}"]);
        await bucket.DeleteAsync($"{outputs}done/{ClientBucketFixture.Job}");
        await bucket.DeleteAsync($"{outputs}progress/{ClientBucketFixture.Job}/{frames[1]}");
        foreach (var key in actual.Keys.Where(k => k.Contains(frames[1], StringComparison.Ordinal))) await bucket.DeleteAsync(outputs + key);
        var resumed = await GwreproProcess.RunAsync(dagLine, f.Run.Path, Environment(), Long);
        Assert.True(resumed.ExitCode == 0, resumed.StdErr);
        Assert.Contains("1 of 2 frame(s) already committed; resuming", resumed.StdErr);
        Assert.Equal(1, Count(resumed.StdErr, "committed frame"));
        Assert.Contains($"[{f.Run.Options.Start + 32}, {f.Run.Options.Start + 48})", resumed.StdErr.Split('\n').Single(l => l.Contains("committed frame", StringComparison.Ordinal)));
        Assert.Equal(first, Encoding.UTF8.GetString(await bucket.ReadAllBytesAsync($"{outputs}progress/{ClientBucketFixture.Job}/{frames[0]}")));
        actual = await ObjectsAsync(bucket, outputs, "cleaned", "scores");
        Assert.Equal(expected.Keys, actual.Keys);
        foreach (var (key, bytes) in expected) Assert.True(bytes.AsSpan().SequenceEqual(actual[key]), $"{root}out/{key} differs after the resumed run");
        Assert.True(await bucket.ExistsAsync($"{outputs}done/{ClientBucketFixture.Job}"));

        // The run's stop marker in the bucket stops the server, which withdraws its address.
        await bucket.WriteAllBytesAsync($"{outputs}rendezvous/stop", "test"u8.ToArray());
        Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.False(await bucket.ExistsAsync($"{outputs}rendezvous/servers/server0"));
    }

    [SkippableFact]
    public async Task A_cache_naming_a_missing_object_stops_with_exit_2_naming_its_key()
    {
        s3.Require();
        string run = $"client-{Guid.NewGuid():N}/";
        string root = $"s3://{S3ServerFixture.BucketName}/{run}";
        using var bucket = s3.Open();
        // A LAL cache of s3:// URLs; every file but one is uploaded.
        var cache = new StringBuilder();
        string missing = "";
        foreach (var file in Directory.EnumerateFiles(Path.Combine(f.Run.Path, "frames"), "*.gwf").Order(StringComparer.Ordinal))
        {
            string name = Path.GetFileName(file);
            var parts = Path.GetFileNameWithoutExtension(name).Split('-');
            cache.Append(CultureInfo.InvariantCulture, $"{parts[0]} {parts[1]} {parts[2]} {parts[3]} {root}frames/{name}\n");
            if (name == $"L-L1_SIM-{f.Run.Options.Start + 16}-16.gwf") missing = $"{root}frames/{name}";
            else
            {
                await using var content = File.OpenRead(file);
                await bucket.WriteAsync($"{run}frames/{name}", content);
            }
        }
        Assert.NotEqual("", missing);
        await File.WriteAllTextAsync(Path.Combine(f.Run.Path, "s3-frames.lcf"), cache.ToString());
        string workflow = await f.Run.WriteWorkflowAsync("cache.toml", root + "out", data: "source = \"cache\"\ncache = \"s3-frames.lcf\"");
        var r = await GwreproProcess.RunAsync(f.ClientArgs(workflow), f.Run.Path, Environment(), Long);
        Assert.True(r.ExitCode == 2, r.StdErr);
        var message = Assert.Single(r.StdErr.Split('\n'), l => l.StartsWith("gwrepro client:", StringComparison.Ordinal));
        Assert.Equal($"gwrepro client: {missing}: no such object", message.TrimEnd());
        Assert.False(await bucket.ExistsAsync($"{run}out/done/{ClientBucketFixture.Job}"));
    }
}
