// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Globalization;
using Cocoon.EndToEnd.Tests.Boxes;
using Cocoon.Tests.Common;

namespace Cocoon.EndToEnd.Tests.Supervisor;

/// <summary>
/// Stop reasons the other lifecycle tests do not reach (BoxLifecycleTests covers stopped, exit,
/// supervisor died and a QEMU crash).
/// </summary>
public sealed class StopReasonTests
{
    [Fact]
    public async Task SupervisorSignalled_StopReasonKilled()
    {
        await using var environment = new BoxTestEnvironment();
        await environment.CocoonAsync("create", "--name", "sig");
        var start = await environment.CocoonAsync("start", "sig");
        Assert.True(start.ExitCode == 0, start.Stderr);
        var supervisor = (await environment.InspectAsync("sig")).GetProperty("pid").GetInt32();

        SendSigterm(supervisor);
        await BoxTestEnvironment.WaitUntilAsync(() => environment.ReadRecord("sig").GetProperty("state").GetString() == "stopped");
        var inspected = await environment.InspectAsync("sig");

        Assert.Equal("killed", inspected.GetProperty("stop_reason").GetString());
        await BoxTestEnvironment.WaitUntilAsync(() => environment.LeftoverProcesses().Count == 0);
        Assert.False(File.Exists(Path.Combine(environment.StateRoot, "boxes", "sig", "control.sock")));
    }

    [Fact]
    public async Task AgentMissing_StartFailsAndStopReasonSaysFailedToStart()
    {
        await using var environment = new BoxTestEnvironment();
        await environment.CocoonAsync("create", "--name", "noagent");
        environment.Environment["COCOON_AGENT_PATH"] = "/nonexistent/cocoon-agent";

        var start = await environment.CocoonAsync("start", "noagent");
        var inspected = await environment.InspectAsync("noagent");

        Assert.Equal(9, start.ExitCode);
        var reason = inspected.GetProperty("stop_reason").GetString();
        Assert.StartsWith("failed to start: ", reason, StringComparison.Ordinal);
        Assert.Contains("/nonexistent/cocoon-agent", reason, StringComparison.Ordinal);
        Assert.Equal("stopped", inspected.GetProperty("state").GetString());
        Assert.Empty(environment.LeftoverProcesses());
    }

    [Fact]
    public async Task VsockDeviceEndsFirst_QemuEndedAndStopReasonSaysDeviceEnded()
    {
        await using var environment = new BoxTestEnvironment();
        await environment.CocoonAsync("create", "--name", "cut");
        var start = await environment.CocoonAsync("start", "cut");
        Assert.True(start.ExitCode == 0, start.Stderr);
        var running = await environment.InspectAsync("cut");
        var supervisor = running.GetProperty("pid").GetInt32();
        var qemu = running.GetProperty("vmm_pid").GetInt32();

        // The fault: the supervisor's end of the vhost-user connection is shut down under it while
        // QEMU runs on, as a device failing on its own would leave things.
        var cut = await ProcessRunner.RunAsync(
            "python3",
            ["-c", ShutDownVhostUserConnection, supervisor.ToString(CultureInfo.InvariantCulture), Path.Combine(environment.StateRoot, "boxes", "cut", "vhost.sock")],
            TimeSpan.FromMinutes(1));
        Assert.True(cut.ExitCode == 0 && cut.Stdout.Trim() == "1", $"shutting the vhost-user connection down failed: {cut.Stdout}{cut.Stderr}");

        await BoxTestEnvironment.WaitUntilAsync(() => environment.ReadRecord("cut").GetProperty("state").GetString() == "stopped");
        var inspected = await environment.InspectAsync("cut");

        Assert.Equal("device ended (FrontEndDisconnected)", inspected.GetProperty("stop_reason").GetString());
        Assert.False(Directory.Exists($"/proc/{qemu}"), $"QEMU (pid {qemu}) outlived the device");
        await BoxTestEnvironment.WaitUntilAsync(() => environment.LeftoverProcesses().Count == 0);
    }

    // Finds the supervisor's accepted socket on vhost.sock (/proc/net/unix: the path, state 03
    // connected), takes a duplicate of it with pidfd_getfd(2) and shuts the connection down.
    // Prints how many connections it cut.
    private const string ShutDownVhostUserConnection = """
        import ctypes, os, socket, sys
        pid, path = int(sys.argv[1]), sys.argv[2]
        with open("/proc/net/unix") as table:
            inodes = {f[6] for f in (line.split() for line in list(table)[1:]) if len(f) >= 8 and f[7] == path and f[5] == "03"}
        libc = ctypes.CDLL(None, use_errno=True)
        pidfd = libc.syscall(434, pid, 0)  # pidfd_open
        if pidfd < 0:
            sys.exit("pidfd_open: " + os.strerror(ctypes.get_errno()))
        cut = 0
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:[") and target[8:-1] in inodes:
                local = libc.syscall(438, pidfd, int(fd), 0)  # pidfd_getfd
                if local < 0:
                    sys.exit("pidfd_getfd: " + os.strerror(ctypes.get_errno()))
                socket.socket(fileno=local).shutdown(socket.SHUT_RDWR)
                cut += 1
        print(cut)
        """;

    private static void SendSigterm(int pid)
    {
        using var kill = System.Diagnostics.Process.Start("kill", ["-TERM", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
        Assert.Equal(0, kill.ExitCode);
    }
}
