// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon.Agent.Network;

/// <summary>The data-stream server's log messages; event ids 200-299.</summary>
internal static partial class NetworkLog
{
    [LoggerMessage(200, LogLevel.Information, "Serving data streams on {EndPoint}")]
    public static partial void Serving(ILogger logger, string endPoint);

    [LoggerMessage(201, LogLevel.Debug, "Dial failed: {Status}")]
    public static partial void DialFailed(ILogger logger, string status);

    [LoggerMessage(202, LogLevel.Error, "A data stream failed")]
    public static partial void StreamFailed(ILogger logger, Exception exception);

    [LoggerMessage(203, LogLevel.Warning, "Copy {Direction} {Path} failed: {Message}")]
    public static partial void CopyFailed(ILogger logger, string direction, string path, string message);
}
