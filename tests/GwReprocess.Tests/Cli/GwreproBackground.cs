using System.Diagnostics;

namespace GwReprocess.Tests.Cli;

/// <summary>A <c>gwrepro</c> process running in the background (a server, a client), whose stderr lines can be awaited and which can be killed.</summary>
public sealed class GwreproBackground : IAsyncDisposable
{
    private readonly Process _process;
    private readonly List<string> _lines = new();
    private readonly Task _stdout, _stderr;
    private readonly System.Text.StringBuilder _out = new();

    private GwreproBackground(Process process, string label)
    {
        _process = process;
        Label = label;
        StartedAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1e3;
        _stdout = Task.Run(async () =>
        {
            while (await process.StandardOutput.ReadLineAsync() is { } l) lock (_out) _out.AppendLine(l);
        });
        _stderr = Task.Run(async () =>
        {
            while (await process.StandardError.ReadLineAsync() is { } l)
                lock (_lines) _lines.Add($"{DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1e3:F3} {l}");
        });
    }

    /// <summary>Starts <c>dotnet gwrepro.dll ARGS</c>, with <paramref name="environment"/> variables set (or removed where null); <paramref name="dll"/> runs another build's gwrepro.dll (benchmarks against a baseline).</summary>
    public static GwreproBackground Start(string label, IEnumerable<string> args, string? workingDirectory = null, IReadOnlyDictionary<string, string?>? environment = null,
        string? dll = null)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        if (environment is not null)
            foreach (var (k, v) in environment)
                if (v is null) psi.Environment.Remove(k);
                else psi.Environment[k] = v;
        psi.ArgumentList.Add(dll ?? GwreproProcess.DllPath);
        foreach (var a in args) psi.ArgumentList.Add(a);
        return new GwreproBackground(Process.Start(psi)!, label);
    }

    public string Label { get; }

    /// <summary>When the process was started (Unix seconds).</summary>
    public double StartedAt { get; }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>stderr so far, each line prefixed with the Unix time (s) it was read at.</summary>
    public IReadOnlyList<string> Lines
    {
        get { lock (_lines) return _lines.ToList(); }
    }

    /// <summary>Everything written to stderr so far (with read times), for assertion messages.</summary>
    public string StdErr => string.Join('\n', Lines);

    /// <summary>Waits until a stderr line contains <paramref name="text"/>; fails with the log when the process exits first or time runs out.</summary>
    public async Task<string> WaitForLineAsync(string text, TimeSpan timeout, int occurrence = 1)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var hits = Lines.Where(l => l.Contains(text, StringComparison.Ordinal)).ToList();
            if (hits.Count >= occurrence) return hits[occurrence - 1];
            if (_process.HasExited)
            {
                await _stderr;
                hits = Lines.Where(l => l.Contains(text, StringComparison.Ordinal)).ToList();
                if (hits.Count >= occurrence) return hits[occurrence - 1];
                throw new InvalidOperationException($"{Label} exited ({_process.ExitCode}) before logging '{text}':\n{StdErr}");
            }
            if (clock.Elapsed > timeout) throw new TimeoutException($"{Label} did not log '{text}' within {timeout.TotalSeconds:0} s:\n{StdErr}");
            await Task.Delay(50);
        }
    }

    /// <summary>Kills the process (SIGKILL: no shutdown, as a node that dies).</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    /// <summary>Waits for the process to exit; returns its exit code (kills it and throws on timeout).</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try { await _process.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException)
        {
            await KillAsync();
            throw new TimeoutException($"{Label} did not finish within {timeout.TotalSeconds:0} s:\n{StdErr}");
        }
        await Task.WhenAll(_stdout, _stderr);
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        try { await KillAsync(); } catch (InvalidOperationException) { }
        try { await Task.WhenAll(_stdout, _stderr).WaitAsync(TimeSpan.FromSeconds(5)); } catch (Exception) { }
        _process.Dispose();
    }
}
