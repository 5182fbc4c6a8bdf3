// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Diagnostics;
using System.Runtime.InteropServices;
using Cocoon.State;
using Cocoon.Vmm;
using Cocoon.Vsock.Device;
using Microsoft.Extensions.Logging;

namespace Cocoon.Supervisor;

/// <summary>
/// The per-box process behind <c>cocoon supervise NAME</c>: owns the vsock device and QEMU for
/// the box's lifetime, serves control.sock and records the box's state. <see cref="Run"/> must be
/// called on the process's main thread: QEMU is started with PDEATHSIG, which fires when the thread
/// that forked it exits.
/// <code>
///  1. guard        refuse when another live supervisor runs the box
///  2. plan         disks (image rootfs, scratch), guest image, then LaunchPlan.Create (pure): VM spec, device options, port links
///  3. start        port links, vsock device, volume daemons, accelerator probe, QEMU, signals, control.sock
///  4. record       state running, pids, start time
///  5. watch        until QEMU exits (or the device or a virtiofsd ends first and QEMU is ended)
///  6. classify     StopReason.Classify(facts), pure
///  7. clean up     QEMU, virtiofsd, device, sockets and links; state stopped with the reason; answer pod.stop
/// </code>
/// </summary>
internal sealed class BoxSupervisor
{
    /// <summary>Names the agent's log level for the boot configuration (debugging).</summary>
    public const string GuestLogLevelVariable = "COCOON_GUEST_LOG_LEVEL";

    /// <summary>How much of the console's end is searched for a kernel panic: its line and a stack trace.</summary>
    private const int GuestConsoleEnd = 16 * 1024;

    private static readonly TimeSpan DeviceGrace = TimeSpan.FromSeconds(5);

    /// <summary>What a guest gets beyond the stop's grace period to answer, sync and power off.</summary>
    private static readonly TimeSpan PowerOffMargin = TimeSpan.FromSeconds(5);

    private readonly CocoonPaths _paths;
    private readonly string _name;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly BoxRepository _boxes;
    private readonly Forwarding.StreamDialer _dialer;
    private readonly BoxSocketForwards _socketForwards;
    private readonly TaskCompletionSource<StopReason> _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private QemuProcess? _qemu;
    private int _signalled;
    private int _stopRequested;
    private int _stopForced;

    private BoxSupervisor(CocoonPaths paths, string name, ILoggerFactory loggerFactory)
    {
        _paths = paths;
        _name = name;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger("Cocoon.Supervisor");
        _boxes = new BoxRepository(paths);
        _dialer = new Forwarding.StreamDialer(name, paths.VsockSocket(name));
        _socketForwards = new BoxSocketForwards(
            _dialer, () => (GuestAgent.ISocketForwardAgent)GuestAgentClient.ConnectBox(name, paths.VsockSocket(name)), _logger);
    }

    /// <summary>Runs the box until QEMU exits, SIGTERM arrives or <c>pod.stop</c> ends it; returns the process exit code.</summary>
    public static int Run(CocoonPaths paths, string name, ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(paths);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        return new BoxSupervisor(paths, name, loggerFactory).RunBox();
    }

