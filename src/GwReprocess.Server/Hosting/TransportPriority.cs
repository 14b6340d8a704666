using System.Globalization;
using System.Runtime.InteropServices;
using GwReprocess.Server.Execution;

namespace GwReprocess.Server.Hosting;

/// <summary>Keeps every server thread that does not run a model (gRPC/HTTP transport, batchers, metrics) some nice levels below the model threads (<c>--transport-nice</c>).</summary>
/// <remarks>
/// On a machine short of cores the transport's many short wake-ups preempt the model instance threads, whose
/// executions are the pipeline's critical path (26 involuntary switches per DeepClean request measured on 2 cores).
/// Linux lets a process lower, never raise, its threads' priority without privileges, so the model threads keep the
/// server's priority and the others are lowered. Threads come and go (the thread pool grows and shrinks), so the
/// server's threads are swept every second; a thread made by a lowered thread starts lowered.
/// </remarks>
internal sealed partial class TransportPriority : IAsyncDisposable
{
    private const int PrioProcess = 0;

    private readonly CancellationTokenSource _stop = new();
    private readonly Task _sweeping;

    private readonly Action<string> _log;

    private TransportPriority(int baseNice, int target, Action<string> log)
    {
        Base = baseNice;
        Target = target;
        _log = log;
        SweepOnce();
        _sweeping = SweepAsync();
    }

    /// <summary>The nice value of the thread that started the server, which model threads keep.</summary>
    public int Base { get; }

    /// <summary>The nice value transport threads are kept at.</summary>
    public int Target { get; }

    /// <summary>Why <paramref name="levels"/> cannot be used here, or null; checked before the server loads anything.</summary>
    public static string? Check(int levels) =>
        levels is < 0 or > 19 ? $"--transport-nice {levels}: must be 0 (off) to 19"
        : levels > 0 && !OperatingSystem.IsLinux() ? "--transport-nice: thread priorities are only set on Linux"
        : null;

    /// <summary>Starts keeping the transport threads <paramref name="levels"/> (1–19, as <see cref="Check"/> allows) below the model threads, which take the nice value of <see cref="ModelThreads"/>' spawner.</summary>
    public static TransportPriority Start(int levels, Action<string> log)
    {
        int baseNice = NiceOf(ModelThreads.SpawnerThreadId is { } spawner ? $"/proc/self/task/{spawner}" : "/proc/thread-self");
        return new TransportPriority(baseNice, Math.Min(19, baseNice + levels), log);
    }

    /// <summary>The nice value of the thread whose /proc directory is <paramref name="task"/> (/proc/self/task/TID, /proc/thread-self).</summary>
    private static int NiceOf(string task)
    {
        var stat = File.ReadAllText(Path.Combine(task, "stat"));
        // Field 19 (nice) counted after the command name, which may itself hold spaces and parentheses.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return int.Parse(fields[16], CultureInfo.InvariantCulture);
    }

    private async Task SweepAsync()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false)) SweepOnce();
        }
        catch (OperationCanceledException)
        {
        }
    }

    private string? _lastError;

    private void SweepOnce()
    {
        try
        {
            Sweep();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            // One bad look at /proc must not end the sweeping: say so once, and look again next second.
            if (e.Message != _lastError) _log($"--transport-nice: cannot set thread priorities this time: {e.Message}");
            _lastError = e.Message;
        }
    }

    private void Sweep()
    {
        foreach (var task in Directory.EnumerateDirectories("/proc/self/task"))
        {
            try
            {
                if (File.ReadAllText(Path.Combine(task, "comm")).StartsWith(InstanceThreadNames.Prefix, StringComparison.Ordinal)) continue;
                // A thread already at or below the target (lowered earlier, or started lowered) is left as it is.
                if (NiceOf(task) < Target) _ = SetPriority(PrioProcess, int.Parse(Path.GetFileName(task), CultureInfo.InvariantCulture), Target);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
            {
                // the thread ended while being looked at
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "setpriority", SetLastError = true)]
    private static partial int SetPriority(int which, int who, int priority);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _sweeping.ConfigureAwait(false);
        _stop.Dispose();
    }
}
