using System.Net;
using System.Security.Cryptography;
using GwReprocess.Tests.Cli;
using GwReprocess.Tests.Inference;
using GwReprocess.Workflow;

namespace GwReprocess.Tests.Workflow;

/// <summary>
/// <c>gwrepro run</c> on the tiny workflow with <c>[inference] tls_cert/tls_key/tls_ca/token_file</c>: the DAG's server node
/// serves TLS with a throwaway private CA's certificate and requires the token; the client jobs trust that CA and send the
/// token; neither secret appears in the DAG or a submit file.
/// </summary>
public sealed class RunTlsEndToEndTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("gwrepro-run-tls-");

    public void Dispose() => _dir.Delete(true);

    /// <summary>A throwaway CA and a server certificate for this host's name (what a server on 0.0.0.0 publishes), 127.0.0.1 and localhost.</summary>
    internal static (string Ca, string Certificate, string Key) CreateCertificates()
    {
        using var ca = TestCertificates.CreateCa("gwrepro test CA");
        var (certificate, key) = TestCertificates.CreateServerCertificate(ca, Dns.GetHostName(), Dns.GetHostName(), "localhost");
        return (ca.ExportCertificatePem(), certificate, key);
    }

    [Fact]
    public async Task The_DAG_starts_a_TLS_server_with_a_token_and_its_clients_connect_through_the_CA()
    {
        var (ca, cert, key) = CreateCertificates();
        string tls = Directory.CreateDirectory(Path.Combine(_dir.FullName, "secrets")).FullName;
        File.WriteAllText(Path.Combine(tls, "ca.pem"), ca);
        File.WriteAllText(Path.Combine(tls, "server.pem"), cert);
        File.WriteAllText(Path.Combine(tls, "server.key"), key);
        string token = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        File.WriteAllText(Path.Combine(tls, "token"), token + "\n");

        string workflow = Path.Combine(_dir.FullName, "tiny-tls.toml");
        File.WriteAllText(workflow, RunEndToEndTests.Workflow.Replace("clients_per_server = 2\n",
            "clients_per_server = 2\ntls_cert = \"secrets/server.pem\"\ntls_key = \"secrets/server.key\"\ntls_ca = \"secrets/ca.pem\"\ntoken_file = \"secrets/token\"\n"));
        string run = Path.Combine(_dir.FullName, "run");
        var r = await GwreproProcess.RunAsync(["run", workflow, "--out", run, "--stop-grace", "10"], _dir.FullName, timeout: TimeSpan.FromMinutes(4));
        Assert.True(r.ExitCode == 0, r.StdOut + r.StdErr);
        Assert.Contains("run: 2 of 2 client job(s) complete (2 run, 0 done before), 0 failed, 0 not run; final node analyze succeeded", r.StdOut);
        foreach (var (start, dur) in new[] { (1000000008, 24), (1000000032, 24) })
        {
            Assert.True(File.Exists(Path.Combine(run, "out", "cleaned", "H1", $"H-H1_CLEAN-{start}-{dur}.gwf")));
            Assert.True(File.Exists(Path.Combine(run, "out", "done", $"clean_H1L1_{start}_{dur}")));
        }

        // The server node served TLS with the token required; the files it and the clients read are the run directory's copies.
        string serverLog = File.ReadAllText(Path.Combine(run, "logs", "server_0.0.err"));
        Assert.Contains("(TLS)", serverLog);
        Assert.Contains("bearer token required", serverLog);
        Assert.Contains("--tls-cert tls-cert.pem --tls-key tls-key.pem --token-file server.token", File.ReadAllText(Path.Combine(run, "server.sub")));
        Assert.Contains("--tls-ca tls-ca.pem --token-file server.token", File.ReadAllText(Path.Combine(run, "client.sub")));
        Assert.Equal(cert, File.ReadAllText(Path.Combine(run, RunDirectory.TlsCertName)));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(run, RunDirectory.TlsKeyName)));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(run, RunDirectory.TokenName)));
        }
        foreach (var file in Directory.EnumerateFiles(run, "*.sub").Append(Path.Combine(run, RunDirectory.DagName)))
            Assert.DoesNotContain(token, File.ReadAllText(file));
        Assert.DoesNotContain(token, r.StdOut + r.StdErr);
    }
}