    private int RunBox()
    {
        // :: Step 1
        var record = _boxes.Get(_name);
        if (record.State == BoxState.Running && record.Pid != Environment.ProcessId && BoxProcesses.IsSupervisorAlive(record.Pid, _name))
        {
            throw new CocoonException(CocoonErrorCode.InvalidState, $"box '{_name}' is already running (supervisor pid {record.Pid})");
        }

        var created = new List<string>();
        VsockDevice? device = null;
        ControlServer? control = null;
        var published = new List<PortForward>();
        var volumes = new List<VolumeDaemon>();
        StopFacts facts;
        try
        {
            // :: Step 2
            var options = new QemuOptions { Launcher = ["setpriv", "--pdeathsig", "KILL", "--"] };
            var disks = BoxDisks.Prepare(_paths, record, CancellationToken.None);
            var modules = new List<string>(disks is null ? [] : BoxDisks.Modules);
            if (record.Config.Volumes.Count > 0)
            {
                modules.Add("virtiofs");

                // A container may run on a shared directory (ContainerOptions.RootDirectory): an overlay on it.
                if (!modules.Contains("overlay"))
                {
                    modules.Add("overlay");
                }
            }

            var image = AgentImage.GetOrBuild(_paths, options.Machine, _logger, modules, dockerModules: record.Config.SupportDocker);
            var guestLogLevel = Environment.GetEnvironmentVariable(GuestLogLevelVariable);
            if (!string.IsNullOrEmpty(guestLogLevel) && !LogLevelName.TryParse(guestLogLevel, out _))
            {
                SupervisorLog.GuestLogLevelIgnored(_logger, GuestLogLevelVariable, guestLogLevel, LogLevelName.Accepted);
                guestLogLevel = null;
            }

            var plan = LaunchPlan.Create(
                _paths, record, image, guestLogLevel,
                UserNetwork.ParseHostForwards(Environment.GetEnvironmentVariable(UserNetwork.BenchHostForwardsVariable)), disks);

            // :: Step 3
            foreach (var path in plan.RuntimeFiles)
            {
                File.Delete(path);
                created.Add(path);
            }

            foreach (var link in plan.PortLinks)
            {
                File.CreateSymbolicLink(link.Link, link.Target);
            }

            device = VsockDevice.Start(plan.Device, _loggerFactory);

            // Published ports listen from before the boot: a port in use fails the start, naming it.
            foreach (var port in record.Config.Publish)
            {
                published.Add(PortForward.Start(_dialer.DialAsync, new PortForwardOptions(port.Port)
                {
                    LocalPort = port.HostPort,
                    Network = port.Network,
                    ListenAddresses = port.HostAddress is { } address ? [System.Net.IPAddress.Parse(address)] : PortForwardOptions.DefaultListenAddresses,
                    ConnectionFailed = e => SupervisorLog.PublishDialFailed(_logger, port.ToString(), e.Message),
                }));
            }

            // Box sockets served on the host (--socket-forward) likewise, as pod.socketForward.add makes them.
            foreach (var forward in record.Config.SocketForwards)
            {
                _socketForwards.AddAsync(
                    SocketForwardDirection.Out, forward.HostPath, forward.BoxPath, forward.Container, CancellationToken.None,
                    firstContainer: record.Config.Image is not null).GetAwaiter().GetResult();
            }

            // Main thread, on purpose, as QEMU: each daemon dies with this thread (PDEATHSIG).
            foreach (var volume in plan.Volumes)
            {
                volumes.Add(VolumeDaemon.Start(volume, _logger));
            }

            var choice = AcceleratorProbe.ChooseAsync(options.QemuPath, plan.Vm.KernelPath, _paths.GuestCacheDirectory, _logger)
                .GetAwaiter().GetResult();

            // Main thread, on purpose (see the class summary).
            var qemu = _qemu = QemuProcess.Start(plan.Vm, options, choice.Accelerator, _logger);
            using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
            using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
            control = ControlServer.Start(_paths.ControlSocket(_name), CreateDispatcher(), _logger);

            // :: Step 4
            _boxes.Update(_name, r => r with
            {
                State = BoxState.Running,
                Pid = Environment.ProcessId,
                VmmPid = qemu.Pid,
                StartedAt = DateTimeOffset.UtcNow,
                StoppedAt = null,
                StopReason = null,
                Accelerator = choice.Accelerator.ToString().ToLowerInvariant(),
                AcceleratorReason = choice.Reason,
            });
            SupervisorLog.Running(_logger, _name, qemu.Pid);

            // :: Step 5
            facts = Watch(qemu, device, volumes, plan.Vm.ConsoleLogPath);
        }
        catch (Exception e)
        {
            SupervisorLog.Failed(_logger, e);
            facts = new StopFacts { StartFailure = e.Message };
        }
        finally
        {
            // First, so every published connection and listener is closed before the box is recorded stopped.
            _socketForwards.DisposeAsync().AsTask().GetAwaiter().GetResult();
            foreach (var forward in published)
            {
                forward.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }

            _qemu?.DisposeAsync().AsTask().GetAwaiter().GetResult();
            foreach (var volume in volumes)
            {
                volume.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }

            device?.DisposeAsync().AsTask().GetAwaiter().GetResult();
            foreach (var path in created)
            {
                TryDelete(path);
            }
        }

        // :: Steps 6 and 7
        var reason = StopReason.Classify(facts);
        SupervisorLog.Stopped(_logger, _name, reason.ToString());
        try
        {
            Record(reason);
        }
        finally
        {
            _ended.TrySetResult(reason);
            control?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }

        return reason.SupervisorExitCode;
    }

