// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Cocoon.Protocol;
using Cocoon.State;
using Cocoon.Vmm;
using Cocoon.Vsock.Device;

namespace Cocoon.Supervisor;

/// <summary>A symbolic link the supervisor creates so a guest→host vsock port reaches its host socket.</summary>
/// <param name="Link">boxes/&lt;name&gt;/vsock.sock_&lt;port&gt;.</param>
/// <param name="Target">The host socket the box's configuration names.</param>
internal readonly record struct PortLink(string Link, string Target);

/// <summary>
/// Everything the supervisor starts for one box, decided before anything starts. <see cref="Create"/>
/// is a pure function of the box record and its guest image: no files, processes or environment.
/// </summary>
/// <param name="Vm">What QEMU boots.</param>
/// <param name="Device">The built-in vsock device's settings.</param>
/// <param name="PortLinks">The guest→host port links, one per configured vsock port.</param>
/// <param name="Boot">The boot configuration the agent reads from the kernel command line.</param>
internal sealed record LaunchPlan(VmSpec Vm, VsockDeviceOptions Device, IReadOnlyList<PortLink> PortLinks, BootConfig Boot)
{
    /// <summary>The box's volumes, one virtiofsd each, in configuration order.</summary>
    public IReadOnlyList<VolumePlan> Volumes { get; init; } = [];

    /// <summary>The files the run creates and removes again: sockets and port links.</summary>
    public IEnumerable<string> RuntimeFiles => [Device.SocketPath, Device.UdsPath, .. PortLinks.Select(l => l.Link), .. Volumes.Select(v => v.SocketPath)];

    /// <summary>Plans the launch of <paramref name="record"/>'s box from <paramref name="image"/>.</summary>
    /// <param name="paths">The state layout (names only; nothing is touched).</param>
    /// <param name="record">The box.</param>
    /// <param name="image">The guest kernel, initramfs and modules.</param>
    /// <param name="guestLogLevel">The agent's log level, or null for its default.</param>
    /// <param name="hostForwards">QEMU <c>hostfwd</c> ports for the port-forward benchmark's baseline only (see <see cref="UserNetwork.HostForwards"/>).</param>
    /// <param name="disks">The image and scratch disks of a box with an image; null for none.</param>
    /// <returns>The plan.</returns>
    public static LaunchPlan Create(CocoonPaths paths, BoxRecord record, AgentImage image, string? guestLogLevel, IReadOnlyList<(int HostPort, int GuestPort)>? hostForwards = null, BoxDisks? disks = null)
    {
        ArgumentNullException.ThrowIfNull(paths);
        ArgumentNullException.ThrowIfNull(record);
        ArgumentNullException.ThrowIfNull(image);
        var name = record.Name;
        var config = record.Config;
        var vhost = paths.VhostSocket(name);
        var network = config.Network == BoxNetwork.User ? new UserNetwork { HostForwards = hostForwards ?? [] } : null;
        VolumePlan[] volumes = [.. config.Volumes.Select((v, i) => new VolumePlan(v, paths.VolumeSocket(name, i), BootVolume.TagFor(i)))];
        // The disks' own modules load with the disks, after the agent serves (BootConfig.DiskModules).
        bool WithDisks(string module) => disks is not null && BoxDisks.IsDiskModule(module);
        var boot = new BootConfig
        {
            Hostname = name,
            Modules = [.. image.Modules.Where(m => !WithDisks(m))],
            DiskModules = disks is null ? null : [.. image.Modules.Where(WithDisks)],
            LogLevel = string.IsNullOrEmpty(guestLogLevel) ? null : guestLogLevel,
            Network = network is null ? null : UserNetwork.GuestSide(),
            Volumes = volumes.Length > 0 ? [.. volumes.Select(v => new BootVolume(v.Tag, v.Mount.GuestPath, v.Mount.ReadOnly))] : null,
            Disks = disks?.BootDisks,
        };
        var vm = new VmSpec
        {
            Name = name,
            KernelPath = image.KernelBootPath,
            InitrdPath = image.Image.Path,
            ConsoleLogPath = paths.ConsoleLog(name),
            BoxLogPath = paths.BoxLog(name),
            KernelArguments = [boot.ToKernelArgument()],
            MemoryMiB = config.MemoryMiB,
            Cpus = config.Cpus,
            VsockSocketPath = vhost,
            Network = network,
            FsShares = [.. volumes.Select(v => new VirtioFsShare(v.SocketPath, v.Tag))],
            Disks = disks?.VmDisks ?? [],
        };
        var device = new VsockDeviceOptions
        {
            SocketPath = vhost,
            UdsPath = paths.VsockSocket(name),
            GuestCid = record.Cid,
            AllowedHostPorts = [.. config.VsockPorts.Select(p => (uint)p.Port)],
        };
        PortLink[] links = [.. config.VsockPorts.Select(p => new PortLink(paths.VsockPortSocket(name, p.Port), p.Path))];
        return new LaunchPlan(vm, device, links, boot) { Volumes = volumes };
    }
}
