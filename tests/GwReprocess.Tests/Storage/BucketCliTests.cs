using System.Diagnostics;
using System.Text;

namespace GwReprocess.Tests.Storage;

/// <summary>The built <c>gwrepro bucket</c> run as a process against moto: outputs, files and exit codes.</summary>
[Collection(S3ServerCollection.Name)]
public sealed class BucketCliTests : IDisposable
{
    private readonly S3ServerFixture server;
    private readonly string _work = Path.Combine(Path.GetTempPath(), "gwrepro-cli-" + Guid.NewGuid().ToString("N"));
    private readonly string _prefix = $"cli-{Guid.NewGuid():N}/";

    public BucketCliTests(S3ServerFixture server)
    {
        this.server = server;
        Directory.CreateDirectory(_work);
    }

    private sealed record Run(int ExitCode, string Stdout, string Stderr);

    private async Task<Run> Gwrepro(IReadOnlyDictionary<string, string?> env, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = _work,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "gwrepro.dll"));
        foreach (var a in args) info.ArgumentList.Add(a);
        foreach (var name in (string[])["AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION"])
            info.Environment.Remove(name);
        // No profile files of the machine running the tests.
        info.Environment["AWS_SHARED_CREDENTIALS_FILE"] = Path.Combine(_work, "no-credentials");
        info.Environment["AWS_CONFIG_FILE"] = Path.Combine(_work, "no-config");
        foreach (var (k, v) in env) info.Environment[k] = v;
        using var p = Process.Start(info)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await p.WaitForExitAsync(timeout.Token);
        return new Run(p.ExitCode, await stdout, await stderr);
    }

    private Dictionary<string, string?> S3Env(string? endpoint = null) => new()
    {
        ["AWS_ENDPOINT_URL"] = endpoint ?? server.Endpoint,
        ["AWS_ACCESS_KEY_ID"] = "cli-key",
        ["AWS_SECRET_ACCESS_KEY"] = "cli-secret-value",
        ["AWS_REGION"] = "us-east-1",
    };

    private static void AssertOneLineError(Run run, string expected)
    {
        Assert.Equal(2, run.ExitCode);
        var lines = run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"expected one line on stderr, got:\n{run.Stderr}");
        Assert.StartsWith("gwrepro bucket: ", lines[0]);
        Assert.Contains(expected, lines[0]);
    }

    [SkippableFact]
    public async Task CopyUpListCacheAndCopyBackRoundTripFrames()
    {
        server.Require();
        Directory.CreateDirectory(Path.Combine(_work, "frames", "H1"));
        long t0 = 1_238_166_018;
        for (int i = 0; i < 4; i++)
            await File.WriteAllTextAsync(Path.Combine(_work, "frames", "H1", $"H-H1_HOFT_C00-{t0 + 4096 * i}-4096.gwf"), $"frame {i}");
        var env = S3Env();
        string remote = $"s3://{S3ServerFixture.BucketName}/{_prefix}";

        var up = await Gwrepro(env, "bucket", "cp", "-r", Path.Combine(_work, "frames"), remote + "O3");
        Assert.True(up.ExitCode == 0, up.Stderr);
        var ls = await Gwrepro(env, "bucket", "ls", remote, "--quiet");
        Assert.Equal(0, ls.ExitCode);
        var listed = ls.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(4, listed.Length);
        Assert.EndsWith($"{remote}O3/H1/H-H1_HOFT_C00-{t0}-4096.gwf", listed[0]);
        Assert.StartsWith("7 ", listed[0].TrimStart());

        var cache = await Gwrepro(env, "bucket", "cache", remote + "O3/", "--start", $"{t0 + 5000}", "--end", $"{t0 + 9000}", "--out", "span.lcf");
        Assert.True(cache.ExitCode == 0, cache.Stderr);
        Assert.Equal(
            $"H H1_HOFT_C00 {t0 + 4096} 4096 {remote}O3/H1/H-H1_HOFT_C00-{t0 + 4096}-4096.gwf\n" +
            $"H H1_HOFT_C00 {t0 + 8192} 4096 {remote}O3/H1/H-H1_HOFT_C00-{t0 + 8192}-4096.gwf\n",
            await File.ReadAllTextAsync(Path.Combine(_work, "span.lcf")));

        var down = await Gwrepro(env, "bucket", "cp", $"{remote}O3/H1/H-H1_HOFT_C00-{t0 + 8192}-4096.gwf", Path.Combine(_work, "back") + "/");
        Assert.True(down.ExitCode == 0, down.Stderr);
        Assert.Equal("frame 2", await File.ReadAllTextAsync(Path.Combine(_work, "back", $"H-H1_HOFT_C00-{t0 + 8192}-4096.gwf")));
    }

    [SkippableTheory]
    [InlineData("TERM")] // HTCondor preemption: the upload is aborted, nothing is left
    [InlineData("KILL")] // no chance to clean up: parts may linger, but no object appears
    public async Task KilledUploadLeavesNoVisibleObject(string signal)
    {
        server.Require();
        // The source is a named pipe the test feeds, so the upload is provably in the middle (parts sent, more to come) when the signal lands.
        string fifo = Path.Combine(_work, "strain.pipe");
        using (var mk = Process.Start("mkfifo", [fifo])!) await mk.WaitForExitAsync();
        string key = $"{_prefix}killed/H-H1_HOFT_C00-1238166018-4096.gwf";
        using var bucket = (GwReprocess.Storage.S3Bucket)server.Open();

        var info = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true, WorkingDirectory = _work };
        foreach (var a in (string[])[Path.Combine(AppContext.BaseDirectory, "gwrepro.dll"), "bucket", "cp", fifo, $"s3://{S3ServerFixture.BucketName}/{key}"])
            info.ArgumentList.Add(a);
        foreach (var (k, v) in S3Env()) info.Environment[k] = v;
        using var p = Process.Start(info)!;
        var stderr = p.StandardError.ReadToEndAsync();
        _ = p.StandardOutput.ReadToEndAsync();
        // Opening a FIFO for writing waits for its reader; if gwrepro never opens it, unblock the open by reading it ourselves.
        var opening = Task.Run(() => new FileStream(fifo, FileMode.Open, FileAccess.Write));
        if (await Task.WhenAny(opening, Task.Delay(TimeSpan.FromSeconds(30))) != opening)
        {
            using (new FileStream(fifo, FileMode.Open, FileAccess.Read)) { }
            (await opening).Dispose();
            Assert.Fail($"gwrepro never opened its input: {(p.HasExited ? await stderr : "still running")}");
        }
        var writer = await opening;
        try
        {
            var chunk = new byte[1 << 20];
            new Random(9).NextBytes(chunk);
            for (int i = 0; i < 40; i++) await writer.WriteAsync(chunk); // past the 16 MiB threshold: a multipart upload with parts sent
            await writer.FlushAsync();
            var clock = Stopwatch.StartNew();
            while ((await bucket.ListPendingUploadsAsync(_prefix + "killed/")).Count == 0)
            {
                Assert.False(p.HasExited, $"gwrepro exited before the upload started: {await stderr}");
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), "the upload never started");
                await Task.Delay(20);
            }
            using (var kill = Process.Start("kill", ["-" + signal, p.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!)
                await kill.WaitForExitAsync();
            await Task.Delay(200);
        }
        finally
        {
            // End of input: a gwrepro still reading sees the end, then its cancellation.
            try { writer.Dispose(); } catch (IOException) { }
        }
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await p.WaitForExitAsync(timeout.Token);

        Assert.Null(await ((GwReprocess.Storage.IBucket)bucket).StatAsync(key));
        if (signal == "TERM")
        {
            Assert.Equal(1, p.ExitCode);
            Assert.Contains("cancelled", await stderr);
            Assert.Empty(await bucket.ListPendingUploadsAsync(_prefix + "killed/"));
        }
        else
        {
            Assert.Equal(137, p.ExitCode);
        }
    }

    [SkippableFact]
    public async Task MissingBucketExitsTwoWithOneLine()
    {
        server.Require();
        AssertOneLineError(await Gwrepro(S3Env(), "bucket", "ls", "s3://gwrepro-no-such-bucket/frames/"), "s3://gwrepro-no-such-bucket/: no such bucket");
    }

    [SkippableFact]
    public async Task MissingObjectExitsTwoWithOneLine()
    {
        server.Require();
        string missing = $"s3://{S3ServerFixture.BucketName}/{_prefix}H-H1_HOFT_C00-1-1.gwf";
        AssertOneLineError(await Gwrepro(S3Env(), "bucket", "cp", missing, Path.Combine(_work, "x.gwf")), $"{missing}: no such object");
        Assert.False(File.Exists(Path.Combine(_work, "x.gwf")));
        Assert.Empty(Directory.GetFiles(_work)); // not even a temporary file
    }

    [Theory]
    [InlineData("s3://Upper_Case/x", "bucket name 'Upper_Case'")]
    [InlineData("s3:/frames/x", "malformed URI")]
    [InlineData("http://example.org/frames/", "unsupported scheme 'http://'")]
    [InlineData("s3:///key-without-bucket", "no bucket name")]
    public async Task BadUriExitsTwoWithOneLine(string uri, string expected)
    {
        AssertOneLineError(await Gwrepro(new Dictionary<string, string?>(), "bucket", "ls", uri), expected);
    }

    [SkippableFact]
    public async Task DeniedCredentialsExitTwoWithOneLineAndNoSecret()
    {
        server.Require();
        string strict = await server.StrictEndpointAsync();
        var run = await Gwrepro(S3Env(strict), "bucket", "ls", "s3://gwrepro-frames/O3/");
        AssertOneLineError(run, "access denied");
        Assert.Contains("InvalidAccessKeyId", run.Stderr);
        Assert.DoesNotContain("cli-secret-value", run.Stderr + run.Stdout);
    }

    [Fact]
    public async Task NoCredentialsForGsExitsTwoNamingTheVariables()
    {
        AssertOneLineError(await Gwrepro(new Dictionary<string, string?>(), "bucket", "ls", "gs://gwrepro-frames/O3/"), "GWREPRO_GCS_HMAC_ACCESS_ID");
    }

    public void Dispose()
    {
        if (Directory.Exists(_work)) Directory.Delete(_work, recursive: true);
    }
}
