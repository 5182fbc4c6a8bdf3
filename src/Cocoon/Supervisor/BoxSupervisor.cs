// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;
using Cocoon.State;
using Cocoon.Vmm;
using Cocoon.Vsock.Device;
using Microsoft.Extensions.Logging;

namespace Cocoon.Supervisor;

/// <summary>
/// The per-box process behind <c>cocoon supervise NAME</c>: owns the vsock device and QEMU for
/// the box's lifetime and records the box's state. Must be called on the process's main thread:
/// QEMU is started with PDEATHSIG, which fires when the thread that forked it exits.
/// </summary>
internal static class BoxSupervisor
{
    /// <summary>QEMU exited 0 without a stop request: the guest powered off by itself.</summary>
    private const string ExitReason = "exit";

    /// <summary>QEMU exited 0 after <c>cocoon stop</c> asked the guest to power off.</summary>
    private const string StoppedReason = "stopped";

    /// <summary>Runs the box until QEMU exits or SIGTERM arrives; returns the process exit code.</summary>
    public static int Run(CocoonPaths paths, string name, ILoggerFactory loggerFactory)
    {
        var logger = loggerFactory.CreateLogger("Cocoon.Supervisor");
        var boxes = new BoxRepository(paths);
        var record = boxes.Get(name);
        if (record.State == BoxState.Running && record.Pid != Environment.ProcessId && BoxProcesses.IsSupervisorAlive(record.Pid, name))
        {
            throw new CocoonException(CocoonErrorCode.InvalidState, $"box '{name}' is already running (supervisor pid {record.Pid})");
        }

        var directory = paths.BoxDirectory(name);
        var created = new List<string>();
        VsockDevice? device = null;
        QemuProcess? qemu = null;
        var stopRequested = 0;
        string reason;
        try
        {
            var options = new QemuOptions { Launcher = ["setpriv", "--pdeathsig", "KILL", "--"] };
            var image = AgentImage.GetOrBuild(paths, options.Machine, logger);

            foreach (var port in record.Config.VsockPorts)
            {
                var link = paths.VsockPortSocket(name, port.Port);
                File.Delete(link);
                File.CreateSymbolicLink(link, port.Path);
                created.Add(link);
            }

            var vhost = BoxProcesses.VhostSocket(paths, name);
            var uds = paths.VsockSocket(name);
            File.Delete(vhost);
            File.Delete(uds);
            created.Add(vhost);
            created.Add(uds);
            device = VsockDevice.Start(
                new VsockDeviceOptions
                {
                    SocketPath = vhost,
                    UdsPath = uds,
                    GuestCid = record.Cid,
                    AllowedHostPorts = [.. record.Config.VsockPorts.Select(p => (uint)p.Port)],
                },
                loggerFactory);

            var choice = AcceleratorProbe.ChooseAsync(options.QemuPath, image.Kernel.KernelPath, paths.GuestCacheDirectory, logger)
                .GetAwaiter().GetResult();
            var boot = new BootConfig
            {
                Hostname = name,
                Modules = image.Modules,
                Env = record.Config.Env.Count > 0 ? record.Config.Env : null,
                LogLevel = Environment.GetEnvironmentVariable("COCOON_GUEST_LOG_LEVEL") is { Length: > 0 } level ? level : null,
            };
            var spec = new VmSpec
            {
                KernelPath = image.Kernel.KernelPath,
                InitrdPath = image.Image.Path,
                ConsoleLogPath = paths.ConsoleLog(name),
                KernelArguments = [boot.ToKernelArgument()],
                MemoryMiB = record.Config.MemoryMiB,
                Cpus = record.Config.Cpus,
                VsockSocketPath = vhost,
            };

            // Main thread, on purpose (see the class summary).
            qemu = QemuProcess.Start(spec, options, choice.Accelerator, logger);
            var running = qemu;
            using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
            {
                context.Cancel = true;
                Interlocked.Exchange(ref stopRequested, 1);
                running.Kill();
            });
            using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, context =>
            {
                context.Cancel = true;
                Interlocked.Exchange(ref stopRequested, 1);
                running.Kill();
            });

            boxes.Update(name, r => r with
            {
                State = BoxState.Running,
                Pid = Environment.ProcessId,
                VmmPid = running.Pid,
                StartedAt = DateTimeOffset.UtcNow,
                StoppedAt = null,
                StopReason = null,
                StopRequestedAt = null,
            });
            SupervisorLog.Running(logger, name, running.Pid);

            var finished = Task.WhenAny(running.Exited, device.Completion).GetAwaiter().GetResult();
            if (finished != running.Exited)
            {
                // QEMU closes the vhost-user socket while it exits: give it time to finish on its own.
                var exit = device.Completion.GetAwaiter().GetResult();
                if (!running.Exited.Wait(TimeSpan.FromSeconds(5)))
                {
                    SupervisorLog.DeviceStopped(logger, exit.Reason.ToString(), exit.Detail ?? "");
                    running.Kill();
                }
            }

            var code = running.Exited.GetAwaiter().GetResult();
            reason = Volatile.Read(ref stopRequested) == 1 ? "killed"
                // A stop marks the record before it asks the guest to power off, so the mark is there by now.
                : code == 0 ? (boxes.TryGet(name)?.StopRequestedAt is not null ? StoppedReason : ExitReason)
                : code > 128 ? $"crash (qemu killed by signal {code - 128})"
                : $"crash (qemu exit code {code}: {LastLine(running.OutputTail)})";
        }
        catch (Exception e)
        {
            SupervisorLog.Failed(logger, e);
            reason = "failed to start: " + e.Message;
        }
        finally
        {
            if (qemu is not null)
            {
                qemu.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }

            if (device is not null)
            {
                device.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }

            foreach (var path in created)
            {
                TryDelete(path);
            }
        }

        SupervisorLog.Stopped(logger, name, reason);
        try
        {
            boxes.Update(name, r => r.Pid != Environment.ProcessId && r.Pid is not null
                ? r
                : r with
                {
                    State = BoxState.Stopped,
                    Pid = null,
                    VmmPid = null,
                    StoppedAt = DateTimeOffset.UtcNow,
                    StopReason = reason,
                    StopRequestedAt = null,
                });
        }
        catch (CocoonException e) when (e.Code == CocoonErrorCode.NotFound)
        {
            // Removed while running (rm -f): nothing left to record.
        }

        return reason.StartsWith("failed", StringComparison.Ordinal) ? 1 : 0;
    }

    private static string LastLine(string text)
    {
        var lines = text.Trim().Split('\n');
        return lines.Length == 0 ? "" : lines[^1].Trim();
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}

/// <summary>Log messages of the box supervisor. Event ids 1300-1399.</summary>
internal static partial class SupervisorLog
{
    [LoggerMessage(EventId = 1301, Level = LogLevel.Information, Message = "Box {Name} running, QEMU pid {Pid}")]
    public static partial void Running(ILogger logger, string name, int pid);

    [LoggerMessage(EventId = 1302, Level = LogLevel.Warning, Message = "The vsock device stopped ({Reason} {Detail}); stopping QEMU")]
    public static partial void DeviceStopped(ILogger logger, string reason, string detail);

    [LoggerMessage(EventId = 1303, Level = LogLevel.Error, Message = "The supervisor failed")]
    public static partial void Failed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1304, Level = LogLevel.Information, Message = "Box {Name} stopped: {Reason}")]
    public static partial void Stopped(ILogger logger, string name, string reason);
}
