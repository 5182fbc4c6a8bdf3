// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Microsoft.Extensions.Logging;

namespace Cocoon.Shim;

/// <summary>The shim's log messages (event ids are stable; retired ones stay as comments).</summary>
internal static partial class ShimLog
{
    [LoggerMessage(1, LogLevel.Warning, "ttrpc: a frame ended early (stream {StreamId}); closing the connection")]
    public static partial void TruncatedFrame(ILogger logger, uint streamId);

    [LoggerMessage(2, LogLevel.Warning, "ttrpc: dropped a frame of type {Type} on stream {StreamId}; only requests are served")]
    public static partial void DroppedFrame(ILogger logger, byte type, uint streamId);

    [LoggerMessage(3, LogLevel.Error, "ttrpc: a handler failed")]
    public static partial void HandlerFailed(ILogger logger, Exception exception);

    [LoggerMessage(4, LogLevel.Warning, "ttrpc: the response on stream {StreamId} was not delivered: {Reason}")]
    public static partial void ResponseLost(ILogger logger, uint streamId, string reason);

    [LoggerMessage(5, LogLevel.Warning, "event {Topic} was not delivered to containerd: {Reason}")]
    public static partial void EventLost(ILogger logger, string topic, string reason);

    [LoggerMessage(6, LogLevel.Information, "task {Id}: {What}")]
    public static partial void TaskStep(ILogger logger, string id, string what);

    [LoggerMessage(7, LogLevel.Warning, "task {Id}: cleaning up failed: {Reason}")]
    public static partial void CleanupFailed(ILogger logger, string id, string reason);
}
