// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Diagnostics;
using System.Globalization;
using Cocoon.Protocol;

namespace Cocoon.Agent.Init;

/// <summary>
/// What PID 1 does before serving, once <see cref="RootSwitch"/> made its root a tmpfs:
/// <code>
///  1. mount /proc, /sys, /dev (devtmpfs), /dev/pts, /dev/shm, /run, /tmp, /sys/fs/cgroup
///     and a root account in /etc/passwd and /etc/group when the image has none
///  2. make sure fds 0, 1, 2 are /dev/console (an initramfs without /dev/console leaves them closed)
///  3. read the boot configuration from /proc/cmdline
///  4. load the kernel modules in order (finit_module; EEXIST is fine)
///  5. set the hostname, bring up lo
///  6. configure the box's network interface, when the box has one (Network/GuestNetwork.cs)
///  7. mount the volumes: each virtio-fs tag at /run/volumes/TAG, bound at its path (read-only when asked)
///  8. once the agent serves, on a thread of its own (<see cref="DiskMounts"/>): load the disk
///     modules, mount the boot configuration's disks, found by virtio serial
/// </code>
/// Each step is timed; a failed step is logged and the boot goes on, so the host can still ask.
/// </summary>
internal static class GuestInit
{
    private static readonly (string Source, string Target, string Type, ulong Flags, string? Data)[] Mounts =
    [
        ("proc", "/proc", "proc", Interop.MS_NOSUID | Interop.MS_NODEV | Interop.MS_NOEXEC, null),
        ("sysfs", "/sys", "sysfs", Interop.MS_NOSUID | Interop.MS_NODEV | Interop.MS_NOEXEC, null),
        ("devtmpfs", "/dev", "devtmpfs", Interop.MS_NOSUID, "mode=0755"),
        ("devpts", "/dev/pts", "devpts", Interop.MS_NOSUID | Interop.MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620,gid=5"),
        ("tmpfs", "/dev/shm", "tmpfs", Interop.MS_NOSUID | Interop.MS_NODEV, "mode=1777"),
        ("tmpfs", "/run", "tmpfs", Interop.MS_NOSUID | Interop.MS_NODEV, "mode=0755"),
        ("tmpfs", "/tmp", "tmpfs", Interop.MS_NOSUID | Interop.MS_NODEV, "mode=1777"),
        ("cgroup2", "/sys/fs/cgroup", "cgroup2", Interop.MS_NOSUID | Interop.MS_NODEV | Interop.MS_NOEXEC, "nsdelegate"),
    ];

    /// <summary>Steps 1–3; returns the boot configuration and the time spent mounting.</summary>
    /// <param name="startTimestamp">When the agent started.</param>
    /// <param name="devMounted">Whether <see cref="RootSwitch"/> already mounted devtmpfs on /dev.</param>
    public static (BootConfig Config, ulong KernelToInitUs, ulong MountsUs, List<(string Step, Exception Error)> Failures) Prepare(long startTimestamp, bool devMounted)
    {
        var failures = new List<(string, Exception)>();
        var mountStart = Stopwatch.GetTimestamp();
        foreach (var (source, target, type, flags, data) in Mounts)
        {
            if (devMounted && target == "/dev")
            {
                continue;
            }

            Try($"mount {target}", failures, () =>
            {
                Directory.CreateDirectory(target);
                var result = Interop.Mount(source, target, type, flags, data);
                if (result.Error != Interop.Errno.EBUSY)
                {
                    result.ThrowIfFailed($"mount {type} on {target}");
                }
            });
        }

        Try("/dev links", failures, () =>
        {
            foreach (var (link, target) in new[] { ("/dev/fd", "/proc/self/fd"), ("/dev/stdin", "/proc/self/fd/0"), ("/dev/stdout", "/proc/self/fd/1"), ("/dev/stderr", "/proc/self/fd/2") })
            {
                if (!Path.Exists(link))
                {
                    File.CreateSymbolicLink(link, target);
                }
            }
        });

        // A root account: without /etc/passwd, user-name lookups fail with ENOENT instead of "no such
        // user", and .NET's tar writer (cocoon cp out of the box) looks up every file's owner.
        Try("/etc/passwd", failures, () =>
        {
            Directory.CreateDirectory("/etc");
            foreach (var (file, line) in new[] { ("/etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"), ("/etc/group", "root:x:0:\n") })
            {
                if (!File.Exists(file))
                {
                    File.WriteAllText(file, line);
                }
            }
        });

        var mountsUs = ElapsedUs(mountStart);
        Try("console", failures, AttachConsole);

        var kernelToInitUs = 0UL;
        Try("/proc/uptime", failures, () =>
        {
            var uptime = File.ReadAllText("/proc/uptime").Split(' ')[0];
            var uptimeUs = (ulong)(double.Parse(uptime, CultureInfo.InvariantCulture) * 1_000_000);
            var sinceStart = ElapsedUs(startTimestamp);
            kernelToInitUs = uptimeUs > sinceStart ? uptimeUs - sinceStart : 0;
        });

        var config = new BootConfig();
        Try("boot configuration", failures, () => config = BootConfig.FromKernelCommandLine(File.ReadAllText("/proc/cmdline")) ?? new BootConfig());
        return (config, kernelToInitUs, mountsUs, failures);
    }

    /// <summary>Steps 4–6; returns the time spent and how many modules are loaded.</summary>
    public static (ulong ModulesUs, uint Loaded) Configure(BootConfig config, ILogger logger)
    {
        var start = Stopwatch.GetTimestamp();
        var (loaded, moduleFailures) = KernelModules.Load(config.Modules);
        foreach (var (module, error) in moduleFailures)
        {
            AgentLog.ModuleFailed(logger, module, error);
        }

        var modulesUs = ElapsedUs(start);
        var failures = new List<(string, Exception)>();
        if (!string.IsNullOrEmpty(config.Hostname))
        {
            Try("hostname", failures, () => Interop.SetHostName(config.Hostname));
        }

        Try("loopback", failures, () => Interop.InterfaceUp("lo"));
        if (config.Network is { } network)
        {
            Try($"network {network.Interface}", failures, () => Network.GuestNetwork.Configure(network));
        }

        foreach (var (step, error) in failures)
        {
            AgentLog.BootStepFailed(logger, step, error);
        }

        return (modulesUs, loaded);
    }

    /// <summary>Step 8: loads the disk modules, then mounts the disks; returns one message per step that failed (each is logged too).</summary>
    public static List<string> MountDisks(BootConfig config, ILogger logger)
    {
        var (_, moduleFailures) = KernelModules.Load(config.DiskModules ?? []);
        var failures = new List<(string Step, Exception Error)>(moduleFailures.Select(f => ($"module {f.Module}", (Exception)f.Error)));
        foreach (var disk in config.Disks ?? [])
        {
            Try($"disk {disk.Serial}", failures, () => MountDisk(disk, "/sys/block"));
        }

        foreach (var (step, error) in failures)
        {
            AgentLog.BootStepFailed(logger, step, error);
        }

        return [.. failures.Select(f => $"{f.Step}: {f.Error.Message}")];
    }

    /// <summary>Where each volume's virtio-fs share is mounted before it is bound at its path (containers bind from here too).</summary>
    public const string VolumesDirectory = "/run/volumes";

    /// <summary>
    /// Read-ahead for each virtio-fs share, in KiB. The kernel's default of 128 KiB makes every
    /// sequential read a 128 KiB FUSE request with its own round trip through virtiofsd; at 4 MiB the
    /// guest issues 1 MiB requests (virtiofsd's max_pages) several at a time. Measured under TCG, a
    /// 256 MiB read with a dropped page cache: 3.5 s at 128 KiB, 2.4 s at 4 MiB.
    /// </summary>
    public const int VolumeReadAheadKiB = 4096;

    /// <summary>Step 7; returns one message per volume that could not be mounted (the host fails the start on any).</summary>
    public static List<string> MountVolumes(BootConfig config, ILogger logger)
    {
        var errors = new List<string>();
        foreach (var volume in config.Volumes ?? [])
        {
            try
            {
                var share = $"{VolumesDirectory}/{volume.Tag}";
                var readOnly = volume.ReadOnly ? Interop.MS_RDONLY : 0;
                Directory.CreateDirectory(share);
                Interop.Mount(volume.Tag, share, "virtiofs", Interop.MS_NOSUID | Interop.MS_NODEV | readOnly, null)
                    .ThrowIfFailed($"mount virtio-fs '{volume.Tag}' on {share}");

                // mount returns before virtiofsd answers FUSE INIT, and the kernel, on that answer,
                // lowers read-ahead to what INIT negotiated (128 KiB); a raise made before it is lost.
                // statfs is a FUSE request, so it returns only once INIT has been processed.
                Interop.StatFs(share).ThrowIfFailed($"statfs virtio-fs '{volume.Tag}' on {share}");
                SetReadAhead(share, "/proc/self/mountinfo", "/sys/class/bdi", logger);
                Directory.CreateDirectory(volume.Path);
                Interop.Mount(share, volume.Path, "none", Interop.MS_BIND, null).ThrowIfFailed($"bind {share} on {volume.Path}");
                if (volume.ReadOnly)
                {
                    // A bind mount takes MS_RDONLY only through a remount.
                    Interop.Mount("none", volume.Path, "none", Interop.MS_REMOUNT | Interop.MS_BIND | Interop.MS_RDONLY, null)
                        .ThrowIfFailed($"remount {volume.Path} read-only");
                }
            }
            catch (Exception ex) when (ex is CocoonException or IOException or UnauthorizedAccessException)
            {
                AgentLog.BootStepFailed(logger, $"volume {volume.Path}", ex);
                errors.Add($"volume {volume.Path} (virtio-fs tag {volume.Tag}): {ex.Message}");
            }
        }

        return errors;
    }

    /// <summary>
    /// Sets <see cref="VolumeReadAheadKiB"/> on the backing device of the mount at <paramref name="mountPoint"/>
    /// (its <c>major:minor</c> from mountinfo names its entry under <paramref name="bdiRoot"/>). Only
    /// speed depends on it, so a failure is logged and the volume stays mounted.
    /// </summary>
    internal static void SetReadAhead(string mountPoint, string mountInfo, string bdiRoot, ILogger logger)
    {
        try
        {
            var device = File.ReadLines(mountInfo)
                .Select(line => line.Split(' '))
                .LastOrDefault(fields => fields.Length > 4 && fields[4] == mountPoint)?[2]
                ?? throw new IOException($"{mountPoint} is not in {mountInfo}");
            File.WriteAllText(Path.Combine(bdiRoot, device, "read_ahead_kb"), VolumeReadAheadKiB.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            AgentLog.BootStepFailed(logger, $"read-ahead for {mountPoint}", ex);
        }
    }

    /// <summary>Mounts the virtio disk whose serial is <paramref name="disk"/>'s on its mount point.</summary>
    private static void MountDisk(BootDisk disk, string sysBlock)
    {
        var device = FindDiskBySerial(sysBlock, disk.Serial)
            ?? throw new CocoonException(CocoonErrorCode.NotFound, $"No virtio disk has the serial '{disk.Serial}' ({sysBlock}/vd*/serial).");
        Directory.CreateDirectory(disk.MountPoint);
        Interop.Mount(device, disk.MountPoint, disk.FsType, disk.ReadOnly ? Interop.MS_RDONLY : 0, WritableExt4Options(disk))
            .ThrowIfFailed($"mount {device} ({disk.Serial}) on {disk.MountPoint}");
    }

    /// <summary>
    /// The mount data of a disk: for a writable ext4 disk (the box's scratch disk, made with
    /// lazy_itable_init), noinit_itable, so that the kernel's ext4lazyinit thread does not spend the
    /// box's first seconds zeroing inode tables (128 MiB for 8 GiB) that are still holes of a sparse
    /// file and read as zeros anyway.
    /// </summary>
    internal static string? WritableExt4Options(BootDisk disk) =>
        disk is { FsType: "ext4", ReadOnly: false } ? "noinit_itable" : null;

    /// <summary>The <c>/dev</c> path of the virtio disk whose <c>serial</c> attribute is <paramref name="serial"/>; null when none is.</summary>
    internal static string? FindDiskBySerial(string sysBlock, string serial)
    {
        foreach (var directory in Directory.EnumerateDirectories(sysBlock, "vd*"))
        {
            var file = Path.Combine(directory, "serial");
            if (File.Exists(file) && File.ReadAllText(file).Trim() == serial)
            {
                return "/dev/" + Path.GetFileName(directory);
            }
        }

        return null;
    }

    public static ulong ElapsedUs(long startTimestamp) => (ulong)Stopwatch.GetElapsedTime(startTimestamp).Ticks / 10;

    private static void AttachConsole()
    {
        if (Interop.IsOpen(1))
        {
            return;
        }

        // 0, 1 and 2 become copies; the descriptor open returned is closed again.
        using var console = Interop.OpenFile("/dev/console", Interop.OpenFlags.O_RDWR | Interop.OpenFlags.O_NOCTTY);
        for (var fd = 0; fd <= 2; fd++)
        {
            Interop.Dup2(console, fd, "dup2 /dev/console");
        }
    }

    private static void Try(string step, List<(string, Exception)> failures, Action action)
    {
        try
        {
            action();
        }
        catch (Exception ex) when (ex is CocoonException or IOException or UnauthorizedAccessException or FormatException)
        {
            failures.Add((step, ex));
        }
    }
}
