// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using Cocoon.Vmm;
using Microsoft.Extensions.Logging;

namespace Cocoon.Supervisor;

/// <summary>One volume of a box as the supervisor serves it.</summary>
/// <param name="Mount">The volume as configured.</param>
/// <param name="SocketPath">virtiofsd's vhost-user socket, boxes/&lt;name&gt;/fs&lt;i&gt;.sock.</param>
/// <param name="Tag">The virtio-fs tag the guest mounts by.</param>
internal sealed record VolumePlan(VolumeMount Mount, string SocketPath, string Tag);

/// <summary>
/// One running <c>virtiofsd</c> (QEMU's, Debian ships it in /usr/lib/qemu) serving one volume of a
/// box over vhost-user-fs. The supervisor starts one per volume before QEMU and watches them all.
/// </summary>
/// <remarks>
/// <para>
/// Debian's virtiofsd (QEMU 7.2, the C one) shares exactly one directory, so a box with several
/// volumes runs several daemons. It needs root: it sandboxes itself in new mount, PID and network
/// namespaces (<c>-o sandbox=namespace</c>, pivot_root into the shared directory), and with
/// <c>--socket-path</c> it writes a pid file under /run/virtiofsd (<see cref="PidFile"/>), which it never
/// removes, so <see cref="DisposeAsync"/> does once it has exited. As another user it fails both
/// ways (measured: "Could not create '/var/run/virtiofsd/...pid': Permission denied"; <c>--fd</c>
/// avoids the pid file, but the namespaces still need CAP_SYS_ADMIN, and a user namespace maps only
/// one uid, which would lose the guest's file owners), so volumes are refused unless Cocoon runs as root.
/// </para>
/// <para>
/// The guest is untrusted, so a read-only volume is read-only on the host too: virtiofsd starts in a
/// private mount namespace (<c>unshare --mount</c>) where the directory is bind-mounted read-only
/// over itself, and its own sandbox inherits that mount. The guest's <c>ro</c> mount alone could be
/// undone by a guest root (<c>mount -o remount,rw</c>). A volume that
/// <see cref="VolumeMount.FollowsHostMounts"/> gets a slave namespace instead, so mounts the host makes
/// beneath the directory later reach virtiofsd (measured: virtiofsd's own namespace is a slave of
/// the one it starts in, and a mount under a shared host directory appears in it).
/// </para>
/// <para>
/// Like QEMU it runs under <c>setpriv --pdeathsig KILL</c>, and virtiofsd's sandboxed child dies
/// with its parent, so no daemon outlives the supervisor.
/// </para>
/// </remarks>
internal sealed class VolumeDaemon : IAsyncDisposable
{
    /// <summary>Names another virtiofsd binary (tests, other distributions).</summary>
    public const string VirtiofsdPathVariable = "COCOON_VIRTIOFSD";

    private const int TailLimit = 4096;
    private static readonly TimeSpan SocketWait = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan ExitGrace = TimeSpan.FromSeconds(2);

    private readonly Process _process;
    private readonly OutputTail _tail = new(TailLimit);
    private readonly Task _stderr;

    private VolumeDaemon(VolumePlan plan, Process process)
    {
        Plan = plan;
        _process = process;
        _stderr = _tail.PumpAsync(process.StandardError);
        Exited = WaitForExitAsync();
    }

    /// <summary>The volume it serves.</summary>
    public VolumePlan Plan { get; }

    /// <summary>The daemon's process id.</summary>
    public int Pid => _process.Id;

    /// <summary>Completes with the daemon's exit code when it exits.</summary>
    public Task<int> Exited { get; }

    /// <summary>Why the daemon ended, for the stop reason: the volume, the exit code and its last line.</summary>
    public string DescribeExit() =>
        string.Create(CultureInfo.InvariantCulture, $"virtiofsd for {Plan.Mount.GuestPath} ({Plan.Mount.HostPath}) exited with code {(Exited.IsCompleted ? Exited.Result : -1)}: {_tail.LastLine}");

    /// <summary>The virtiofsd binary: <c>COCOON_VIRTIOFSD</c>, else Debian's.</summary>
    public static string FindVirtiofsd()
    {
        var configured = Environment.GetEnvironmentVariable(VirtiofsdPathVariable);
        string[] candidates = string.IsNullOrEmpty(configured) ? ["/usr/lib/qemu/virtiofsd", "/usr/libexec/virtiofsd"] : [configured];
        return candidates.FirstOrDefault(File.Exists)
            ?? throw new CocoonException(
                CocoonErrorCode.NotFound,
                $"virtiofsd is not installed (looked at {string.Join(", ", candidates)}); it comes with Debian's qemu-system-x86 (apt-get install qemu-system-x86) or name it in {VirtiofsdPathVariable}");
    }

