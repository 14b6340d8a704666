using Microsoft.Extensions.Logging;

namespace GwReprocess.Server.Hosting;

/// <summary>Sends what ASP.NET Core, Kestrel and gRPC log into the server's own log, one line each, without stack traces.</summary>
/// <remarks>
/// The console logger wrote a multi-line entry with a full trace for every failed call, and wrote it where the server's log
/// (and a test reading it) could not see it.
/// </remarks>
internal sealed class ServerLogProvider(Action<string> log) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, log);

    public void Dispose() { }

    private sealed class Logger(string category, Action<string> log) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel)) return;
            string text = formatter(state, exception);
            if (exception is not null) text += $" ({exception.GetType().Name}: {exception.Message})";
            log($"{logLevel.ToString().ToLowerInvariant()}: {category}: {text.ReplaceLineEndings(" ")}");
        }
    }
}
