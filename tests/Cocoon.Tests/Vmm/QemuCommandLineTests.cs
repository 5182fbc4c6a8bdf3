// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon.Vmm.Tests;

public sealed class QemuCommandLineTests
{
    [Fact]
    public void Build_MicrovmTcg_MemfdRamConsoleFileAndTscRate()
    {
        var args = Args();

        Assert.Equal(["-nodefaults", "-no-user-config", "-nographic", "-no-reboot"], args.Take(4));
        AssertPair(args, "-machine", "microvm,acpi=on,memory-backend=mem");
        AssertPair(args, "-accel", "tcg");
        AssertPair(args, "-cpu", "max,-erms,-fsrm");
        AssertPair(args, "-smp", "2");
        AssertPair(args, "-m", "256M");
        AssertPair(args, "-object", "memory-backend-memfd,id=mem,size=256M,share=on");
        AssertPair(args, "-kernel", "/k/vmlinuz");
        AssertPair(args, "-initrd", "/c/i.cpio");
        AssertPair(args, "-serial", "file:/b/console,,log");
        AssertPair(args, "-global", "virtio-mmio.force-legacy=false");
        var append = args[args.ToList().IndexOf("-append") + 1];
        Assert.StartsWith("console=ttyS0 panic=-1", append, StringComparison.Ordinal);
        Assert.Contains(" tsc_early_khz=2000000 ", append, StringComparison.Ordinal);
        Assert.Contains(" clearcpuid=rep_good ", append, StringComparison.Ordinal);
        Assert.EndsWith(" cocoon.x=1", append, StringComparison.Ordinal);
        Assert.DoesNotContain("-chardev", args);
        Assert.DoesNotContain("-netdev", args);
    }

    [Fact]
    public void Build_Named_GuestNameAndThreadNames()
    {
        var args = Args(name: "web");

        AssertPair(args, "-name", "guest=web,debug-threads=on");
    }

    [Fact]
    public void Build_Unnamed_ThreadNamesStill()
    {
        var args = Args();

        AssertPair(args, "-name", "debug-threads=on");
    }

    [Theory]
    [InlineData("Microvm", "virtio-net-device,netdev=net0")]
    [InlineData("Q35", "virtio-net-pci,netdev=net0")]
    public void Build_WithUserNetwork_UserNetdevWithoutHostForwards(string machine, string device)
    {
        var args = Args(machine: machine, network: true);

        AssertPair(args, "-netdev", "user,id=net0,net=10.0.2.0/24,host=10.0.2.2,dns=10.0.2.3,ipv6=off");
        AssertPair(args, "-device", device);
    }

    [Fact]
    public void Build_UserNetworkWithHostForwards_LoopbackHostfwdEach()
    {
        var args = Args(network: true, hostForwards: [18080, 80, 18081, 81]);

        AssertPair(args, "-netdev", "user,id=net0,net=10.0.2.0/24,host=10.0.2.2,dns=10.0.2.3,ipv6=off,hostfwd=tcp:127.0.0.1:18080-:80,hostfwd=tcp:127.0.0.1:18081-:81");
    }

