// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Cocoon.Guest;
using Cocoon.Vmm;

namespace Cocoon.Bench.Benchmarks;

/// <summary>
/// The guest of <see cref="VsockThroughputBenchmark"/>: busybox, socat and the vsock and
/// virtio-console modules. /init starts one <em>transfer service</em> per transport and direction,
/// each the same busybox script behind the same socat, which differs only in the address the other
/// end of socat is: a vsock listener or a virtio-serial port.
/// <list type="bullet">
/// <item><c>/bin/sink</c> (host→guest): per request line <c>N</c> it answers <c>ready</c>, reads
/// exactly N bytes into /dev/null with <c>dd</c>, then answers <c>done</c>.</item>
/// <item><c>/bin/source</c> (guest→host): per request line <c>N</c> it writes N zero bytes with <c>dd</c>.</item>
/// </list>
/// The services loop over requests on one long-lived stream, so neither transport pays for a
/// connection per transfer. busybox <c>head -c</c> is not used: it copies one byte at a time.
/// </summary>
internal static class ThroughputGuestImage
{
    public const string Marker = "COCOON-THROUGHPUT-GUEST-READY";
    public const uint SinkPort = 5001;
    public const uint SourcePort = 5002;
    public const string SinkPortName = "bench.sink";
    public const string SourcePortName = "bench.source";

    /// <summary>socat's block size (its default is 8 KiB), the same for both transports.</summary>
    public const int SocatBlockBytes = 64 * 1024;

    public static InitramfsBuilder CreateBuilder(GuestKernel kernel, QemuMachine machine)
    {
        var builder = ShellGuest.Create(kernel, ["vmw_vsock_virtio_transport", "virtio_console", QemuCommandLine.TransportModule(machine)], "throughput-guest", $$"""
            port() {
              for p in /sys/class/virtio-ports/*; do
                [ "$(cat "$p/name" 2>/dev/null)" = "$1" ] && echo "/dev/${p##*/}" && return
              done
            }
            i=0
            while [ $i -lt 50 ] && { [ -z "$(port {{SinkPortName}})" ] || [ -z "$(port {{SourcePortName}})" ] || [ ! -e /dev/vsock ]; }; do
              sleep 0.1; i=$((i+1))
            done
            sink=$(port {{SinkPortName}})
            source=$(port {{SourcePortName}})
            echo "throughput-guest: sink port $sink, source port $source, $(ls /dev/vsock 2>&1)"
            socat -b{{SocatBlockBytes}} VSOCK-LISTEN:{{SinkPort}},reuseaddr,fork EXEC:/bin/sink &
            socat -b{{SocatBlockBytes}} VSOCK-LISTEN:{{SourcePort}},reuseaddr,fork EXEC:/bin/source &
            socat -b{{SocatBlockBytes}} OPEN:$sink EXEC:/bin/sink &
            socat -b{{SocatBlockBytes}} OPEN:$source EXEC:/bin/source &
            echo {{Marker}}
            while true; do sleep 3600; done

            """)
            .AddExecutable("/usr/bin/socat", "/bin/socat");

        builder.AddText("/bin/sink", """
            #!/bin/sh
            while read n; do
              echo ready
              dd of=/dev/null bs=65536 count="$n" iflag=fullblock,count_bytes status=none
              echo done
            done

            """, InitramfsBuilder.ExecutableMode);
        builder.AddText("/bin/source", """
            #!/bin/sh
            while read n; do
              dd if=/dev/zero bs=65536 count="$n" iflag=count_bytes status=none
            done

            """, InitramfsBuilder.ExecutableMode);
        return builder;
    }
}
