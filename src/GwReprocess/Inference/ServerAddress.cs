using System.Diagnostics;
using System.Text;
using GwReprocess.Storage;

namespace GwReprocess.Inference;

/// <summary>Where a client finds its server: a host:port as given, or a server name looked up in the run's rendezvous prefix.</summary>
/// <remarks>Servers started by the DAG publish <c>&lt;rendezvous&gt;/servers/&lt;name&gt;</c> = <c>host:port</c> (written atomically) once they are ready.</remarks>
public static class ServerAddress
{
    /// <summary>The folder of server address objects, relative to the rendezvous prefix.</summary>
    public const string ServersFolder = "servers/";

    /// <summary>The key of server <paramref name="name"/>'s address under <paramref name="rendezvousPrefix"/> (a key in its bucket).</summary>
    public static string Key(string rendezvousPrefix, string name) => BucketUri.AsPrefix(rendezvousPrefix) + ServersFolder + name;

    /// <summary>True for a host:port (including <c>[v6]:port</c>); false for a plain server name.</summary>
    public static bool IsHostPort(string server) => server.Contains(':');

    /// <summary>The address a gRPC channel opens: <paramref name="address"/> as given when it starts with a URI scheme (<c>https://host:port</c>), else <c>http://host:port</c>.</summary>
    /// <remarks>A scheme is letters, digits, '+', '-' or '.' before the first ':', so <c>host:port</c> and <c>[::1]:port</c> never read as one.</remarks>
    public static string ChannelAddress(string address)
    {
        int colon = address.IndexOf(':');
        bool hasScheme = colon > 0 && Uri.CheckSchemeName(address[..colon]) && address.AsSpan(colon).StartsWith("://", StringComparison.Ordinal);
        return hasScheme ? address : "http://" + address;
    }

    /// <summary>A server name usable as a rendezvous object name: no '/', '\', ':' and no leading '.'.</summary>
    public static bool IsValidName(string name) =>
        name.Length > 0 && !name.Contains('/') && !name.Contains('\\') && !name.Contains(':') && !name.StartsWith('.') && !name.Any(char.IsWhiteSpace);

    /// <summary>Checks a host:port: a host and a port 1..65535.</summary>
    /// <exception cref="BadInputException">Not host:port (the message names <paramref name="source"/>).</exception>
    public static string ParseHostPort(string text, string source)
    {
        text = text.Trim();
        int colon = text.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(text.AsSpan(colon + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int port)
            || port is < 1 or > 65535 || text.AsSpan(0, colon).ContainsAny(" /\t"))
            throw new BadInputException($"{source}: '{text}' is not host:port");
        return text;
    }

    /// <summary>The address of <paramref name="server"/>, waiting (polling with backoff) for a named server to publish itself.</summary>
    /// <param name="server">host:port, or a server name (<c>server0</c>).</param>
    /// <param name="rendezvousPrefix">The run's rendezvous prefix: a local directory, file://, s3:// or gs:// URI (only used for names).</param>
    /// <param name="deadline">How long to wait for the address to appear.</param>
    /// <param name="cancellationToken">Stops the wait.</param>
    /// <exception cref="TimeoutException">The address did not appear in time (the message names where it was expected).</exception>
    /// <exception cref="BadInputException">A malformed server argument or address object.</exception>
    public static async Task<string> ResolveAsync(string server, string rendezvousPrefix, TimeSpan deadline, CancellationToken cancellationToken)
    {
        if (IsHostPort(server)) return ParseHostPort(server, "--server");
        if (!IsValidName(server)) throw new BadInputException($"--server '{server}': neither host:port nor a server name");
        var (bucket, prefix) = BucketFactory.Open(rendezvousPrefix);
        using (bucket)
        {
            string key = Key(prefix, server);
            var clock = Stopwatch.StartNew();
            var wait = TimeSpan.FromMilliseconds(100);
            while (true)
            {
                if (await bucket.ExistsAsync(key, cancellationToken).ConfigureAwait(false))
                {
                    byte[] content;
                    try { content = await bucket.ReadAllBytesAsync(key, cancellationToken).ConfigureAwait(false); }
                    catch (BucketNotFoundException) { content = []; } // replaced between the check and the read: look again
                    if (content.Length > 0) return ParseHostPort(Encoding.UTF8.GetString(content), bucket.UriOf(key).ToString());
                }
                var left = deadline - clock.Elapsed;
                if (left <= TimeSpan.Zero)
                    throw new TimeoutException($"server '{server}' did not publish its address at {bucket.UriOf(key)} within {deadline.TotalSeconds:0.#} s");
                await Task.Delay(wait < left ? wait : left, cancellationToken).ConfigureAwait(false);
                wait = TimeSpan.FromTicks(Math.Min(wait.Ticks * 2, TimeSpan.FromSeconds(2).Ticks));
            }
        }
    }
}