    [Fact]
    public void Build_Kvm_HostCpuNoTscRate()
    {
        var args = Args(accelerator: "Kvm");

        AssertPair(args, "-accel", "kvm");
        AssertPair(args, "-cpu", "host");
        Assert.DoesNotContain(args, a => a.Contains("tsc_early_khz", StringComparison.Ordinal));
        Assert.DoesNotContain(args, a => a.Contains("clearcpuid", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("Microvm")]
    [InlineData("Q35")]
    public void Build_Tcg_NoFastStringCpuFeaturesOnEitherMachine(string machine)
    {
        var args = Args(machine: machine);

        AssertPair(args, "-accel", "tcg");
        AssertPair(args, "-cpu", "max,-erms,-fsrm");
        Assert.Contains("clearcpuid=rep_good", args[args.ToList().IndexOf("-append") + 1].Split(' '));
    }

    [Theory]
    [InlineData("Microvm", "vhost-user-vsock-device,chardev=vsock")]
    [InlineData("Q35", "vhost-user-vsock-pci,chardev=vsock")]
    public void Build_WithVsockSocket_VhostUserDeviceForMachine(string machine, string device)
    {
        var args = Args(machine: machine, vsock: "/b/vsock.sock");

        AssertPair(args, "-chardev", "socket,id=vsock,path=/b/vsock.sock");
        AssertPair(args, "-device", device);
    }

    [Theory]
    [InlineData("Microvm", "virtio-serial-device,id=boxlogbus")]
    [InlineData("Q35", "virtio-serial-pci,id=boxlogbus")]
    public void Build_WithBoxLog_AppendingFileBehindTheNamedSerialPort(string machine, string bus)
    {
        var args = Args(machine: machine, boxLog: "/b/box,log");

        AssertPair(args, "-chardev", "file,id=boxlog,append=on,path=/b/box,,log");
        AssertPair(args, "-device", bus);
        AssertPair(args, "-device", "virtserialport,bus=boxlogbus.0,chardev=boxlog,name=cocoon.log");
    }

    [Fact]
    public void Build_WithoutBoxLog_NoSerialPort()
    {
        var args = Args();

        Assert.DoesNotContain(args, a => a.Contains("boxlog", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("Microvm", "vhost-user-fs-device")]
    [InlineData("Q35", "vhost-user-fs-pci")]
    public void Build_FsShares_OneVhostUserFsDevicePerShare(string machine, string device)
    {
        var spec = new VmSpec
        {
            KernelPath = "/k/vmlinuz",
            InitrdPath = "/c/i.cpio",
            ConsoleLogPath = "/b/console.log",
            FsShares = [new VirtioFsShare("/b/fs0.sock", "cocoon-vol-0"), new VirtioFsShare("/b/f,1.sock", "cocoon-vol-1")],
        };

        var args = QemuCommandLine.Build(spec, new QemuOptions { Machine = Enum.Parse<QemuMachine>(machine) }, VmAccelerator.Tcg);

        AssertPair(args, "-chardev", "socket,id=fs0,path=/b/fs0.sock");
        AssertPair(args, "-chardev", "socket,id=fs1,path=/b/f,,1.sock");
        AssertPair(args, "-device", $"{device},chardev=fs0,tag=cocoon-vol-0");
        AssertPair(args, "-device", $"{device},chardev=fs1,tag=cocoon-vol-1");
    }

    [Theory]
    [InlineData("Microvm", "virtio-blk-device")]
    [InlineData("Q35", "virtio-blk-pci")]
    public void Build_WithDisks_DriveAndBlockDeviceWithSerialEach(string machine, string device)
    {
        var args = Args(machine: machine, disks: [new VmDisk("/i/a,b.ext4", "cocoon-image", ReadOnly: true), new VmDisk("/b/scratch.ext4", "cocoon-scratch", ReadOnly: false)]);

        AssertPair(args, "-drive", "file=/i/a,,b.ext4,if=none,id=disk0,format=raw,readonly=on");
        AssertPair(args, "-device", device + ",drive=disk0,serial=cocoon-image");
        AssertPair(args, "-drive", "file=/b/scratch.ext4,if=none,id=disk1,format=raw,readonly=off");
        AssertPair(args, "-device", device + ",drive=disk1,serial=cocoon-scratch");
    }

    [Theory]
    [InlineData("")]
    [InlineData("serial,with=comma")]
    [InlineData("a-serial-longer-than-20")]
    public void Build_BadDiskSerial_InvalidArgument(string serial)
    {
        var error = Assert.Throws<CocoonException>(() => Args(disks: [new VmDisk("/d.ext4", serial, ReadOnly: false)]));

        Assert.Equal(CocoonErrorCode.InvalidArgument, error.Code);
    }

    [Fact]
    public void ParseHostForwards_List_Pairs()
    {
        Assert.Equal(new[] { (18080, 80), (2222, 22) }, UserNetwork.ParseHostForwards("18080:80, 2222:22"));
        Assert.Empty(UserNetwork.ParseHostForwards(null));
    }

    [Theory]
    [InlineData("80")]
    [InlineData("0:80")]
    [InlineData("80:65536")]
    [InlineData("a:b")]
    public void ParseHostForwards_Bad_InvalidArgumentNamingVariable(string value)
    {
        var e = Assert.Throws<CocoonException>(() => UserNetwork.ParseHostForwards(value));

        Assert.Contains("COCOON_BENCH_HOSTFWD", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_ExtraArguments_AppendedLast()
    {
        var args = Args(extra: ["-S", "-d", "guest_errors"]);

        Assert.Equal(["-S", "-d", "guest_errors"], args.TakeLast(3));
    }

    [Theory]
    [InlineData(32, 1)]
    [InlineData(512, 0)]
    public void Build_OutOfRangeSize_InvalidArgument(int memory, int cpus)
    {
        var ex = Assert.Throws<CocoonException>(() => Args(memory: memory, cpus: cpus));

        Assert.Equal(CocoonErrorCode.InvalidArgument, ex.Code);
    }

    [Fact]
    public void Build_KernelArgumentWithSpace_InvalidArgument()
    {
        var ex = Assert.Throws<CocoonException>(() => Args(kernelArgument: "a b"));

        Assert.Equal(CocoonErrorCode.InvalidArgument, ex.Code);
    }

    [Fact]
    public void Build_SocketPathTooLong_InvalidArgument()
    {
        var ex = Assert.Throws<CocoonException>(() => Args(vsock: "/" + new string('s', 120)));

        Assert.Equal(CocoonErrorCode.InvalidArgument, ex.Code);
    }

    // Internal types stay out of member signatures here: in this project the compiler does not see
    // Cocoon's internal types in declarations (only inside method bodies).
    private static IReadOnlyList<string> Args(
        string machine = "Microvm",
        string accelerator = "Tcg",
        string? vsock = null,
        string? boxLog = null,
        int memory = 256,
        int cpus = 2,
        string kernelArgument = "cocoon.x=1",
        string[]? extra = null,
        bool network = false,
        int[]? hostForwards = null,
        VmDisk[]? disks = null,
        string? name = null)
    {
        var forwards = (hostForwards ?? []).Chunk(2).Select(p => (p[0], p[1])).ToList();
        var spec = new VmSpec
        {
            KernelPath = "/k/vmlinuz",
            InitrdPath = "/c/i.cpio",
            ConsoleLogPath = "/b/console,log",
            MemoryMiB = memory,
            Cpus = cpus,
            KernelArguments = [kernelArgument],
            VsockSocketPath = vsock,
            BoxLogPath = boxLog,
            ExtraQemuArguments = extra ?? [],
            Network = network ? new UserNetwork { HostForwards = forwards } : null,
            Disks = disks ?? [],
            Name = name,
        };
        var options = new QemuOptions { Machine = Enum.Parse<QemuMachine>(machine), GuestTscKhz = 2_000_000 };
        return QemuCommandLine.Build(spec, options, Enum.Parse<VmAccelerator>(accelerator));
    }

    private static void AssertPair(IReadOnlyList<string> args, string option, string value)
    {
        var pairs = args.Zip(args.Skip(1)).Where(p => p.First == option).Select(p => p.Second).ToList();
        Assert.Contains(value, pairs);
    }
}
