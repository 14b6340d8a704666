using GwReprocess.Tests.Cli;
using GwReprocess.Tests.Inference;
using Xunit.Abstractions;

namespace GwReprocess.Tests.Jobs;

/// <summary><c>gwrepro client</c> against <c>gwrepro serve --tls-cert/--tls-key --token</c> whose certificate a private CA signed.</summary>
[Collection(SmallWienerRunCollection.Name)]
public sealed class ClientTlsTests(SmallWienerRunFixture run, ITestOutputHelper output)
{
    private static string OnlyErrorLine(GwreproProcess.Result r)
    {
        Assert.DoesNotContain("   at ", r.StdErr);       // no stack trace
        Assert.DoesNotContain("--verbose", r.StdErr);     // nor the hint to get one: the line is the whole reason
        return Assert.Single(r.StdErr.Split('\n'), l => l.StartsWith("gwrepro client:", StringComparison.Ordinal)).TrimEnd();
    }

    [Fact]
    public async Task A_server_certificate_from_a_private_CA_is_trusted_with_tls_ca_and_refused_without_it()
    {
        string dir = Path.Combine(run.Root, "tls");
        Directory.CreateDirectory(dir);
        using var ca = TestCertificates.CreateCa("gwrepro test CA");
        using var stranger = TestCertificates.CreateCa("some other CA");
        var (certificate, key) = TestCertificates.CreateServerCertificate(ca, "127.0.0.1", "localhost");
        string caFile = Path.Combine(dir, "ca.pem"), strangerFile = Path.Combine(dir, "other-ca.pem");
        await File.WriteAllTextAsync(Path.Combine(dir, "server.crt"), certificate);
        await File.WriteAllTextAsync(Path.Combine(dir, "server.key"), key);
        await File.WriteAllTextAsync(caFile, ca.ExportCertificatePem());
        await File.WriteAllTextAsync(strangerFile, stranger.ExportCertificatePem());
        int port = ClientRunDirectory.FreePort();
        string address = $"127.0.0.1:{port}";
        await using var server = await run.StartServerAsync("tls server", port,
            "--tls-cert", Path.Combine(dir, "server.crt"), "--tls-key", Path.Combine(dir, "server.key"), "--token", "s3cret");

        // The workflow names the CA (relative to its directory): the client connects with TLS and trusts it, for the
        // readiness checks, the model layout and the stream.
        string workflow = await run.WorkflowAsync("tls-job", inference: "tls_ca = \"../tls/ca.pem\"");
        var ok = await GwreproProcess.RunAsync(SmallWienerRunFixture.ClientArguments(workflow, address, "--token", "s3cret"), timeout: TimeSpan.FromMinutes(2));
        Assert.True(ok.ExitCode == 0, ok.StdErr);
        Assert.Equal(2, ok.StdErr.Split('\n').Count(l => l.Contains("committed frame", StringComparison.Ordinal)));
        Assert.True(File.Exists(Path.Combine(run.Root, "tls-job", "out", "done", "job")));

        // TLS with the system's trust store only, or with a CA that did not sign the certificate: exit 1 at once, one line.
        string plain = await run.WorkflowAsync("tls-untrusted");
        string[][] untrusted = [["--tls"], ["--tls-ca", strangerFile]];
        foreach (var extra in untrusted)
        {
            var refused = await GwreproProcess.RunAsync(SmallWienerRunFixture.ClientArguments(plain, address, [.. extra, "--token", "s3cret", "--ready-timeout", "60"]),
                timeout: TimeSpan.FromMinutes(1));
            Assert.True(refused.ExitCode == 1, refused.StdErr);
            string line = OnlyErrorLine(refused);
            output.WriteLine(line);
            Assert.Contains($"server {address}: its TLS certificate is not trusted: no trusted CA signed it (", line);
            Assert.Contains("--tls-ca", line);
        }

        // No TLS at all against the TLS server: exit 1 at once (not at the readiness deadline), one line saying it speaks TLS.
        var plaintext = await GwreproProcess.RunAsync(SmallWienerRunFixture.ClientArguments(plain, address, "--token", "s3cret", "--ready-timeout", "120"),
            timeout: TimeSpan.FromMinutes(1));
        Assert.True(plaintext.ExitCode == 1, plaintext.StdErr);
        string plainLine = OnlyErrorLine(plaintext);
        output.WriteLine(plainLine);
        Assert.Contains($"server {address} speaks TLS but this client connected without it; give the CA that signed its certificate with --tls-ca FILE", plainLine);

        // A CA file that is not PEM: exit 2 naming it, before any connection.
        string notPem = Path.Combine(dir, "ca.der");
        await File.WriteAllBytesAsync(notPem, ca.RawData);
        var bad = await GwreproProcess.RunAsync(SmallWienerRunFixture.ClientArguments(plain, address, "--tls-ca", notPem), timeout: TimeSpan.FromMinutes(1));
        Assert.True(bad.ExitCode == 2, bad.StdErr);
        Assert.Equal($"gwrepro client: {notPem}: not a PEM CA bundle: no -----BEGIN CERTIFICATE----- block in it", OnlyErrorLine(bad));
        Assert.False(Directory.Exists(Path.Combine(run.Root, "tls-untrusted", "out", "cleaned")));
    }
}
