using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace GwReprocess.Tests.Storage;

/// <summary>A <c>moto_server</c> process (an S3 implementation in Python) on 127.0.0.1 and a free port, killed with its process tree on dispose.</summary>
public sealed class MotoServer : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output;

    private MotoServer(Process process, int port, StringBuilder output)
    {
        _process = process;
        _output = output;
        Port = port;
    }

    public int Port { get; }

    /// <summary>The service URL to give S3 clients.</summary>
    public string Endpoint => $"http://127.0.0.1:{Port}";

    /// <summary>The last lines the server printed (for failure messages).</summary>
    public string Output { get { lock (_output) return _output.ToString(); } }

    /// <summary>Starts moto and waits until it answers HTTP; throws with the reason when it cannot be started.</summary>
    /// <param name="environment">Extra variables, e.g. INITIAL_NO_AUTH_ACTION_COUNT=0 to make moto check credentials.</param>
    public static async Task<MotoServer> StartAsync(IReadOnlyDictionary<string, string>? environment = null, TimeSpan? timeout = null)
    {
        Exception? last = null;
        // A port found free can be taken before moto binds it: try a few.
        for (int attempt = 0; attempt < 3; attempt++)
        {
            try { return await TryStartAsync(FreePort(), environment, timeout ?? TimeSpan.FromSeconds(30)); }
            catch (Exception e) when (e is not OperationCanceledException) { last = e; }
        }
        throw last!;
    }

    private static async Task<MotoServer> TryStartAsync(int port, IReadOnlyDictionary<string, string>? environment, TimeSpan timeout)
    {
        var (program, prefix) = Locate();
        var info = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in prefix) info.ArgumentList.Add(a);
        foreach (var a in (string[])["-H", "127.0.0.1", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture)]) info.ArgumentList.Add(a);
        // Credentials or endpoints of the test host must not leak into the server's own boto configuration.
        info.Environment.Remove("AWS_ENDPOINT_URL");
        info.Environment.Remove("AWS_ENDPOINT_URL_S3");
        if (environment is not null)
            foreach (var (k, v) in environment) info.Environment[k] = v;
        Process process;
        try
        {
            process = Process.Start(info) ?? throw new InvalidOperationException("moto_server did not start");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"{program} cannot be started ({e.NativeErrorCode switch { 2 => "not found on PATH", _ => e.Message }}); moto_server comes from the Python package moto[server]", e);
        }
        var output = new StringBuilder();
        void Append(string? line)
        {
            if (line is null) return;
            lock (output)
            {
                if (output.Length > 8000) output.Remove(0, output.Length - 4000);
                output.AppendLine(line);
            }
        }
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new MotoServer(process, port, output);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            if (process.HasExited)
            {
                process.WaitForExit(); // drains the output readers
                string text = server.Output.Trim();
                int code = process.ExitCode;
                server.Dispose();
                throw new InvalidOperationException($"{program} exited with code {code}: {LastLine(text)}");
            }
            try
            {
                using var response = await http.GetAsync($"{server.Endpoint}/moto-api/");
                if (response.StatusCode == HttpStatusCode.OK) return server;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            await Task.Delay(100);
        }
        server.Dispose();
        throw new InvalidOperationException($"moto_server did not answer on port {port} within {timeout.TotalSeconds:F0} s: {LastLine(server.Output)}");
    }

    /// <summary>moto_server on PATH; else pyenv's shim (PATH may lack it in a non-login CI shell); else <c>python3 -m moto.server</c>.</summary>
    private static (string Program, string[] Prefix) Locate()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
            if (File.Exists(Path.Combine(dir, "moto_server"))) return ("moto_server", []);
        string home = Environment.GetEnvironmentVariable("HOME") ?? "/root";
        string shim = Path.Combine(home, ".pyenv", "shims", "moto_server");
        if (File.Exists(shim)) return (shim, []);
        return ("python3", ["-m", "moto.server"]);
    }

    private static string LastLine(string text)
    {
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return lines.Length == 0 ? "(no output)" : lines[^1];
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException) { }
        _process.Dispose();
    }
}
