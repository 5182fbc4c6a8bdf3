// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Microsoft.Extensions.Logging;

namespace Cocoon.Tests.Supervisor;

/// <summary>The level names COCOON_GUEST_LOG_LEVEL takes (<see cref="LogLevelName"/>), and the names log lines print.</summary>
public sealed class LogLevelNameTests
{
    [Theory]
    [InlineData("info", LogLevel.Information)]
    [InlineData("Information", LogLevel.Information)]
    [InlineData("WARN", LogLevel.Warning)]
    [InlineData("warning", LogLevel.Warning)]
    [InlineData("error", LogLevel.Error)]
    [InlineData("fail", LogLevel.Error)]
    [InlineData("dbug", LogLevel.Debug)]
    [InlineData(" trace ", LogLevel.Trace)]
    [InlineData("critical", LogLevel.Critical)]
    [InlineData("none", LogLevel.None)]
    public void TryParse_NamesPeopleWrite_TheLevel(string text, LogLevel expected)
    {
        Assert.True(LogLevelName.TryParse(text, out var level));
        Assert.Equal(expected, level);
    }

    [Theory]
    [InlineData("verbose")]
    [InlineData("3")]
    [InlineData("")]
    [InlineData(null)]
    public void TryParse_AnythingElse_False(string? text) => Assert.False(LogLevelName.TryParse(text, out _));

    [Fact]
    public void Of_EveryLevel_ParsesBackToItself()
    {
        foreach (var level in new[] { LogLevel.Trace, LogLevel.Debug, LogLevel.Information, LogLevel.Warning, LogLevel.Error, LogLevel.Critical })
        {
            Assert.True(LogLevelName.TryParse(LogLevelName.Of(level), out var parsed));
            Assert.Equal(level, parsed);
        }
    }
}
