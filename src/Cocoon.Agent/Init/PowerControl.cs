// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Diagnostics;

namespace Cocoon.Agent.Init;

/// <summary>Ends the guest: as init, stop every process, sync and power off; in --listen-unix mode, stop the server.</summary>
internal sealed class PowerControl(AgentState state, Action stopServer, ILogger<PowerControl> logger)
{
    /// <summary>Between SIGTERM and SIGKILL when the host names no grace period.</summary>
    public static readonly TimeSpan DefaultGracePeriod = TimeSpan.FromMilliseconds(500);

    public void PowerOff(TimeSpan gracePeriod)
    {
        AgentLog.PoweringOff(logger);
        if (!state.IsInit)
        {
            stopServer();
            return;
        }

        PowerOffNow(gracePeriod);
    }

    /// <summary>
    /// As PID 1: SIGTERM everyone, wait until they all exited or <paramref name="gracePeriod"/>
    /// passed, SIGKILL the rest, sync, power off. Never returns.
    /// </summary>
    public static void PowerOffNow(TimeSpan gracePeriod)
    {
        if (gracePeriod > TimeSpan.Zero)
        {
            // kill(-1) from PID 1 signals every process except init itself.
            _ = Interop.SendSignal(-1, Interop.SIGTERM);
            var waited = Stopwatch.StartNew();
            while (waited.Elapsed < gracePeriod && AnyProcessLeft())
            {
                Thread.Sleep(2);
            }
        }

        _ = Interop.SendSignal(-1, Interop.SIGKILL);
        Interop.Sync();
        Interop.Reboot(Interop.RB_POWER_OFF);

        // reboot only returns on failure; PID 1 must not exit (the kernel would panic), so wait.
        Thread.Sleep(Timeout.Infinite);
    }

    /// <summary>
    /// True while init has a child. Every process of the box but the kernel's own descends from init,
    /// and one whose parent exits becomes init's child, so no child means no process left: one
    /// syscall, where walking /proc read some eighty stat files, most of them kernel threads'. A
    /// zombie counts until the reaper takes it, a moment later.
    /// </summary>
    private static bool AnyProcessLeft() => Interop.HasChildren();
}
