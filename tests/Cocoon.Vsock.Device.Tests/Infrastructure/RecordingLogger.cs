// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Microsoft.Extensions.Logging;

namespace Cocoon.Vsock.Device.Tests.Infrastructure;

/// <summary>A logger that keeps every entry at or above <see cref="LogLevel.Information"/> (what a supervisor log gets).</summary>
internal sealed class RecordingLogger : ILogger
{
    public List<(LogLevel Level, EventId Id, string Message)> Entries { get; } = [];

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (IsEnabled(logLevel))
        {
            Entries.Add((logLevel, eventId, formatter(state, exception)));
        }
    }
}