    private StopFacts Watch(QemuProcess qemu, VsockDevice device, IReadOnlyList<VolumeDaemon> volumes, string consoleLog)
    {
        VsockDeviceExit? deviceEnded = null;
        string? volumeEnded = null;
        Task[] watched = [qemu.Exited, device.Completion, .. volumes.Select(v => v.Exited)];
        var first = Task.WhenAny(watched).GetAwaiter().GetResult();
        if (volumes.FirstOrDefault(v => v.Exited == first) is { } volume)
        {
            // A virtiofsd also ends when QEMU exiting closes its socket: give QEMU the same grace as
            // for the device. Otherwise the guest's accesses to that volume would hang: stop the box,
            // saying which volume and why.
            if (!qemu.Exited.Wait(DeviceGrace))
            {
                volumeEnded = volume.DescribeExit();
                SupervisorLog.VolumeEnded(_logger, volumeEnded);
                qemu.Kill();
            }
        }
        else if (first != qemu.Exited)
        {
            // QEMU closes the vhost-user socket while it exits: give it time to finish on its own.
            var exit = device.Completion.GetAwaiter().GetResult();
            if (!qemu.Exited.Wait(DeviceGrace))
            {
                SupervisorLog.DeviceStopped(_logger, exit.Reason.ToString(), exit.Detail ?? "");
                deviceEnded = exit;
                qemu.Kill();
            }
        }

        return new StopFacts
        {
            Signalled = Volatile.Read(ref _signalled) == 1,
            StopRequested = Volatile.Read(ref _stopRequested) == 1,
            StopForced = Volatile.Read(ref _stopForced) == 1,
            DeviceEnded = deviceEnded,
            VolumeEnded = volumeEnded,
            QemuExitCode = qemu.Exited.GetAwaiter().GetResult(),
            QemuOutput = qemu.OutputTail,
            GuestConsole = qemu.Exited.Result == 0 ? BoxProcesses.ConsoleEnd(consoleLog, GuestConsoleEnd) : "",
        };
    }

    private void OnSignal(PosixSignalContext context)
    {
        context.Cancel = true;
        Interlocked.Exchange(ref _signalled, 1);
        _qemu?.Kill();
    }

    private void Record(StopReason reason)
    {
        try
        {
            _boxes.Update(_name, r => r.Pid != Environment.ProcessId && r.Pid is not null
                ? r
                : r with
                {
                    State = BoxState.Stopped,
                    Pid = null,
                    VmmPid = null,
                    StoppedAt = DateTimeOffset.UtcNow,
                    StopReason = reason.ToString(),
                });
        }
        catch (CocoonException e) when (e.Code == CocoonErrorCode.NotFound)
        {
            // Removed while running (rm -f): nothing left to record.
        }
    }

    private ControlDispatcher CreateDispatcher() => SocketForwardMethods.Register(
        new ControlDispatcher()
            .Register("pod.info", InfoAsync)
            .Register("pod.stop", StopAsync)
            .Register(PortDialMethod.Name, PortDialMethod.Create(_dialer, IsStopping)),
        _socketForwards,
        IsStopping);

    private bool IsStopping() => Volatile.Read(ref _stopRequested) == 1 || _ended.Task.IsCompleted;

