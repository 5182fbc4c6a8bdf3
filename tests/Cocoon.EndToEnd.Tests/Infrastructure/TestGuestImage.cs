// Copyright (c) Cocoon contributors. Licensed under the MIT License.

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
        return ShellGuest.Create(kernel, ["vmw_vsock_virtio_transport", QemuCommandLine.TransportModule(machine)], "cocoon-test", $$"""
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

            """)
            .AddExecutable("/usr/bin/socat", "/bin/socat");
    }
}
