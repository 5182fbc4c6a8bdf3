// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Microsoft.Extensions.Logging;

namespace Cocoon.Vmm;

/// <summary>Log messages of the VMM backends. Event ids 1200-1299.</summary>
internal static partial class VmmLog
{
    [LoggerMessage(EventId = 1200, Level = LogLevel.Warning, Message = "KVM is not usable here ({Reason}); using TCG (slower)")]
    public static partial void KvmUnusable(ILogger logger, string reason);

    [LoggerMessage(EventId = 1201, Level = LogLevel.Debug, Message = "Using accelerator {Accelerator} ({Reason})")]
    public static partial void AcceleratorChosen(ILogger logger, VmAccelerator accelerator, string reason);

    [LoggerMessage(EventId = 1202, Level = LogLevel.Debug, Message = "Started QEMU pid {Pid} with {Accelerator}: {Arguments}")]
    public static partial void QemuStarted(ILogger logger, int pid, VmAccelerator accelerator, string arguments);

    [LoggerMessage(EventId = 1203, Level = LogLevel.Debug, Message = "QEMU pid {Pid} exited with code {ExitCode}")]
    public static partial void QemuExited(ILogger logger, int pid, int exitCode);
}
