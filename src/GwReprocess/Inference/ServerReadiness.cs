using System.Diagnostics;
using Grpc.Core;
using Inference;

namespace GwReprocess.Inference;

/// <summary>Waits until a server says it is ready (ServerReady) and has the model ready (ModelReady), with exponential backoff and jitter.</summary>
public static class ServerReadiness
{
    private static readonly TimeSpan FirstWait = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan LongestWait = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Returns once <paramref name="model"/> is ready on <paramref name="endpoint"/>; logs each wait and its reason.</summary>
    /// <exception cref="TimeoutException">Not ready within <paramref name="deadline"/> (the message names the server, the model and the last reason).</exception>
    /// <exception cref="InferenceStreamException">A refusal that waiting cannot fix (not transient): a bad token, or a ready server that does not know the model.</exception>
    public static async Task WaitAsync(InferenceEndpoint endpoint, string model, TimeSpan deadline, IProgress<string>? log, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var wait = FirstWait;
        for (int attempt = 1; ; attempt++)
        {
            string reason = await ProbeAsync(endpoint, model, Min(ProbeTimeout, deadline - clock.Elapsed), cancellationToken).ConfigureAwait(false) is { } r ? r : "";
            if (reason.Length == 0)
            {
                if (attempt > 1) log?.Report($"server {endpoint.Address} ready with model '{model}' after {clock.Elapsed.TotalSeconds:F1} s ({attempt} probes)");
                return;
            }
            var left = deadline - clock.Elapsed;
            if (left <= TimeSpan.Zero)
                throw new TimeoutException($"server {endpoint.Address} not ready with model '{model}' within {deadline.TotalSeconds:0.#} s ({attempt} probes): {reason}");
            // Full-range jitter on the upper half, so that a thousand clients started together do not probe in lock-step.
            var sleep = Min(wait / 2 + wait / 2 * Random.Shared.NextDouble(), left);
            log?.Report($"server {endpoint.Address} not ready ({reason}); probe {attempt}, next in {sleep.TotalSeconds:F1} s, {left.TotalSeconds:F0} s left");
            await Task.Delay(sleep, cancellationToken).ConfigureAwait(false);
            wait = Min(wait * 2, LongestWait);
        }
    }

    /// <summary>Null when ready, else why not.</summary>
    private static async Task<string?> ProbeAsync(InferenceEndpoint endpoint, string model, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (timeout <= TimeSpan.Zero) timeout = TimeSpan.FromMilliseconds(1);
        using var channel = endpoint.CreateChannel();
        var client = new GRPCInferenceService.GRPCInferenceServiceClient(channel);
        var headers = endpoint.Headers();
        try
        {
            var server = await client.ServerReadyAsync(new ServerReadyRequest(), headers, DateTime.UtcNow + timeout, cancellationToken).ConfigureAwait(false);
            if (!server.Ready) return "ServerReady: false";
            var m = await client.ModelReadyAsync(new ModelReadyRequest { Name = model }, headers, DateTime.UtcNow + timeout, cancellationToken).ConfigureAwait(false);
            if (m.Ready) return null;
            // Triton answers ModelReady false, not an error, for a model it does not have. One it is still loading is listed in
            // its repository index; one absent from the index will not appear by waiting, so say so at once.
            if (!await ListedAsync(client, model, headers, DateTime.UtcNow + timeout, cancellationToken).ConfigureAwait(false))
                throw new InferenceStreamException($"server {endpoint.Address}, model '{model}': NotFound: the server's model repository has no model '{model}'",
                    false, StatusCode.NotFound);
            return $"ModelReady '{model}': false";
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled && cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException(cancellationToken);
        }
        catch (RpcException e) when (e.StatusCode is StatusCode.Unauthenticated or StatusCode.PermissionDenied or StatusCode.NotFound or StatusCode.InvalidArgument)
        {
            throw InferenceStreamException.FromRpc(e, $"server {endpoint.Address}, model '{model}'");
        }
        catch (RpcException e) when (CertificateRefusal(e) is { } why)
        {
            // Waiting cannot make an untrusted certificate trusted: say so at once instead of probing until the deadline.
            throw new InferenceStreamException($"server {endpoint.Address}: its TLS certificate is not trusted: {why}; give the CA that signed it with --tls-ca FILE or [inference] tls_ca",
                false, e.StatusCode, e);
        }
        catch (RpcException e)
        {
            // A plaintext HTTP/2 preface sent to a TLS port is dropped without a word, which looks like a server still starting.
            // A TLS handshake that completes on that port tells the two apart for certain; only tried when something answered.
            if (!endpoint.Tls && e.StatusCode == StatusCode.Unavailable && !ConnectionRefused(e)
                && await TlsProbe.SpeaksTlsAsync(endpoint.Address, ProbeTimeout, cancellationToken).ConfigureAwait(false))
                throw new InferenceStreamException($"server {endpoint.Address} speaks TLS but this client connected without it; give the CA that signed its certificate with --tls-ca FILE or [inference] tls_ca (or --tls for a CA in the system's store)",
                    false, e.StatusCode, e);
            return $"{e.StatusCode}: {e.Status.Detail}";
        }
    }

    /// <summary>Whether the server's repository index lists the model; true when the server does not offer the index (nothing to judge by).</summary>
    private static async Task<bool> ListedAsync(GRPCInferenceService.GRPCInferenceServiceClient client, string model, Metadata headers, DateTime deadline, CancellationToken cancellationToken)
    {
        try
        {
            var index = await client.RepositoryIndexAsync(new RepositoryIndexRequest { Ready = false }, headers, deadline, cancellationToken).ConfigureAwait(false);
            foreach (var m in index.Models)
                if (m.Name == model) return true;
            return false;
        }
        catch (RpcException e) when (e.StatusCode is StatusCode.Unimplemented or StatusCode.PermissionDenied)
        {
            return true;
        }
    }

    /// <summary>True when nothing listened on the port (the server has not bound it yet): no point probing for TLS.</summary>
    private static bool ConnectionRefused(RpcException e)
    {
        for (Exception? x = e.Status.DebugException; x is not null; x = x.InnerException)
            if (x is System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.ConnectionRefused }) return true;
        return false;
    }

    /// <summary>Why the TLS handshake refused the server's certificate, in words, or null when the call failed for another reason.</summary>
    internal static string? CertificateRefusal(RpcException e)
    {
        for (Exception? x = e.Status.DebugException; x is not null; x = x.InnerException)
            if (x is System.Security.Authentication.AuthenticationException a)
            {
                // e.g. "The remote certificate is invalid because of errors in the certificate chain: PartialChain"
                string m = a.Message.Split('\n')[0].Trim();
                int colon = m.LastIndexOf(": ", StringComparison.Ordinal);
                string code = colon >= 0 ? m[(colon + 2)..] : m;
                string? words = code switch
                {
                    _ when code.Contains("PartialChain", StringComparison.Ordinal) || code.Contains("UntrustedRoot", StringComparison.Ordinal) => "no trusted CA signed it",
                    _ when code.Contains("NameMismatch", StringComparison.Ordinal) => "it is not issued for this host name",
                    _ when code.Contains("NotTimeValid", StringComparison.Ordinal) => "it has expired or is not valid yet",
                    _ => null,
                };
                return words is null ? code : $"{words} ({code})";
            }
        return null;
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}
