// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Microsoft.Extensions.Logging;

namespace Cocoon.Shim;

/// <summary>
/// Writes log lines to one writer: the <c>log</c> FIFO containerd reads in the bundle (its lines
/// then show in containerd's own log), or stderr for the short-lived commands.
/// </summary>
internal sealed class ShimLoggerProvider(TextWriter writer, LogLevel minimum) : ILoggerProvider
{
    private readonly Lock _lock = new();

    /// <inheritdoc/>
    public ILogger CreateLogger(string categoryName) => new Logger(this);

    /// <inheritdoc/>
    public void Dispose() => writer.Flush();

    private bool IsEnabled(LogLevel level) => level >= minimum;

    private void Write(LogLevel level, string message, Exception? exception)
    {
        lock (_lock)
        {
            try
            {
                writer.WriteLine($"{DateTimeOffset.UtcNow:O} cocoon-shim {level.ToString().ToLowerInvariant()}: {message}{(exception is null ? "" : " " + exception)}");
                writer.Flush();
            }
            catch (IOException)
            {
                // Nobody reads the log any more: the line is lost, the shim goes on.
            }
        }
    }

    private sealed class Logger(ShimLoggerProvider provider) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => provider.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                provider.Write(logLevel, formatter(state, exception), exception);
            }
        }
    }
}
