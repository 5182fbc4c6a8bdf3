// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Text.Json;
using Cocoon.Guest;
using Cocoon.Protocol;
using Cocoon.State;
using Cocoon.Vmm;

namespace Cocoon.Supervisor.Tests;

public sealed class LaunchPlanTests
{
    private static readonly CocoonPaths Paths = new("/s");

    private static readonly AgentImage Image = new(
        new GuestKernel("/boot/vmlinuz", "6.1.0-cloud", "/lib/modules/6.1.0-cloud"),
        new GuestImage("/s/cache/guest/abc.cpio", "abc", FromCache: true),
        ["/lib/m/vsock.ko", "/lib/m/virtio_mmio.ko"],
        "/s/cache/guest/vmlinux-6.1.0-cloud-0123456789abcdef");

    [Fact]
    public void Create_Box_VmSpecFromRecordAndImage()
    {
        var record = Record(new BoxOptions("web").WithMemory(1024).WithCpus(2));

        var plan = LaunchPlan.Create(Paths, record, Image, guestLogLevel: null);

        Assert.Equal("web", plan.Vm.Name);
        Assert.Equal("/s/cache/guest/vmlinux-6.1.0-cloud-0123456789abcdef", plan.Vm.KernelPath);
        Assert.Equal("/s/cache/guest/abc.cpio", plan.Vm.InitrdPath);
        Assert.Equal("/s/boxes/web/console.log", plan.Vm.ConsoleLogPath);
        Assert.Equal("/s/boxes/web/box.log", plan.Vm.BoxLogPath);
        Assert.Equal(1024, plan.Vm.MemoryMiB);
        Assert.Equal(2, plan.Vm.Cpus);
        Assert.Equal("/s/boxes/web/vhost.sock", plan.Vm.VsockSocketPath);
        Assert.Equal([plan.Boot.ToKernelArgument()], plan.Vm.KernelArguments);
    }

    [Theory]
    [InlineData("Kvm", "kvm", "host", false)]
    [InlineData("Tcg", "tcg", "max,-erms,-fsrm", true)]
    public void Create_Box_QemuKeepsKvmOnKvmAndDropsFastStringsUnderTcg(string accelerator, string accel, string cpu, bool clearsRepGood)
    {
        var plan = LaunchPlan.Create(Paths, Record(new BoxOptions("web")), Image, guestLogLevel: null);

        var args = QemuCommandLine.Build(plan.Vm, new QemuOptions { GuestTscKhz = 2_000_000 }, Enum.Parse<VmAccelerator>(accelerator)).ToList();

        Assert.Equal(accel, args[args.IndexOf("-accel") + 1]);
        Assert.Equal(cpu, args[args.IndexOf("-cpu") + 1]);
        var kernelArguments = args[args.IndexOf("-append") + 1].Split(' ');
        Assert.Equal(clearsRepGood, kernelArguments.Contains("clearcpuid=rep_good"));
        Assert.Equal(plan.Boot.ToKernelArgument(), kernelArguments[^1]);
    }

    [Fact]
    public void Create_Box_BootConfigCarriesHostnameAndModulesButNeverTheEnvironment()
    {
        var record = Record(new BoxOptions("web").WithEnv("SECRET_TOKEN", "s3cret-value"));

        var plan = LaunchPlan.Create(Paths, record, Image, guestLogLevel: "debug");

        Assert.Equal("web", plan.Boot.Hostname);
        Assert.Equal(Image.Modules, plan.Boot.Modules);
        Assert.Equal("debug", plan.Boot.LogLevel);
        Assert.DoesNotContain("s3cret-value", plan.Boot.ToJson(), StringComparison.Ordinal);
        Assert.DoesNotContain("SECRET_TOKEN", plan.Boot.ToJson(), StringComparison.Ordinal);
    }

    [Fact]
    public void Create_DefaultNetwork_UserNetdevAndAgentConfiguresIt()
    {
        var plan = LaunchPlan.Create(Paths, Record(new BoxOptions("web")), Image, guestLogLevel: null);

        Assert.NotNull(plan.Vm.Network);
        Assert.Empty(plan.Vm.Network.HostForwards);
        var network = Assert.IsType<BootNetwork>(plan.Boot.Network);
        Assert.Equal(("eth0", "10.0.2.15", 24, "10.0.2.2"), (network.Interface, network.Address, network.PrefixLength, network.Gateway));
        Assert.Equal(["10.0.2.3"], network.Nameservers);
    }

