// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Diagnostics;
using System.Globalization;

namespace Cocoon.Agent.Init;

/// <summary>Ends the guest: as init, stop every process, sync and power off; in --listen-unix mode, stop the server.</summary>
internal sealed class PowerControl(AgentState state, Action stopServer, ILogger<PowerControl> logger)
{
    /// <summary>Between SIGTERM and SIGKILL when the host names no grace period.</summary>
    public static readonly TimeSpan DefaultGracePeriod = TimeSpan.FromMilliseconds(500);

    // include/linux/sched.h: the task is a kernel thread (no user process to wait for).
    private const long PF_KTHREAD = 0x00200000;

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
                Thread.Sleep(20);
            }
        }

        _ = Interop.SendSignal(-1, Interop.SIGKILL);
        Interop.Sync();
        Interop.Reboot(Interop.RB_POWER_OFF);

        // reboot only returns on failure; PID 1 must not exit (the kernel would panic), so wait.
        Thread.Sleep(Timeout.Infinite);
    }

    /// <summary>True while a user process other than init is alive; zombies (reaped by init) and kernel threads do not count.</summary>
    private static bool AnyProcessLeft()
    {
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid <= 1)
            {
                continue;
            }

            string stat;
            try
            {
                stat = File.ReadAllText(Path.Combine(directory, "stat"));
            }
            catch (IOException)
            {
                continue; // exited while we looked
            }

            // proc_pid_stat(5): "pid (comm) state ppid pgrp session tty_nr tpgid flags ..."; comm may hold spaces.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            if (fields.Length > 6 && fields[0] is not ("Z" or "X")
                && long.TryParse(fields[6], NumberStyles.None, CultureInfo.InvariantCulture, out var flags) && (flags & PF_KTHREAD) == 0)
            {
                return true;
            }
        }

        return false;
    }
}
