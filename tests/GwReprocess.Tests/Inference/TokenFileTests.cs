using System.Net;
using System.Net.Sockets;
using GwReprocess.Inference;

namespace GwReprocess.Tests.Inference;

public sealed class TokenFileTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("gwrepro-token-");

    public void Dispose() => _dir.Delete(true);

    private string Write(string name, string text)
    {
        string path = Path.Combine(_dir.FullName, name);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void The_token_is_the_file_without_surrounding_whitespace()
    {
        Assert.Equal("abc.DEF-123_~+/=", TokenFile.Read(Write("t", "  abc.DEF-123_~+/=\r\n"), "--token-file"));
    }

    [Fact]
    public void Missing_empty_and_multi_word_files_are_refused_naming_the_file()
    {
        string missing = Path.Combine(_dir.FullName, "nope");
        Assert.Equal($"{missing}: no such token file (inference.token_file)", Assert.Throws<BadInputException>(() => TokenFile.Read(missing, "inference.token_file")).Message);
        string empty = Write("empty", "\n\n");
        Assert.Equal($"{empty}: the token file (--token-file) is empty", Assert.Throws<BadInputException>(() => TokenFile.Read(empty, "--token-file")).Message);
        string two = Write("two", "one\ntwo\n");
        Assert.StartsWith($"{two}: the token file (--token-file) holds more than one printable token", Assert.Throws<BadInputException>(() => TokenFile.Read(two, "--token-file")).Message);
    }

    [Fact]
    public async Task A_plaintext_port_does_not_speak_tls()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var accept = Task.Run(async () =>
        {
            using var peer = await listener.AcceptTcpClientAsync();
            var buffer = new byte[64];
            _ = await peer.GetStream().ReadAsync(buffer); // the ClientHello, answered with plaintext, as an HTTP/1 server would
            await peer.GetStream().WriteAsync("HTTP/1.1 400 Bad Request\r\n\r\n"u8.ToArray());
        });
        Assert.False(await TlsProbe.SpeaksTlsAsync($"127.0.0.1:{port}", TimeSpan.FromSeconds(5), CancellationToken.None));
        await accept;
        listener.Stop();
        Assert.False(await TlsProbe.SpeaksTlsAsync($"127.0.0.1:{port}", TimeSpan.FromSeconds(5), CancellationToken.None)); // nothing listening
    }
}
