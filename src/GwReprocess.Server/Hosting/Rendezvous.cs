using System.Diagnostics;
using System.Net;
using GwReprocess.Storage;

namespace GwReprocess.Server.Hosting;

/// <summary>The run's rendezvous directory: servers publish <c>servers/&lt;name&gt;</c> (host:grpcport) when ready; a <c>stop</c> file asks them to shut down.</summary>
public sealed class Rendezvous(string directory)
{
    /// <summary>The file that asks every server of the run to stop.</summary>
    public const string StopMarker = "stop";

    /// <summary>Local directory of a path or file:// URI (bucket prefixes need the storage module).</summary>
    public static Rendezvous Open(string location)
    {
        if (location.StartsWith("file://", StringComparison.Ordinal)) location = new Uri(location).LocalPath;
        else if (location.Contains("://", StringComparison.Ordinal))
            throw new BadInputException($"--rendezvous {location}: bucket rendezvous prefixes are not available in this build yet (local path or file:// only)");
        return new Rendezvous(location);
    }

    public string Directory { get; } = directory;

    /// <summary>The address clients should dial: the machine's host name when listening on every interface.</summary>
    public static string AdvertisedHost(string host) =>
        host is "0.0.0.0" or "*" or "::" ? Dns.GetHostName() : host;

    /// <summary>Atomically writes servers/&lt;name&gt; = host:port, so a reader never sees half an address.</summary>
    public async Task PublishAsync(string name, string host, int grpcPort, CancellationToken cancellationToken)
    {
        if (name.Length == 0 || name.Contains('/') || name.Contains('\\') || name.StartsWith('.'))
            throw new BadInputException($"--name '{name}': must be a plain file name");
        string dir = Path.Combine(Directory, "servers");
        System.IO.Directory.CreateDirectory(dir);
        await AtomicFile.WriteAllTextAsync(Path.Combine(dir, name), $"{host}:{grpcPort}\n", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Addresses (host:port) of the servers that have published, by name.</summary>
    public IReadOnlyDictionary<string, string> Servers()
    {
        string dir = Path.Combine(Directory, "servers");
        if (!System.IO.Directory.Exists(dir)) return new Dictionary<string, string>();
        return System.IO.Directory.GetFiles(dir).Where(f => !Path.GetFileName(f).StartsWith('.'))
            .ToDictionary(f => Path.GetFileName(f), f => File.ReadAllText(f).Trim(), StringComparer.Ordinal);
    }

    public bool StopRequested => File.Exists(Path.Combine(Directory, StopMarker));

    /// <summary>Completes when the stop marker appears (checked every <paramref name="interval"/>).</summary>
    public async Task WaitForStopAsync(TimeSpan interval, CancellationToken cancellationToken)
    {
        while (!StopRequested) await Task.Delay(interval, cancellationToken).ConfigureAwait(false);
    }
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
