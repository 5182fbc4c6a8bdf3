// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Microsoft.Extensions.Logging;

namespace Cocoon.Guest;

/// <summary>Log messages of the guest image builder. Event ids 1100-1199.</summary>
internal static partial class GuestLog
{
    [LoggerMessage(EventId = 1100, Level = LogLevel.Debug, Message = "Using cached initramfs {Path}")]
    public static partial void InitramfsCacheHit(ILogger logger, string path);

    [LoggerMessage(EventId = 1101, Level = LogLevel.Information, Message = "Built initramfs {Path} ({Size} bytes) in {ElapsedMs} ms")]
    public static partial void InitramfsBuilt(ILogger logger, string path, long size, long elapsedMs);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Information, Message = "Extracted the uncompressed kernel {Path} from {Kernel} in {ElapsedMs} ms")]
    public static partial void KernelExtracted(ILogger logger, string path, string kernel, long elapsedMs);

    [LoggerMessage(EventId = 1103, Level = LogLevel.Information, Message = "Booting the compressed kernel {Kernel}: {Reason}")]
    public static partial void KernelKeptCompressed(ILogger logger, string kernel, string reason);
}
