// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon.Vmm;

/// <summary>What to boot: one microVM's kernel, initramfs, size, console and devices.</summary>
internal sealed record VmSpec
{
    /// <summary>The VM's name for QEMU (<c>-name</c>): the box's name; null for none.</summary>
    public string? Name { get; init; }

    /// <summary>The guest kernel (bzImage).</summary>
    public required string KernelPath { get; init; }

    /// <summary>The initramfs (uncompressed newc cpio).</summary>
    public required string InitrdPath { get; init; }

    /// <summary>Where the guest serial console (ttyS0) is written; the file is truncated at start.</summary>
    public required string ConsoleLogPath { get; init; }

    /// <summary>
    /// Where the box log is appended (the agent's virtio-serial port <see cref="Cocoon.Protocol.GuestDevices.BoxLogPortName"/>);
    /// null for a VM without it.
    /// </summary>
    public string? BoxLogPath { get; init; }

    /// <summary>Kernel arguments appended after <see cref="QemuCommandLine.DefaultKernelArguments"/>.</summary>
    public IReadOnlyList<string> KernelArguments { get; init; } = [];

    /// <summary>Guest RAM in MiB.</summary>
    public int MemoryMiB { get; init; } = 512;

    /// <summary>Virtual CPUs.</summary>
    public int Cpus { get; init; } = 1;

    /// <summary>
    /// The vhost-user-vsock backend's listening UNIX socket. When set, QEMU connects to it at start
    /// (and fails if nothing listens). When null the VM has no vsock device.
    /// </summary>
    public string? VsockSocketPath { get; init; }

    /// <summary>The virtio-net device on user-mode networking, or null for no network device.</summary>
    public UserNetwork? Network { get; init; }

    /// <summary>virtio-fs shares: one <c>vhost-user-fs</c> device per entry, its backend (virtiofsd) listening on the socket.</summary>
    public IReadOnlyList<VirtioFsShare> FsShares { get; init; } = [];

    /// <summary>Virtio block devices, in order; empty for none.</summary>
    public IReadOnlyList<VmDisk> Disks { get; init; } = [];

    /// <summary>Extra QEMU arguments appended as-is (tests and benchmarks).</summary>
    public IReadOnlyList<string> ExtraQemuArguments { get; init; } = [];
}

/// <summary>One virtio-fs device: QEMU connects to <paramref name="SocketPath"/>, where virtiofsd listens.</summary>
/// <param name="SocketPath">virtiofsd's vhost-user socket.</param>
/// <param name="Tag">The tag the guest mounts by.</param>
internal readonly record struct VirtioFsShare(string SocketPath, string Tag);

/// <summary>A raw disk image the guest sees as a virtio block device.</summary>
/// <param name="Path">The host file.</param>
/// <param name="Serial">The device's serial, how the guest tells disks apart (at most 20 bytes of [A-Za-z0-9-]).</param>
/// <param name="ReadOnly">Whether the guest may only read it.</param>
internal sealed record VmDisk(string Path, string Serial, bool ReadOnly);

/// <summary>How to run QEMU.</summary>
internal sealed record QemuOptions
{
    /// <summary>The QEMU binary, a path or a name looked up on PATH.</summary>
    public string QemuPath { get; init; } = "qemu-system-x86_64";

    /// <summary>A program and arguments QEMU is started through (for example <c>setpriv --pdeathsig KILL --</c>); empty for none.</summary>
    public IReadOnlyList<string> Launcher { get; init; } = [];

    /// <summary>The machine type.</summary>
    public QemuMachine Machine { get; init; } = QemuMachine.Microvm;

    /// <summary>
    /// The guest TSC rate in kHz passed as <c>tsc_early_khz</c> for microvm under TCG; null reads the
    /// host's from /proc/cpuinfo. See <see cref="QemuCommandLine"/>.
    /// </summary>
    public int? GuestTscKhz { get; init; }
}

/// <summary>The QEMU machine types Cocoon knows how to drive.</summary>
internal enum QemuMachine
{
    /// <summary>
    /// <c>microvm</c> with ACPI: no firmware tables beyond ACPI, no PCI; virtio devices are virtio-mmio
    /// and the guest finds them through ACPI (needs the <c>virtio_mmio</c> module). The default: it
    /// reaches /init fastest (see <see cref="QemuCommandLine"/>).
    /// </summary>
    Microvm,

    /// <summary><c>q35</c> with SeaBIOS and PCI; virtio devices are virtio-pci (needs <c>virtio_pci</c>).</summary>
    Q35,
}

/// <summary>The accelerator QEMU runs the guest with.</summary>
internal enum VmAccelerator
{
    /// <summary>Hardware virtualization through /dev/kvm (<c>-accel kvm -cpu host</c>).</summary>
    Kvm,

    /// <summary>QEMU's software emulator (<c>-accel tcg -cpu max,-erms,-fsrm</c>); works everywhere, several times slower.</summary>
    Tcg,
}
