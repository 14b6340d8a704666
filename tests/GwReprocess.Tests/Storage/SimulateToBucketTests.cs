using GwReprocess.Storage;

namespace GwReprocess.Tests.Storage;

/// <summary><c>gwrepro simulate --out s3://…</c> against moto: the uploaded files are the ones a local run writes.</summary>
[Collection(S3ServerCollection.Name)]
public sealed class SimulateToBucketTests(S3ServerFixture server) : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("gwrepro-simbucket-");

    public void Dispose() => _dir.Delete(true);

    [SkippableFact]
    public async Task Simulated_frames_in_a_bucket_equal_a_local_run_bit_for_bit()
    {
        server.Require();
        string prefix = $"sim-{Guid.NewGuid():N}/";
        string[] common = ["simulate", "--start", "1000000000", "--duration", "8", "--ifos", "H1", "--frame-length", "8", "--witnesses", "2", "--injection-rate", "0", "--seed", "5"];
        var env = new Dictionary<string, string?>
        {
            ["AWS_ENDPOINT_URL"] = server.Endpoint,
            ["AWS_ACCESS_KEY_ID"] = "sim-key",
            ["AWS_SECRET_ACCESS_KEY"] = "sim-secret",
            ["AWS_REGION"] = "us-east-1",
        };
        var remote = await Cli.GwreproProcess.RunAsync([.. common, "--out", $"s3://{S3ServerFixture.BucketName}/{prefix}"], null, env, null);
        Assert.True(remote.ExitCode == 0, remote.StdErr);
        var local = await Cli.GwreproProcess.RunAsync([.. common, "--out", _dir.FullName], null, null, null);
        Assert.True(local.ExitCode == 0, local.StdErr);

        using var bucket = new S3Bucket(BucketScheme.S3, S3ServerFixture.BucketName, server.Options());
        IBucket b = bucket;
        byte[] uploaded = await b.ReadAllBytesAsync(prefix + "H-H1_SIM-1000000000-8.gwf");
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(_dir.FullName, "H-H1_SIM-1000000000-8.gwf")), uploaded);
        // The cache written beside the frames lists them at their bucket location.
        string cache = System.Text.Encoding.UTF8.GetString(await b.ReadAllBytesAsync(prefix + "H1.lcf"));
        Assert.Contains($"s3://{S3ServerFixture.BucketName}/{prefix}H-H1_SIM-1000000000-8.gwf", cache);
    }
}
