// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon.Agent;

/// <summary>
/// The agent's log: one line per entry on stderr (the box's console.log) and in the box log
/// (<see cref="BoxLog"/>), written synchronously so nothing is lost when PID 1 powers off. Kestrel's own categories stay at Error unless the boot
/// configuration asks for a level.
/// </summary>
internal sealed class ConsoleLineLoggerProvider(LogLevel level, bool levelConfigured) : ILoggerProvider
{
    public static ILoggerFactory CreateFactory(string? configuredLevel)
    {
        var configured = LogLevelName.TryParse(configuredLevel, out var level);
        return new LoggerFactory([new ConsoleLineLoggerProvider(configured ? level : LogLevel.Warning, configured)]);
    }

    public ILogger CreateLogger(string categoryName) =>
        new Logger(categoryName, !levelConfigured && categoryName.StartsWith("Microsoft", StringComparison.Ordinal) ? LogLevel.Error : level);

    public void Dispose()
    {
    }

    private sealed class Logger(string category, LogLevel minimum) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None && logLevel >= minimum;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            var bytes = System.Text.Encoding.UTF8.GetBytes("cocoon-agent: " + LogLine.Format(logLevel, category, eventId, formatter(state, exception), exception) + "\n");
            StandardError.Write(bytes);
            BoxLog.Write(bytes);
        }
    }
}
