using System.Diagnostics;
using System.Net;
using System.Text;
using GwReprocess.Inference;
using GwReprocess.Storage;

namespace GwReprocess.Server.Hosting;

/// <summary>The run's rendezvous prefix (a directory or a bucket prefix), server side: servers publish <c>servers/&lt;name&gt;</c> (host:grpcport) when ready (clients read it with <see cref="ServerAddress"/>); a <c>stop</c> object asks them to shut down.</summary>
public sealed class Rendezvous : IDisposable
{
    /// <summary>The object that asks every server of the run to stop.</summary>
    public const string StopMarker = "stop";

    private readonly IBucket _bucket;
    private readonly string _prefix;

    private Rendezvous(IBucket bucket, string prefix, string location)
    {
        _bucket = bucket;
        _prefix = BucketUri.AsPrefix(prefix);
        Location = location;
    }

    /// <summary>A local path, file://, s3:// or gs:// prefix.</summary>
    public static Rendezvous Open(string location)
    {
        var (bucket, prefix) = BucketFactory.Open(location);
        return new Rendezvous(bucket, prefix, location);
    }

    /// <summary>As given on the command line.</summary>
    public string Location { get; }

    /// <summary>Where a server's address object lives.</summary>
    public string AddressLocation(string name) => _bucket.UriOf(ServerAddress.Key(_prefix, name)).ToString();

    /// <summary>The address clients should dial: the machine's host name when listening on every interface.</summary>
    public static string AdvertisedHost(string host) =>
        host is "0.0.0.0" or "*" or "::" ? Dns.GetHostName() : host;

    /// <summary>Atomically writes servers/&lt;name&gt; = host:port, so a reader never sees half an address.</summary>
    public async Task PublishAsync(string name, string host, int grpcPort, CancellationToken cancellationToken)
    {
        if (name.Length == 0 || name.Contains('/') || name.Contains('\\') || name.StartsWith('.'))
            throw new BadInputException($"--name '{name}': must be a plain file name");
        await _bucket.WriteAllBytesAsync(ServerAddress.Key(_prefix, name), Encoding.UTF8.GetBytes($"{host}:{grpcPort}\n"), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Addresses (host:port) of the servers that have published, by name.</summary>
    public async Task<IReadOnlyDictionary<string, string>> ServersAsync(CancellationToken cancellationToken)
    {
        var servers = new Dictionary<string, string>(StringComparer.Ordinal);
        await foreach (var o in _bucket.ListAsync(_prefix + ServerAddress.ServersFolder, cancellationToken).ConfigureAwait(false))
        {
            string name = o.Key[(_prefix.Length + ServerAddress.ServersFolder.Length)..];
            if (name.Length == 0 || name.Contains('/') || name.StartsWith('.')) continue;
            servers[name] = Encoding.UTF8.GetString(await _bucket.ReadAllBytesAsync(o.Key, cancellationToken).ConfigureAwait(false)).Trim();
        }
        return servers;
    }

    /// <summary>Removes a stop marker left by an earlier attempt of the run (a rescue DAG or a resubmission), so a server starting now does not stop at once; true when one was removed.</summary>
    /// <remarks>Safe because servers start before the clients and the FINAL node that writes the marker runs only after every client.</remarks>
    public async Task<bool> ClearStaleStopAsync(CancellationToken cancellationToken)
    {
        if (!await StopRequestedAsync(cancellationToken).ConfigureAwait(false)) return false;
        await _bucket.DeleteAsync(_prefix + StopMarker, cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>Removes servers/&lt;name&gt; when a server stops, so a later attempt's clients wait for the new address instead of dialling the old one.</summary>
    public Task WithdrawAsync(string name, CancellationToken cancellationToken) =>
        _bucket.DeleteAsync(ServerAddress.Key(_prefix, name), cancellationToken);

    public Task<bool> StopRequestedAsync(CancellationToken cancellationToken) => _bucket.ExistsAsync(_prefix + StopMarker, cancellationToken);

    /// <summary>Completes when the stop marker appears (checked every <paramref name="interval"/>).</summary>
    public async Task WaitForStopAsync(TimeSpan interval, CancellationToken cancellationToken)
    {
        while (!await StopRequestedAsync(cancellationToken).ConfigureAwait(false)) await Task.Delay(interval, cancellationToken).ConfigureAwait(false);
    }

    public void Dispose() => _bucket.Dispose();
}

/// <summary>Tells DAGMan a PROVISIONER node is ready: <c>condor_chirp set_job_attr ProvisionerState 2</c>.</summary>
public static class Provisioner
{
    /// <summary>condor_chirp from <c>$(condor_config_val LIBEXEC)</c> or /usr/libexec/condor, or null.</summary>
    public static string? FindChirp()
    {
        try
        {
            var psi = new ProcessStartInfo("condor_config_val", "LIBEXEC") { RedirectStandardOutput = true, RedirectStandardError = true };
            using var p = Process.Start(psi);
            if (p is not null)
            {
                string dir = p.StandardOutput.ReadToEnd().Trim();
                p.WaitForExit(10_000);
                if (p.ExitCode == 0 && dir.Length > 0 && File.Exists(Path.Combine(dir, "condor_chirp"))) return Path.Combine(dir, "condor_chirp");
            }
        }
        catch (System.ComponentModel.Win32Exception) { /* no condor_config_val on PATH */ }
        return File.Exists("/usr/libexec/condor/condor_chirp") ? "/usr/libexec/condor/condor_chirp" : null;
    }

    /// <summary>Runs the chirp; returns a log line saying what happened.</summary>
    public static async Task<string> SignalReadyAsync(CancellationToken cancellationToken)
    {
        var chirp = FindChirp();
        if (chirp is null) return "warning: --provisioner: condor_chirp not found (condor_config_val LIBEXEC, /usr/libexec/condor); DAGMan is not told the server is ready";
        var psi = new ProcessStartInfo(chirp) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "set_job_attr", "ProvisionerState", "2" }) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync(cancellationToken);
        await p.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        return p.ExitCode == 0 ? $"told DAGMan the server is ready ({chirp} set_job_attr ProvisionerState 2)"
            : $"warning: {chirp} set_job_attr ProvisionerState 2 failed with exit code {p.ExitCode}: {(await err.ConfigureAwait(false)).Trim()}";
    }
}
