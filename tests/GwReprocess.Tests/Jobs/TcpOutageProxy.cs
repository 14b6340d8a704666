using System.Net;
using System.Net.Sockets;

namespace GwReprocess.Tests.Jobs;

/// <summary>
/// A loopback TCP forwarder that can go away and come back on the same port: while stopped, open connections are reset and
/// new ones are reset as soon as they are accepted, as when the service behind it (an S3 endpoint) goes down and is restarted.
/// </summary>
/// <remarks>The service itself keeps running behind it, so what was stored survives the outage, as it does on a real object store (moto keeps its objects in memory only).</remarks>
public sealed class TcpOutageProxy : IAsyncDisposable
{
    private readonly IPEndPoint _target;
    private readonly List<(TcpClient A, TcpClient B)> _open = [];
    private TcpListener? _listener;
    private Task _accept = Task.CompletedTask;

    private TcpOutageProxy(IPEndPoint target) => _target = target;

    public int Port { get; private set; }

    /// <summary>The URL to give clients (http://127.0.0.1:port).</summary>
    public string Endpoint => $"http://127.0.0.1:{Port}";

    private volatile bool _down;
    private int _turnedAway;

    /// <summary>Connections made while stopped, and reset at once: clients that tried the service while it was away.</summary>
    public int ConnectionsTurnedAway => Volatile.Read(ref _turnedAway);

    /// <summary>Open connections reset by <see cref="StopAsync"/> (clients that were using the service when it went away).</summary>
    public int ConnectionsReset { get; private set; }

    /// <summary>Times <see cref="StopAsync"/> was called.</summary>
    public int Outages { get; private set; }

    /// <summary>Starts forwarding 127.0.0.1:(free port) to <paramref name="targetPort"/> on loopback.</summary>
    public static TcpOutageProxy Start(int targetPort)
    {
        var proxy = new TcpOutageProxy(new IPEndPoint(IPAddress.Loopback, targetPort));
        proxy.Listen(0);
        return proxy;
    }

    private void Listen(int port)
    {
        var listener = new TcpListener(IPAddress.Loopback, port);
        listener.Start();
        Port = ((IPEndPoint)listener.LocalEndpoint).Port;
        _listener = listener;
        _accept = AcceptAsync(listener);
    }

    private async Task AcceptAsync(TcpListener listener)
    {
        while (true)
        {
            TcpClient client;
            try { client = await listener.AcceptTcpClientAsync(); }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or InvalidOperationException) { return; }
            if (_down)
            {
                Interlocked.Increment(ref _turnedAway);
                Reset(client);
                continue;
            }
            _ = ForwardAsync(client);
        }
    }

    private async Task ForwardAsync(TcpClient client)
    {
        var upstream = new TcpClient();
        try { await upstream.ConnectAsync(_target); }
        catch (SocketException)
        {
            Reset(client);
            upstream.Dispose();
            return;
        }
        lock (_open) _open.Add((client, upstream));
        var a = client.GetStream();
        var b = upstream.GetStream();
        try { await Task.WhenAny(a.CopyToAsync(b), b.CopyToAsync(a)); }
        catch (Exception e) when (e is IOException or ObjectDisposedException or SocketException) { }
        lock (_open) _open.Remove((client, upstream));
        client.Dispose();
        upstream.Dispose();
    }

    private static void Reset(TcpClient c)
    {
        // Linger 0: close sends RST, so the peer sees the connection reset rather than a clean end of the response.
        // The connection's own copy loop may have closed it already: a disposed TcpClient has no Client any more.
        var socket = c.Client;
        if (socket is not null)
            try { socket.LingerState = new LingerOption(true, 0); } catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
        c.Dispose();
    }

    /// <summary>Goes away: every open connection is reset, and new ones are reset as they come, until <see cref="Restart"/>.</summary>
    public Task StopAsync()
    {
        Outages++;
        _down = true;
        List<(TcpClient A, TcpClient B)> open;
        lock (_open) open = [.. _open];
        ConnectionsReset += open.Count;
        foreach (var (a, b) in open)
        {
            Reset(a);
            Reset(b);
        }
        return Task.CompletedTask;
    }

    /// <summary>Comes back (the same port: it never stopped listening).</summary>
    public void Restart() => _down = false;

    public async ValueTask DisposeAsync()
    {
        _down = true;
        _listener?.Stop();
        await _accept;
    }
}