    /// <summary>The program and arguments that run virtiofsd for <paramref name="plan"/>. Pure.</summary>
    public static IReadOnlyList<string> CommandLine(string virtiofsd, VolumePlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        List<string> args = ["setpriv", "--pdeathsig", "KILL", "--"];
        if (plan.Mount.ReadOnly)
        {
            // $0 is virtiofsd, $1 the directory; the rest are virtiofsd's arguments. Following host
            // mounts: a slave namespace receives them, and --rbind keeps those already there (each
            // with its own flags; only the directory's own mount is made read-only here).
            var (propagation, bind) = plan.Mount.FollowsHostMounts ? ("slave", "--rbind") : ("private", "--bind");
            args.AddRange(["unshare", "--mount", "--propagation", propagation, "--", "/bin/sh", "-c",
                $"dir=\"$1\"; shift; mount {bind} -o ro \"$dir\" \"$dir\" && exec \"$0\" \"$@\""]);
        }

        args.Add(virtiofsd);
        if (plan.Mount.ReadOnly)
        {
            args.Add(plan.Mount.HostPath);
        }

        args.AddRange([
            "--socket-path=" + plan.SocketPath,
            "-o", "source=" + plan.Mount.HostPath,
            "-o", "sandbox=namespace",
            "-o", "cache=auto",
            "-o", "log_level=warn",
        ]);
        return args;
    }

    /// <summary>
    /// Starts virtiofsd for <paramref name="plan"/> and returns once its socket listens, so QEMU can
    /// connect. Must run on the supervisor's main thread (PDEATHSIG, see <see cref="BoxSupervisor"/>).
    /// </summary>
    /// <exception cref="CocoonException">Not root, no virtiofsd, or it exited or did not listen in time; the message has its output.</exception>
    public static VolumeDaemon Start(VolumePlan plan, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(plan);
        if (!Environment.IsPrivilegedProcess)
        {
            throw new CocoonException(
                CocoonErrorCode.Unsupported,
                $"volume {plan.Mount}: volumes need root, because virtiofsd sandboxes itself in new namespaces; run cocoon as root or copy files with cocoon cp");
        }

        var command = CommandLine(FindVirtiofsd(), plan);
        var start = new ProcessStartInfo(command[0])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = false,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in command.Skip(1))
        {
            start.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("Process.Start returned null.");
        }
        catch (Win32Exception e)
        {
            throw new CocoonException(CocoonErrorCode.Unavailable, $"volume {plan.Mount}: cannot start virtiofsd: {e.Message}", e);
        }

        process.StandardInput.Close();
        var daemon = new VolumeDaemon(plan, process);
        SupervisorLog.VolumeStarted(logger, plan.Mount.ToString(), process.Id);
        var deadline = Stopwatch.GetTimestamp() + (long)(SocketWait.TotalSeconds * Stopwatch.Frequency);
        while (!File.Exists(plan.SocketPath))
        {
            if (daemon.Exited.IsCompleted || Stopwatch.GetTimestamp() > deadline)
            {
                var reason = daemon.Exited.IsCompleted ? daemon.DescribeExit() : $"virtiofsd did not listen on {plan.SocketPath} within {SocketWait.TotalSeconds:0} s";
                daemon.DisposeAsync().AsTask().GetAwaiter().GetResult();
                throw new CocoonException(CocoonErrorCode.Unavailable, $"volume {plan.Mount}: {reason}");
            }

            Thread.Sleep(10);
        }

        return daemon;
    }

    /// <summary>
    /// Lets virtiofsd finish by itself (it exits when QEMU disconnects), then kills it and its
    /// sandboxed child, and waits for them.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await Exited.WaitAsync(ExitGrace).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            try
            {
                _process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // Exited meanwhile.
            }

            await Exited.WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }

        _process.Dispose();
        try
        {
            File.Delete(PidFile(Plan.SocketPath));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Left for the next daemon on this socket, which takes it over.
        }
    }

    /// <summary>
    /// The pid file virtiofsd (QEMU 7.2's) locks while it serves <paramref name="socketPath"/>:
    /// <c>/var/run/virtiofsd/</c>, the socket path with each '/' as '.', and <c>.pid</c> (its
    /// <c>fv_socket_lock</c>). Named after the socket, so it belongs to this box's daemon alone.
    /// </summary>
    internal static string PidFile(string socketPath) => "/var/run/virtiofsd/" + socketPath.Replace('/', '.') + ".pid";

    private async Task<int> WaitForExitAsync()
    {
        await _process.WaitForExitAsync().ConfigureAwait(false);
        await _stderr.ConfigureAwait(false);
        return _process.ExitCode;
    }
}
