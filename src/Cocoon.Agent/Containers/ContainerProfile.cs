// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon.Agent.Containers;

/// <summary>
/// What a container may do (docs/architecture.md §2.8). The default profile is Docker's: its 14
/// default capabilities (CapBnd <c>0x00000000a80425fb</c>), its masked and read-only /proc and /sys
/// paths, its device allow-list, and a read-only cgroup2 mount. The Docker profile
/// (<c>--support-docker</c>) is what a Docker daemon needs inside: every capability, nothing masked or
/// read-only, /sys and a delegated cgroup2 writable, /var/lib/docker on the scratch disk, and the
/// box's Docker module set loaded.
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
    /// <summary>Whether /sys is mounted read-only.</summary>
    public bool SysReadOnly { get; init; } = true;

    /// <summary>
    /// The sub-cgroup (crun's <c>run.oci.delegate-cgroup</c>) the container's processes start in, inside
    /// its own cgroup namespace whose root stays empty: cgroup2 lets only a cgroup without processes hand
    /// controllers to children, so this is what lets a nested runtime make child cgroups with
    /// controllers. Null for none.
    /// </summary>
    public string? DelegatedCgroup { get; init; }

    /// <summary>
    /// Paths in the container that get a directory of the container's layer on the scratch disk (ext4)
    /// instead of its overlay root: overlay2 storage cannot sit on an overlay.
    /// </summary>
    public IReadOnlyList<string> ScratchPaths { get; init; } = [];

    /// <summary>The list file of the module set to load before the container starts (<see cref="Protocol.GuestModuleSets"/>); null for none.</summary>
    public string? ModuleList { get; init; }

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

    /// <summary>The Docker profile: a Docker daemon runs inside as in a privileged Docker container.</summary>
    public static readonly ContainerProfile Docker = new(
        [
            "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID",
            "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN",
            "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
            "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
            "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP",
            "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
            "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
        ],
        [],
        [],
        CgroupReadOnly: false)
    {
        SysReadOnly = false,
        DelegatedCgroup = "init",
        ScratchPaths = ["/var/lib/docker"],
        ModuleList = Protocol.GuestModuleSets.DockerListPath,
    };

    /// <summary>The profile a container spec asks for.</summary>
    public static ContainerProfile For(Protocol.Agent.V1.ContainerProfile profile) => profile switch
    {
        Protocol.Agent.V1.ContainerProfile.Default => Default,
        Protocol.Agent.V1.ContainerProfile.Docker => Docker,
        _ => throw new CocoonException(CocoonErrorCode.InvalidArgument, $"Container profile {(int)profile} is not one this agent knows (default 0, docker 1)."),
    };

    /// <summary>
    /// Character devices a container may read and write (besides creating any node, which needs
    /// CAP_MKNOD): null, zero, full, random, urandom, tty, console, ptmx, the pty slaves, tun.
    /// Block devices (the box's disks) stay out of reach.
    /// </summary>
    public static readonly IReadOnlyList<(long Major, long? Minor)> AllowedCharDevices =
        [(1, 3), (1, 5), (1, 7), (1, 8), (1, 9), (5, 0), (5, 1), (5, 2), (136, null), (10, 200)];
}
