// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon.Agent.Containers;

/// <summary>
/// What a container may do (docs/architecture.md §2.8). The default profile is Docker's: its 14
/// default capabilities (CapBnd <c>0x00000000a80425fb</c>), its masked and read-only /proc and /sys
/// paths, its device allow-list, and a read-only cgroup2 mount.
/// </summary>
/// <param name="Capabilities">The bounding, effective and permitted sets (CAP_ names).</param>
/// <param name="MaskedPaths">Paths hidden from the container (an empty file or tmpfs over them).</param>
/// <param name="ReadonlyPaths">Paths mounted read-only.</param>
/// <param name="CgroupReadOnly">Whether /sys/fs/cgroup is mounted read-only.</param>
internal sealed record ContainerProfile(
    IReadOnlyList<string> Capabilities,
    IReadOnlyList<string> MaskedPaths,
    IReadOnlyList<string> ReadonlyPaths,
    bool CgroupReadOnly)
{
    /// <summary>Docker's default profile.</summary>
    public static readonly ContainerProfile Default = new(
        [
            "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
            "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
        ],
        [
            "/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
            "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap",
        ],
        ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
        CgroupReadOnly: true);

    /// <summary>
    /// Character devices a container may read and write (besides creating any node, which needs
    /// CAP_MKNOD): null, zero, full, random, urandom, tty, console, ptmx, the pty slaves, tun.
    /// Block devices (the box's disks) stay out of reach.
    /// </summary>
    public static readonly IReadOnlyList<(long Major, long? Minor)> AllowedCharDevices =
        [(1, 3), (1, 5), (1, 7), (1, 8), (1, 9), (5, 0), (5, 1), (5, 2), (136, null), (10, 200)];
}
