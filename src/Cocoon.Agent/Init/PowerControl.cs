// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon.Agent.Init;

/// <summary>Ends the guest: as init, stop every process, sync and power off; in --listen-unix mode, stop the server.</summary>
internal sealed class PowerControl(AgentState state, Action stopServer, ILogger<PowerControl> logger)
{
    public void PowerOff()
    {
        AgentLog.PoweringOff(logger);
        if (!state.IsInit)
        {
            stopServer();
            return;
        }

        PowerOffNow(graceful: true);
    }

    /// <summary>As PID 1: SIGTERM everyone, give them a moment, SIGKILL, sync, power off. Never returns.</summary>
    public static void PowerOffNow(bool graceful)
    {
        if (graceful)
        {
            // kill(-1) from PID 1 signals every process except init itself.
            _ = Interop.SendSignal(-1, Interop.SIGTERM);
            Thread.Sleep(500);
        }

        _ = Interop.SendSignal(-1, Interop.SIGKILL);
        Interop.Sync();
        Interop.Reboot(Interop.RB_POWER_OFF);

        // reboot only returns on failure; PID 1 must not exit (the kernel would panic), so wait.
        Thread.Sleep(Timeout.Infinite);
    }
}
