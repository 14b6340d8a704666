using System.Net.Security;
using System.Net.Sockets;

namespace GwReprocess.Inference;

/// <summary>Tells whether a host:port answers a TLS handshake, to explain why a plaintext client gets nowhere with it.</summary>
public static class TlsProbe
{
    /// <summary>True when a TLS handshake with <paramref name="address"/> (host:port) completes within <paramref name="timeout"/>; false on any failure.</summary>
    public static async Task<bool> SpeaksTlsAsync(string address, TimeSpan timeout, CancellationToken cancellationToken)
    {
        Uri uri;
        try { uri = new Uri("tcp://" + address); }
        catch (UriFormatException) { return false; }
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            using var tcp = new TcpClient();
            await tcp.ConnectAsync(uri.IdnHost, uri.Port, cts.Token).ConfigureAwait(false);
            await using var tls = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false);
            // Any certificate is accepted: nothing is sent over this connection, the handshake only shows that the port speaks TLS.
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = uri.IdnHost,
                RemoteCertificateValidationCallback = (_, _, _, _) => true,
                ApplicationProtocols = [SslApplicationProtocol.Http2],
            }, cts.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e) when (e is IOException or SocketException or System.Security.Authentication.AuthenticationException or OperationCanceledException)
        {
            return false;
        }
    }
}
