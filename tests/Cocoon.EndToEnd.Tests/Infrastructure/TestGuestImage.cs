// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Text;
using Cocoon.Guest;
using Cocoon.Vmm;

namespace Cocoon.EndToEnd.Tests.Infrastructure;

/// <summary>
/// The test guest: busybox, socat with its libraries and the vsock modules, with a shell /init that
/// mounts proc/sys/dev, loads the modules, prints <see cref="Marker"/> and then serves
/// <c>socat VSOCK-LISTEN:5000,fork,reuseaddr EXEC:/bin/sh</c>, so a host test can run guest
/// commands through the vsock device. Without a vsock device it still reaches the marker.
/// </summary>
internal static class TestGuestImage
{
    public const string Marker = "COCOON-TEST-GUEST-READY";
    public const int CommandPort = 5000;

    public static InitramfsBuilder CreateBuilder(GuestKernel kernel, QemuMachine machine = QemuMachine.Microvm)
    {
        var builder = new InitramfsBuilder()
            .AddConsoleDevices()
            .AddDirectory("/proc")
            .AddDirectory("/sys")
            .AddDirectory("/tmp", 0x3FF) // 01777
            .AddBusybox()
            .AddExecutable("/usr/bin/socat", "/bin/socat");
        var modules = builder.AddModules(kernel, ["vmw_vsock_virtio_transport", QemuCommandLine.TransportModule(machine)]);

        var init = new StringBuilder();
        init.Append("""
            #!/bin/busybox sh
            export PATH=/bin:/sbin:/usr/bin:/usr/sbin
            mount -t proc proc /proc
            mount -t sysfs sys /sys
            mount -t devtmpfs dev /dev
            for m in
            """);
        foreach (var module in modules)
        {
            init.Append(' ').Append(module);
        }

        init.Append($$"""
            ; do
              insmod "$m" || echo "cocoon-test: insmod $m failed"
            done
            if [ -e /dev/vsock ] && [ -n "$(ls /sys/bus/virtio/devices 2>/dev/null)" ]; then
              echo "cocoon-test: virtio devices: $(ls /sys/bus/virtio/devices)"
            else
              echo "cocoon-test: no virtio vsock device"
            fi
            echo "cocoon-test: $(socat -V 2>&1 | grep 'socat version')"
            echo {{Marker}}
            socat VSOCK-LISTEN:{{CommandPort}},fork,reuseaddr EXEC:/bin/sh,stderr
            echo "cocoon-test: vsock command service exited ($?)"
            while true; do sleep 3600; done

            """);
        builder.AddText("/init", init.ToString(), InitramfsBuilder.ExecutableMode);
        return builder;
    }
}