    [Fact]
    public void Create_NetworkNone_NoDeviceAndNoGuestNetwork()
    {
        var plan = LaunchPlan.Create(Paths, Record(new BoxOptions("web").WithNetwork(BoxNetwork.None)), Image, guestLogLevel: null);

        Assert.Null(plan.Vm.Network);
        Assert.Null(plan.Boot.Network);
        Assert.DoesNotContain("\"network\"", plan.Boot.ToJson(), StringComparison.Ordinal);
    }

    [Fact]
    public void Create_NoLogLevel_BootConfigOmitsIt()
    {
        var plan = LaunchPlan.Create(Paths, Record(new BoxOptions("web")), Image, guestLogLevel: "");

        Assert.Null(plan.Boot.LogLevel);
        Assert.Null(plan.Boot.Disks);
        Assert.Empty(plan.Vm.Disks);
    }

    [Fact]
    public void Create_WithDisks_QemuAttachesThemAndTheAgentMountsThemBySerial()
    {
        var disks = new BoxDisks("/s/images/rootfs/sha256-1.ext4", "/s/boxes/web/scratch.ext4");

        var plan = LaunchPlan.Create(Paths, Record(new BoxOptions("web").WithImage("busybox")), Image, guestLogLevel: null, disks: disks);

        Assert.Equal(
            [new VmDisk("/s/images/rootfs/sha256-1.ext4", "cocoon-image", ReadOnly: true), new VmDisk("/s/boxes/web/scratch.ext4", "cocoon-scratch", ReadOnly: false)],
            plan.Vm.Disks);
        Assert.Equal(
            [("cocoon-image", BoxDisks.ImageMountPoint, true), ("cocoon-scratch", BoxDisks.ScratchMountPoint, false)],
            plan.Boot.Disks!.Select(d => (d.Serial, d.MountPoint, d.ReadOnly)));
        Assert.Equal(plan.Boot.ToKernelArgument(), Assert.Single(plan.Vm.KernelArguments));
    }

    [Fact]
    public void Create_WithDisks_TheirModulesLoadWithTheDisksAfterTheRest()
    {
        var image = Image with { Modules = ["/lib/m/vsock.ko", "/lib/m/virtio_blk.ko", "/lib/m/overlay.ko", "/lib/m/virtio_mmio.ko"] };
        var disks = new BoxDisks("/s/images/rootfs/sha256-1.ext4", "/s/boxes/web/scratch.ext4");

        var plan = LaunchPlan.Create(Paths, Record(new BoxOptions("web").WithImage("busybox")), image, guestLogLevel: null, disks: disks);

        Assert.Equal(["/lib/m/vsock.ko", "/lib/m/virtio_mmio.ko"], plan.Boot.Modules);
        Assert.Equal(["/lib/m/virtio_blk.ko", "/lib/m/overlay.ko"], plan.Boot.DiskModules);
    }

    [Fact]
    public void Create_WithoutDisks_EveryModuleLoadsAtBoot()
    {
        // A box with volumes and no image loads overlayfs for containers on a volume; it has no disks to wait for.
        var image = Image with { Modules = ["/lib/m/vsock.ko", "/lib/m/overlay.ko", "/lib/m/virtio_mmio.ko"] };

        var plan = LaunchPlan.Create(Paths, Record(new BoxOptions("web")), image, guestLogLevel: null);

        Assert.Equal(image.Modules, plan.Boot.Modules);
        Assert.Null(plan.Boot.DiskModules);
    }

    [Fact]
    public void Create_VsockPorts_DeviceAllowsThemAndLinksPointAtHostSockets()
    {
        var record = Record(new BoxOptions("web").WithVsock(2000, "/run/a.sock").WithVsock(2001, "/run/b.sock"));

        var plan = LaunchPlan.Create(Paths, record, Image, guestLogLevel: null);

        Assert.Equal(7u, plan.Device.GuestCid);
        Assert.Equal("/s/boxes/web/vhost.sock", plan.Device.SocketPath);
        Assert.Equal("/s/boxes/web/vsock.sock", plan.Device.UdsPath);
        Assert.Equal([2000u, 2001u], plan.Device.AllowedHostPorts);
        Assert.Equal(
            [new PortLink("/s/boxes/web/vsock.sock_2000", "/run/a.sock"), new PortLink("/s/boxes/web/vsock.sock_2001", "/run/b.sock")],
            plan.PortLinks);
        Assert.Equal(
            ["/s/boxes/web/vhost.sock", "/s/boxes/web/vsock.sock", "/s/boxes/web/vsock.sock_2000", "/s/boxes/web/vsock.sock_2001"],
            plan.RuntimeFiles);
    }

