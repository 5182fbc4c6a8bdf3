// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Cocoon.Boxes.Internal;
using Cocoon.Guest;
using Cocoon.Vmm;

namespace Cocoon.Bench;

/// <summary>Guest images for benchmarks that run a box's VM themselves.</summary>
internal static class BenchGuest
{
    /// <summary>
    /// The box's agent image as <see cref="AgentImage.GetOrBuild"/> builds it (same entries, same
    /// module directory), plus <paramref name="extraModules"/> and whatever <paramref name="extend"/> adds.
    /// </summary>
    public static (GuestKernel Kernel, GuestImage Image, IReadOnlyList<string> Modules) BuildAgentImage(
        string stateRoot, QemuMachine machine, IEnumerable<string>? extraModules = null, Action<InitramfsBuilder>? extend = null)
    {
        var kernel = KernelLocator.FindDefault();
        var builder = new InitramfsBuilder()
            .AddConsoleDevices()
            .AddCharDevice("/dev/urandom", 1, 9, 0x1B6)
            .AddCharDevice("/dev/random", 1, 8, 0x1B6)
            .AddDirectory("/proc")
            .AddDirectory("/sys")
            .AddDirectory("/tmp", 0x3FF)
            .AddDirectory("/root", 0x1C0)
            .AddBusybox()
            .AddExecutable(AgentImage.FindAgent(), "/init");
        extend?.Invoke(builder);
        var modules = new List<string>();
        var names = new List<string> { "vmw_vsock_virtio_transport" };
        names.AddRange(extraModules ?? []);
        names.Add(QemuCommandLine.TransportModule(machine));
        foreach (var module in new ModuleResolver(kernel.ModulesDirectory).Resolve(names))
        {
            var guestPath = $"/lib/m/{module.Name}.ko";
            builder.AddFile(Path.Combine(kernel.ModulesDirectory, module.RelativePath), guestPath);
            modules.Add(guestPath);
        }

        return (kernel, new GuestImageCache(stateRoot).GetOrBuild(builder), modules);
    }
}
