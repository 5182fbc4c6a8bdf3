// Copyright (c) Cocoon contributors. Licensed under the MIT License.

extern alias cli;

using cli::Cocoon.Cli;
using Microsoft.Extensions.Logging;

namespace Cocoon.Tests.Cli;

/// <summary>The supervisor's and the vsock device's log lines (<see cref="LineLoggerProvider"/>).</summary>
public sealed class LineLoggerTests
{
    [Fact]
    public void Format_Entry_OneLineWithUtcTimestampLevelCategoryAndEventId()
    {
        var time = new DateTimeOffset(2026, 12, 3, 14, 5, 6, 789, TimeSpan.FromHours(2));

        var line = LineLoggerProvider.Format(time, LogLevel.Warning, "Cocoon.Supervisor", new EventId(1200), "KVM is not usable here", null);

        Assert.Equal("2026-12-03T12:05:06.789Z warn: Cocoon.Supervisor[1200] KVM is not usable here", line);
    }

    [Fact]
    public void Log_BelowTheMinimum_WritesNothing_AtIt_WritesTheLineAndTheException()
    {
        using var writer = new StringWriter();
        using var provider = new LineLoggerProvider(writer, LogLevel.Information);
        var logger = provider.CreateLogger("Cocoon.Test");

        logger.LogDebug("hidden");
        logger.LogError(new InvalidOperationException("boom"), "failed {What}", "start");

        var lines = writer.ToString().Split(Environment.NewLine);
        Assert.DoesNotContain("hidden", writer.ToString(), StringComparison.Ordinal);
        Assert.EndsWith(" fail: Cocoon.Test[0] failed start", lines[0], StringComparison.Ordinal);
        Assert.Equal("System.InvalidOperationException: boom", lines[1]);
    }
}
