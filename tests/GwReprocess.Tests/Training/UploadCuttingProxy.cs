using System.Net;
using System.Net.Sockets;
using System.Text;

namespace GwReprocess.Tests.Training;

/// <summary>
/// A loopback TCP forwarder in front of an S3 endpoint that cuts off every upload of one object: when the request line
/// <c>PUT /PATH</c> passes, it forwards the headers and at most a few bytes of the body, then resets both connections, as a
/// network failure in the middle of an upload does. Everything else passes untouched.
/// </summary>
public sealed class UploadCuttingProxy : IAsyncDisposable
{
    /// <summary>Body bytes let through before the cut: the store has begun to receive the object, never all of it.</summary>
    private const int BodyLetThrough = 16;

    private readonly IPEndPoint _target;
    private readonly byte[] _marker;
    private readonly TcpListener _listener;
    private readonly Task _accept;
    private int _cuts;

    private UploadCuttingProxy(int targetPort, string path)
    {
        _target = new IPEndPoint(IPAddress.Loopback, targetPort);
        _marker = Encoding.ASCII.GetBytes($"PUT /{path} ");
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        _accept = AcceptAsync();
    }

    /// <summary>Starts forwarding to <paramref name="targetPort"/>, cutting uploads of <paramref name="path"/> (path-style: <c>bucket/key</c>).</summary>
    public static UploadCuttingProxy Start(int targetPort, string path) => new(targetPort, path);

    /// <summary>The URL to give clients.</summary>
    public string Endpoint => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

    /// <summary>Uploads cut off so far.</summary>
    public int Cuts => Volatile.Read(ref _cuts);

    private async Task AcceptAsync()
    {
        while (true)
        {
            TcpClient client;
            try { client = await _listener.AcceptTcpClientAsync(); }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or InvalidOperationException) { return; }
            _ = ForwardAsync(client);
        }
    }

    private async Task ForwardAsync(TcpClient client)
    {
        using var upstream = new TcpClient();
        try
        {
            await upstream.ConnectAsync(_target);
            var a = client.GetStream();
            var b = upstream.GetStream();
            await Task.WhenAny(CopyCuttingAsync(a, b, client, upstream), b.CopyToAsync(a));
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or SocketException) { }
        finally
        {
            Reset(client);
            Reset(upstream);
        }
    }

    /// <summary>Copies the client's bytes upstream until an upload of the path has sent its headers and a few body bytes; then resets both.</summary>
    private async Task CopyCuttingAsync(NetworkStream from, NetworkStream to, TcpClient client, TcpClient upstream)
    {
        var buffer = new byte[1 << 16];
        var tail = Array.Empty<byte>(); // the last bytes already forwarded, so a request line split across reads is still seen
        int bodyLeft = -1; // after a matching request's headers: body bytes still to let through
        var header = new List<byte>(); // a matching request's bytes from its request line until the end of its headers
        while (true)
        {
            int n = await from.ReadAsync(buffer);
            if (n == 0) return;
            var chunk = buffer.AsMemory(0, n);
            if (bodyLeft >= 0)
            {
                await to.WriteAsync(chunk[..Math.Min(bodyLeft, n)]);
                bodyLeft -= Math.Min(bodyLeft, n);
                if (bodyLeft == 0) { Cut(client, upstream); return; }
                continue;
            }
            if (header.Count == 0)
            {
                var joined = tail.Concat(chunk.ToArray()).ToArray();
                int at = IndexOf(joined, _marker, 0);
                if (at < 0)
                {
                    await to.WriteAsync(chunk);
                    tail = joined[Math.Max(0, joined.Length - _marker.Length)..];
                    continue;
                }
                // Forward what precedes the request line in this read; hold the rest until its headers are complete.
                int start = Math.Max(0, at - tail.Length);
                await to.WriteAsync(chunk[..start]);
                header.AddRange(joined[(tail.Length + start)..]);
            }
            else header.AddRange(chunk.ToArray());
            int end = IndexOf([.. header], "\r\n\r\n"u8.ToArray(), 0);
            if (end < 0) continue;
            int keep = Math.Min(header.Count, end + 4 + BodyLetThrough);
            await to.WriteAsync(header.GetRange(0, keep).ToArray());
            bodyLeft = end + 4 + BodyLetThrough - keep;
            header.Clear();
            if (bodyLeft == 0) { Cut(client, upstream); return; }
        }
    }

    private void Cut(TcpClient client, TcpClient upstream)
    {
        Interlocked.Increment(ref _cuts);
        Reset(client);
        Reset(upstream);
    }

    private static int IndexOf(byte[] haystack, byte[] needle, int from)
    {
        for (int i = from; i + needle.Length <= haystack.Length; i++)
            if (haystack.AsSpan(i, needle.Length).SequenceEqual(needle)) return i;
        return -1;
    }

    private static void Reset(TcpClient c)
    {
        // Linger 0: close sends RST, so each side sees the connection reset rather than a clean end.
        try
        {
            if (c.Client is { } socket) socket.LingerState = new LingerOption(true, 0);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
        c.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        await _accept;
    }
}
