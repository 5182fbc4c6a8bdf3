// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Globalization;
using Microsoft.Extensions.Logging;

namespace Cocoon.Cli;

/// <summary>
/// The log of commands that serve for long (supervisor, vsock device): one line per entry on a
/// writer, <c>2026-12-03T13:50:38.635Z info: Category[1] message</c>, an exception's text on the lines
/// after it. Written synchronously, so a supervisor that dies loses no line, and never through
/// <see cref="Console"/>, whose first write to a terminal switches it to keypad-transmit mode.
/// </summary>
/// <param name="writer">Where the lines go (thread-safe: <see cref="CliContext.Out"/> or <see cref="CliContext.Error"/>).</param>
/// <param name="minimum">The lowest level written.</param>
internal sealed class LineLoggerProvider(TextWriter writer, LogLevel minimum) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new Logger(writer, categoryName, minimum);

    public void Dispose()
    {
    }

    /// <summary>The line of one entry (without its newline).</summary>
    internal static string Format(DateTimeOffset time, LogLevel level, string category, EventId eventId, string message, Exception? exception) =>
        string.Create(CultureInfo.InvariantCulture, $"{time.UtcDateTime:yyyy-MM-ddTHH:mm:ss.fff}Z ") + LogLine.Format(level, category, eventId, message, exception);

    private sealed class Logger(TextWriter writer, string category, LogLevel minimum) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None && logLevel >= minimum;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                writer.WriteLine(Format(DateTimeOffset.UtcNow, logLevel, category, eventId, formatter(state, exception), exception));
            }
        }
    }
}
