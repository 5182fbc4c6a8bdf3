// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Globalization;
using Cocoon.Protocol;

namespace Cocoon.Vmm;

/// <summary>
/// Builds the QEMU argument vector for a <see cref="VmSpec"/>.
/// </summary>
/// <remarks>
/// Machine choice (measured on the CI host, QEMU 7.2, TCG, Debian 6.1 cloud kernel, 2.4 MB
/// initramfs, wall time from exec to a marker printed by /init after loading the virtio modules):
/// <c>microvm,acpi=on</c> about 1.7 s, <c>pc</c> about 1.9 s, <c>q35</c> about 2.3 s. microvm skips
/// SeaBIOS and PCI enumeration. The kernel lacks CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES, so microvm
/// must keep ACPI on: the guest's virtio_mmio driver finds the devices in the DSDT (LNRO0005).
/// <para>
/// Kernel arguments: <c>quiet</c> because every console line is a slow emulated UART write under TCG;
/// <c>tsc=reliable no_timer_check</c> skip clocksource and timer checks; the <c>i8042.*</c> ones skip
/// probing a keyboard controller microvm does not have; <c>8250.nr_uarts=1</c> registers one UART;
/// <c>cryptomgr.notests</c> skips crypto self-tests. Together they cut time-to-/init from about 1.3 s
/// to 1.0 s of guest uptime. <c>panic=-1</c> with <c>-no-reboot</c> turns a guest panic or reboot
/// into QEMU exiting.
/// </para>
/// <para>
/// Guest RAM is a shared memfd (<c>memory-backend-memfd,share=on</c>) so a vhost-user backend can
/// map it: the built-in vsock device and each volume's virtiofsd (<c>vhost-user-fs</c>).
/// </para>
/// <para>
/// microvm has no HPET or ACPI PM timer, so the guest calibrates its TSC against the PIT only. Under
/// TCG on a loaded host that calibration fails ("tsc: Unable to calibrate against PIT") and the boot
/// hangs (5 of 8 boots with both host cores busy). Under TCG the guest TSC is the host's TSC,
/// so the host's clock rate is passed as <c>tsc_early_khz</c> and no calibration is needed
/// (8 of 8 boots under the same load). KVM guests use kvm-clock and need nothing.
/// </para>
/// <para>
/// Under TCG the CPU model is <c>max</c>, not the default qemu64, because NativeAOT code
/// needs x86-64-v2 (SSE4.2, POPCNT), less the fast-string features <c>erms</c> and <c>fsrm</c>, and
/// the guest kernel gets <c>clearcpuid=rep_good</c>. TCG runs a <c>rep movs</c>/<c>rep stos</c> one
/// element per step, so the string copies and clears that kernel and libc pick on real CPUs
/// (<c>rep movsb</c> with ERMS, <c>rep movsq</c> with REP_GOOD) are the slowest choice there; without
/// the three flags the guest kernel copies and clears pages with unrolled loops and glibc with vector
/// loops. Measured under TCG (QEMU's vCPU thread time, same host, boxes side by side): reading
/// 256 MiB from a virtio-fs volume took 1.5–1.9 s before, 0.76–0.96 s after; 32 MiB of dial upload
/// 2.3 s before, 1.0–1.5 s after. KVM guests keep the host's CPU model and its string instructions,
/// which run at full speed there.
/// </para>
/// </remarks>
internal static class QemuCommandLine
{
    /// <summary>Kernel arguments every Cocoon guest gets.</summary>
    public static readonly IReadOnlyList<string> DefaultKernelArguments =
    [
        "console=ttyS0",
        "panic=-1",
        "quiet",
        "rdinit=/init",
        "tsc=reliable",
        "no_timer_check",
        "i8042.noaux",
        "i8042.nopnp",
        "i8042.dumbkbd",
        "i8042.nokbd",
        "8250.nr_uarts=1",
        "cryptomgr.notests",
        "random.trust_cpu=on",
    ];

    /// <summary>The CPU model under TCG: <c>max</c> without the fast-string features (see the remarks).</summary>
    internal const string TcgCpuModel = "max,-erms,-fsrm";

    /// <summary>Kernel arguments a guest gets under TCG only (see the remarks).</summary>
    internal static readonly IReadOnlyList<string> TcgKernelArguments = ["clearcpuid=rep_good"];