    [Fact]
    public void Create_Volumes_OneShareSocketAndBootVolumeEach()
    {
        var host = Path.GetTempPath();
        var record = Record(new BoxOptions("web").WithVolume(host, "/data").WithVolume(host, "/cfg", readOnly: true));

        var plan = LaunchPlan.Create(Paths, record, Image, guestLogLevel: null);

        Assert.Equal(["/s/boxes/web/fs0.sock", "/s/boxes/web/fs1.sock"], plan.Volumes.Select(v => v.SocketPath));
        Assert.Equal(["cocoon-vol-0", "cocoon-vol-1"], plan.Vm.FsShares.Select(s => s.Tag));
        Assert.Equal(plan.Volumes.Select(v => v.SocketPath), plan.Vm.FsShares.Select(s => s.SocketPath));
        Assert.Equal([new BootVolume("cocoon-vol-0", "/data"), new BootVolume("cocoon-vol-1", "/cfg", ReadOnly: true)], plan.Boot.Volumes!);
        Assert.Contains("/s/boxes/web/fs1.sock", plan.RuntimeFiles);
    }

    [Fact]
    public void Create_NoVolumes_NoSharesAndBootConfigOmitsThem()
    {
        var plan = LaunchPlan.Create(Paths, Record(new BoxOptions("web")), Image, guestLogLevel: null);

        Assert.Empty(plan.Vm.FsShares);
        Assert.Null(plan.Boot.Volumes);
        Assert.DoesNotContain("volumes", plan.Boot.ToJson(), StringComparison.Ordinal);
    }

    [Fact]
    public void VolumeDaemon_ReadOnly_StartsInPrivateMountNamespaceWithReadOnlyBind()
    {
        var plan = new VolumePlan(new VolumeMount("/srv/d", "/data", ReadOnly: true), "/s/boxes/web/fs0.sock", "cocoon-vol-0");

        var command = VolumeDaemon.CommandLine("/usr/lib/qemu/virtiofsd", plan);

        Assert.Equal(["setpriv", "--pdeathsig", "KILL", "--", "unshare", "--mount", "--propagation", "private"], command.Take(8));
        Assert.Contains("dir=\"$1\"; shift; mount --bind -o ro \"$dir\" \"$dir\" && exec \"$0\" \"$@\"", command);
        var virtiofsd = command.ToList().IndexOf("/usr/lib/qemu/virtiofsd");
        Assert.Equal(["/srv/d", "--socket-path=/s/boxes/web/fs0.sock", "-o", "source=/srv/d", "-o", "sandbox=namespace"], command.Skip(virtiofsd + 1).Take(6));
    }

    [Fact]
    public void VolumeDaemon_FollowsHostMounts_SurvivesBoxJsonAndStartsInSlaveNamespaceWithRecursiveBind()
    {
        var options = new BoxOptions("pod");
        options.Volumes.Add(new VolumeMount(Path.GetTempPath(), "/run/pod", ReadOnly: true) { FollowsHostMounts = true });
        var json = JsonSerializer.Serialize(Record(options), StateJsonContext.Default.BoxRecord);
        var record = JsonSerializer.Deserialize(json, StateJsonContext.Default.BoxRecord)!;

        var command = VolumeDaemon.CommandLine("/v", LaunchPlan.Create(Paths, record, Image, guestLogLevel: null).Volumes[0]);

        Assert.Equal(["setpriv", "--pdeathsig", "KILL", "--", "unshare", "--mount", "--propagation", "slave"], command.Take(8));
        Assert.Contains("dir=\"$1\"; shift; mount --rbind -o ro \"$dir\" \"$dir\" && exec \"$0\" \"$@\"", command);
    }

    [Fact]
    public void VolumeDaemon_ReadWrite_RunsVirtiofsdDirectly()
    {
        var plan = new VolumePlan(new VolumeMount("/srv/d", "/data"), "/s/fs0.sock", "cocoon-vol-0");

        var command = VolumeDaemon.CommandLine("/v", plan);

        Assert.Equal(["setpriv", "--pdeathsig", "KILL", "--", "/v", "--socket-path=/s/fs0.sock", "-o", "source=/srv/d"], command.Take(8));
        Assert.DoesNotContain("unshare", command);
    }

    private static BoxRecord Record(BoxOptions options) =>
        new() { Name = options.Name!, Config = options.Build(), Cid = 7, CreatedAt = DateTimeOffset.UnixEpoch };
}