    /// <summary><c>pod.info</c>: the box as its supervisor sees it.</summary>
    private Task<ControlReply> InfoAsync(ControlRequest request, CancellationToken cancellationToken)
    {
        var record = _boxes.Get(_name);
        var qemu = _qemu;
        var state = Volatile.Read(ref _stopRequested) == 1 || _ended.Task.IsCompleted ? "stopping" : "running";
        return Task.FromResult(new ControlReply(writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("name", record.Name);
            writer.WriteString("state", state);
            writer.WriteNumber("cid", record.Cid);
            writer.WriteNumber("pid", Environment.ProcessId);
            if (qemu is not null)
            {
                writer.WriteNumber("vmmPid", qemu.Pid);
            }

            if (record.StartedAt is { } started)
            {
                writer.WriteString("startedAt", started);
            }

            writer.WriteNumber("cpus", record.Config.Cpus);
            writer.WriteNumber("memoryMiB", record.Config.MemoryMiB);
            writer.WriteString("vsockSocket", _paths.VsockSocket(_name));
            writer.WriteEndObject();
        }));
    }

    /// <summary>
    /// <c>pod.stop</c>: asks the guest to power off, kills QEMU when <c>timeout</c> seconds pass, and
    /// answers once the box has stopped and its state is recorded. Concurrent calls share one stop.
    /// </summary>
    private async Task<ControlReply> StopAsync(ControlRequest request, CancellationToken cancellationToken)
    {
        var grace = TimeSpan.FromSeconds(request.GetNumber("timeout", 10, 0, 3600));
        if (Interlocked.Exchange(ref _stopRequested, 1) == 0 && _qemu is { } qemu)
        {
            await ShutdownGuestAsync(qemu, grace).ConfigureAwait(false);
        }

        // Not cancellable: the supervisor answers this only after recording the stop.
        var reason = await _ended.Task.ConfigureAwait(false);
        return new ControlReply(writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("stopReason", reason.ToString());
            writer.WriteEndObject();
        });
    }

    private async Task ShutdownGuestAsync(QemuProcess qemu, TimeSpan grace)
    {
        var start = Stopwatch.GetTimestamp();
        string? failure = null;
        var agent = GuestAgentClient.ConnectBox(_name, _paths.VsockSocket(_name));
        await using (agent.ConfigureAwait(false))
        {
            try
            {
                // The agent answers at once, then gives the guest's processes the grace period
                // between SIGTERM and SIGKILL before it powers off.
                using var shutdown = new CancellationTokenSource(PowerOffMargin);
                await agent.ShutdownAsync(grace, shutdown.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is CocoonException or OperationCanceledException)
            {
                // A guest with nothing left to wait for powers off before its answer reaches the
                // host; that is the shutdown working, so the failure counts only if QEMU stays.
                failure = e.Message;
            }
        }

        var left = grace + PowerOffMargin - Stopwatch.GetElapsedTime(start);
        if (left > TimeSpan.Zero)
        {
            try
            {
                await qemu.Exited.WaitAsync(left).ConfigureAwait(false);
                return;
            }
            catch (TimeoutException)
            {
                // The guest did not power off in time.
            }
        }

        if (!qemu.Exited.IsCompleted)
        {
            if (failure is not null)
            {
                SupervisorLog.ShutdownFailed(_logger, _name, failure);
            }

            Interlocked.Exchange(ref _stopForced, 1);
            qemu.Kill();
        }
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

    [LoggerMessage(EventId = 1305, Level = LogLevel.Error, Message = "Control method {Method} failed")]
    public static partial void ControlMethodFailed(ILogger logger, string method, Exception exception);

    [LoggerMessage(EventId = 1306, Level = LogLevel.Information, Message = "Shutdown of box {Name} through its agent failed: {Message}")]
    public static partial void ShutdownFailed(ILogger logger, string name, string message);

    [LoggerMessage(EventId = 1307, Level = LogLevel.Information, Message = "Volume {Volume}: virtiofsd pid {Pid}")]
    public static partial void VolumeStarted(ILogger logger, string volume, int pid);

    [LoggerMessage(EventId = 1308, Level = LogLevel.Warning, Message = "A volume ended ({Detail}); stopping QEMU")]
    public static partial void VolumeEnded(ILogger logger, string detail);

    [LoggerMessage(EventId = 1309, Level = LogLevel.Warning, Message = "{Variable}='{Value}' is not a log level; use {Accepted}. The guest logs at its default (warn).")]
    public static partial void GuestLogLevelIgnored(ILogger logger, string variable, string value, string accepted);

    [LoggerMessage(EventId = 1350, Level = LogLevel.Warning, Message = "Published port {Port}: {Message}")]
    public static partial void PublishDialFailed(ILogger logger, string port, string message);
}