    /// <summary>The host CPU's clock in kHz from /proc/cpuinfo ("cpu MHz"), 0 when unknown.</summary>
    internal static readonly Lazy<int> HostTscKhz = new(ReadHostCpuKhz);

    /// <summary>The kernel module that provides the virtio transport of <paramref name="machine"/>.</summary>
    public static string TransportModule(QemuMachine machine) => machine switch
    {
        QemuMachine.Microvm => "virtio_mmio",
        QemuMachine.Q35 => "virtio_pci",
        _ => throw new ArgumentOutOfRangeException(nameof(machine), machine, null),
    };

    /// <summary>Returns the arguments (without the program name) that boot <paramref name="spec"/>.</summary>
    public static IReadOnlyList<string> Build(VmSpec spec, QemuOptions options, VmAccelerator accelerator)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(options);
        Validate(spec);

        var memory = spec.MemoryMiB.ToString(CultureInfo.InvariantCulture) + "M";
        var args = new List<string>
        {
            "-nodefaults",
            "-no-user-config",
            "-nographic",
            "-no-reboot",
        };

        // Named threads ("CPU 0/TCG", "vhost-user-fs ...") in top, perf and /proc/<pid>/task, and the box's
        // name in QEMU's own messages.
        args.AddRange(["-name", spec.Name is null ? "debug-threads=on" : $"guest={EscapeOptionValue(spec.Name)},debug-threads=on"]);

        args.Add("-machine");
        args.Add(options.Machine switch
        {
            QemuMachine.Microvm => "microvm,acpi=on,memory-backend=mem",
            QemuMachine.Q35 => "q35,memory-backend=mem",
            _ => throw new ArgumentOutOfRangeException(nameof(options), options.Machine, "Unknown machine type."),
        });

        args.AddRange(accelerator switch
        {
            VmAccelerator.Kvm => ["-accel", "kvm", "-cpu", "host"],
            VmAccelerator.Tcg => ["-accel", "tcg", "-cpu", TcgCpuModel],
            _ => throw new ArgumentOutOfRangeException(nameof(accelerator), accelerator, null),
        });

        args.AddRange(["-smp", spec.Cpus.ToString(CultureInfo.InvariantCulture), "-m", memory]);
        args.AddRange(["-object", $"memory-backend-memfd,id=mem,size={memory},share=on"]);
        args.AddRange(["-kernel", spec.KernelPath, "-initrd", spec.InitrdPath]);
        var kernelArguments = DefaultKernelArguments.ToList();
        if (accelerator == VmAccelerator.Tcg)
        {
            kernelArguments.AddRange(TcgKernelArguments);
        }

        if (accelerator == VmAccelerator.Tcg && options.Machine == QemuMachine.Microvm
            && (options.GuestTscKhz ?? HostTscKhz.Value) is > 0 and var khz)
        {
            kernelArguments.Add("tsc_early_khz=" + khz.ToString(CultureInfo.InvariantCulture));
        }

        kernelArguments.AddRange(spec.KernelArguments);
        args.AddRange(["-append", string.Join(' ', kernelArguments)]);
        args.AddRange(["-serial", "file:" + EscapeOptionValue(spec.ConsoleLogPath)]);

        if (options.Machine == QemuMachine.Microvm)
        {
            args.AddRange(["-global", "virtio-mmio.force-legacy=false"]);
        }

        if (spec.BoxLogPath is not null)
        {
            // Appended, not truncated: a box's log spans its boots, as docker logs does.
            args.AddRange(["-chardev", "file,id=boxlog,append=on,path=" + EscapeOptionValue(spec.BoxLogPath)]);
            args.AddRange(["-device", (options.Machine == QemuMachine.Microvm ? "virtio-serial-device" : "virtio-serial-pci") + ",id=boxlogbus"]);
            args.AddRange(["-device", "virtserialport,bus=boxlogbus.0,chardev=boxlog,name=" + Cocoon.Protocol.GuestDevices.BoxLogPortName]);
        }

        if (spec.VsockSocketPath is not null)
        {
            args.AddRange(["-chardev", "socket,id=vsock,path=" + EscapeOptionValue(spec.VsockSocketPath)]);
            args.AddRange(["-device", (options.Machine == QemuMachine.Microvm ? "vhost-user-vsock-device" : "vhost-user-vsock-pci") + ",chardev=vsock"]);
        }

