// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon.Agent.Forwarding;

/// <summary>Socket forwards' log messages; event ids 300-399.</summary>
internal static partial class ForwardingLog
{
    [LoggerMessage(300, LogLevel.Information, "Socket forward {ForwardId} listens at {Path}")]
    public static partial void Bound(ILogger logger, string forwardId, string path);

    [LoggerMessage(301, LogLevel.Information, "Socket forward {ForwardId} removed")]
    public static partial void Unbound(ILogger logger, string forwardId);

    [LoggerMessage(302, LogLevel.Warning, "Socket forward {ForwardId}: a client connected while no host watches; closed")]
    public static partial void NobodyWatching(ILogger logger, string forwardId);

    [LoggerMessage(303, LogLevel.Warning, "Socket forward {ForwardId}: the host did not accept a connection in time; closed")]
    public static partial void TokenExpired(ILogger logger, string forwardId);

    [LoggerMessage(304, LogLevel.Warning, "An accept stream named a token that is not pending (unknown, taken or expired); refused")]
    public static partial void UnknownToken(ILogger logger);
}