        if (spec.Network is { } network)
        {
            args.AddRange(["-netdev", network.NetdevArgument("net0")]);
            args.AddRange(["-device", (options.Machine == QemuMachine.Microvm ? "virtio-net-device" : "virtio-net-pci") + ",netdev=net0"]);
        }

        for (var i = 0; i < spec.FsShares.Count; i++)
        {
            var (socket, tag) = spec.FsShares[i];
            var id = "fs" + i.ToString(CultureInfo.InvariantCulture);
            args.AddRange(["-chardev", $"socket,id={id},path={EscapeOptionValue(socket)}"]);
            args.AddRange(["-device", $"{(options.Machine == QemuMachine.Microvm ? "vhost-user-fs-device" : "vhost-user-fs-pci")},chardev={id},tag={EscapeOptionValue(tag)}"]);
        }

        for (var i = 0; i < spec.Disks.Count; i++)
        {
            var disk = spec.Disks[i];
            var id = "disk" + i.ToString(CultureInfo.InvariantCulture);
            args.AddRange(["-drive", $"file={EscapeOptionValue(disk.Path)},if=none,id={id},format=raw,readonly={(disk.ReadOnly ? "on" : "off")}"]);
            args.AddRange(["-device", (options.Machine == QemuMachine.Microvm ? "virtio-blk-device" : "virtio-blk-pci") + $",drive={id},serial={disk.Serial}"]);
        }

        args.AddRange(spec.ExtraQemuArguments);
        return args;
    }

    /// <summary>QEMU option values end at a comma; a literal comma is written twice.</summary>
    internal static string EscapeOptionValue(string value) => value.Replace(",", ",,", StringComparison.Ordinal);

    private static int ReadHostCpuKhz()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/cpuinfo"))
            {
                if (line.StartsWith("cpu MHz", StringComparison.Ordinal)
                    && double.TryParse(line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out var mhz))
                {
                    return (int)(mhz * 1000);
                }
            }
        }
        catch (IOException)
        {
            // No /proc/cpuinfo: let the guest calibrate.
        }

        return 0;
    }

    private static void Validate(VmSpec spec)
    {
        if (spec.MemoryMiB is < 64 or > 1024 * 1024)
        {
            throw new CocoonException(CocoonErrorCode.InvalidArgument, $"Guest memory {spec.MemoryMiB} MiB is out of range; use 64 MiB to 1 TiB.");
        }

        if (spec.Cpus is < 1 or > 255)
        {
            throw new CocoonException(CocoonErrorCode.InvalidArgument, $"Guest CPU count {spec.Cpus} is out of range; use 1 to 255.");
        }

        foreach (var (name, path) in new[] { ("kernel", spec.KernelPath), ("initramfs", spec.InitrdPath), ("console log", spec.ConsoleLogPath) })
        {
            if (string.IsNullOrEmpty(path))
            {
                throw new CocoonException(CocoonErrorCode.InvalidArgument, $"The VM's {name} path is empty.");
            }
        }

        foreach (var argument in spec.KernelArguments)
        {
            if (string.IsNullOrWhiteSpace(argument) || argument.Any(char.IsWhiteSpace))
            {
                throw new CocoonException(CocoonErrorCode.InvalidArgument, $"Kernel argument '{argument}' is empty or contains whitespace; pass one argument per item.");
            }
        }

        foreach (var disk in spec.Disks)
        {
            if (string.IsNullOrEmpty(disk.Path) || disk.Serial.Length is 0 or > 20 || !disk.Serial.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'))
            {
                throw new CocoonException(CocoonErrorCode.InvalidArgument, $"Disk '{disk.Path}' with serial '{disk.Serial}' is not valid: give a path and a serial of 1-20 letters, digits or '-'.");
            }
        }

        if (spec.VsockSocketPath is { } socket)
        {
            UnixSocketPath.EnsureFits(socket, "vsock socket path", "use a shorter state directory");
        }

        foreach (var share in spec.FsShares)
        {
            UnixSocketPath.EnsureFits(share.SocketPath, "virtio-fs socket path", "use a shorter state directory");
        }
    }
}
