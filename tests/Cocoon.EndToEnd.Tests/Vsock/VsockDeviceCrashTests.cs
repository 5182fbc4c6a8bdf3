// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Cocoon.EndToEnd.Tests.Boot;
using Cocoon.EndToEnd.Tests.Infrastructure;
using Cocoon.Guest;
using Cocoon.Vsock;
using Cocoon.Vsock.Device;
using Xunit.Abstractions;

namespace Cocoon.EndToEnd.Tests.Vsock;

/// <summary>
/// QEMU dies under load: the device ends the session cleanly, and a fresh device serves a fresh
/// QEMU afterwards. Its own devices and VMs (two boots), apart from <see cref="VsockDeviceFixture"/>.
/// </summary>
public sealed class VsockDeviceCrashTests(ITestOutputHelper output)
{
    private const long MovedBeforeKill = 4L * 1024 * 1024;
    private const long InboundBeforeKill = 1L * 1024 * 1024;
    private const uint HostPort = 6000;
    private const string EchoReady = "cocoon-echo-ready";
    private static readonly TimeSpan Timeout = VsockDeviceFixture.CommandTimeout;
    private static readonly TimeSpan StallTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task QemuKilledMidTransfer_DeviceEndsAndCleansUp_NewDeviceServesNewQemu()
    {
        var root = Directory.CreateTempSubdirectory("cocoon-e2e-vsc-").FullName;
        Socket? hostListener = null;
        VsockDevice? first = null;
        VsockDevice? second = null;
        TestVm? firstVm = null;
        TestVm? secondVm = null;
        try
        {
            // Arrange: through the first device, an echo (the guest shell exec's cat) streaming both
            // ways on a host-initiated connection and a guest-initiated stream of zeros to the host.
            var kernel = KernelLocator.FindDefault();
            var image = new GuestImageCache(root).GetOrBuild(TestGuestImage.CreateBuilder(kernel));
            var firstDirectory = Directory.CreateDirectory(Path.Combine(root, "d1")).FullName;
            first = VsockDevice.Start(Options(firstDirectory));
            hostListener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            hostListener.Bind(new UnixDomainSocketEndPoint(HostListenerPath(first)));
            hostListener.Listen();
            firstVm = await BootAsync(kernel, image.Path, first, root);
            long inbound = 0;
            var inboundReceiving = Task.Run(async () =>
            {
                using var accepted = await hostListener.AcceptAsync();
                var buffer = new byte[64 * 1024];
                int read;
                while ((read = await accepted.ReceiveAsync(buffer)) > 0)
                {
                    Interlocked.Add(ref inbound, read);
                }
            });
            await RunDetachedAsync(first.Options.UdsPath, $"head -c 1073741824 /dev/zero | socat -u - VSOCK-CONNECT:2:{HostPort}");
            using var connection = await OpenEchoAsync(first.Options.UdsPath);
            long echoed = 0;
            var chunk = RandomNumberGenerator.GetBytes(64 * 1024);
            var sending = Task.Run(async () =>
            {
                while (true)
                {
                    await connection.SendAsync(chunk);
                }
            });
            var receiving = Task.Run(async () =>
            {
                var buffer = new byte[64 * 1024];
                int read;
                while ((read = await connection.ReceiveAsync(buffer)) > 0)
                {
                    var at = Interlocked.Read(ref echoed);
                    for (var i = 0; i < read; i++)
                    {
                        if (buffer[i] != chunk[(at + i) % chunk.Length])
                        {
                            throw new InvalidDataException($"echoed byte {at + i} differs from what was sent");
                        }
                    }

                    Interlocked.Add(ref echoed, read);
                }
            });
            // Precondition, whatever the host's speed: both transfers are under way with these many
            // bytes moved. Only a stall (no byte moved either way for StallTimeout) ends the wait early.
            var progress = (-1L, -1L);
            var stalledSince = DateTime.UtcNow;
            while ((Interlocked.Read(ref echoed) < MovedBeforeKill || Interlocked.Read(ref inbound) < InboundBeforeKill)
                && !receiving.IsCompleted && !sending.IsCompleted && !inboundReceiving.IsCompleted && DateTime.UtcNow - stalledSince < StallTimeout)
            {
                var now = (Interlocked.Read(ref echoed), Interlocked.Read(ref inbound));
                if (now != progress)
                {
                    progress = now;
                    stalledSince = DateTime.UtcNow;
                }

                await Task.Delay(50);
            }

            var moved = $"{Interlocked.Read(ref echoed)} bytes echoed, {Interlocked.Read(ref inbound)} bytes guest->host";
            Assert.True(
                Interlocked.Read(ref echoed) >= MovedBeforeKill && Interlocked.Read(ref inbound) >= InboundBeforeKill,
                $"the transfers stopped moving for {StallTimeout.TotalSeconds:0} s or ended at {moved}, before the kill; receive: {receiving.Exception?.InnerException?.Message}, guest->host: {inboundReceiving.Exception?.InnerException?.Message}\n{firstVm.Describe()}");
            Assert.False(first.Completion.IsCompleted);
            Assert.True(first.ActiveConnections >= 2, $"{first.ActiveConnections} active connections mid-transfer");
            output.WriteLine($"{moved} when QEMU is killed");

            // Act
            firstVm.Qemu.Kill();
            await firstVm.Qemu.Exited.WaitAsync(Timeout);
            var exit = await first.Completion.WaitAsync(Timeout);

            // Assert: the session ended as a front-end disconnect and took the host connections with it.
            Assert.Equal(VsockDeviceExitReason.FrontEndDisconnected, exit.Reason);
            Assert.Equal(0, first.ActiveConnections);
            await AssertEndsAsync(receiving, "the echo's receive");
            await AssertEndsAsync(sending, "the echo's send");
            await AssertEndsAsync(inboundReceiving, "the guest->host receive");
            var refused = await Assert.ThrowsAsync<CocoonException>(
                () => HybridVsock.ConnectAsync(first.Options.UdsPath, TestGuestImage.CommandPort).WaitAsync(Timeout));
            Assert.Equal(CocoonErrorCode.Unavailable, refused.Code);

            // The host's own listener is the host's to remove; the device must remove the rest.
            hostListener.Dispose();
            File.Delete(HostListenerPath(first));
            await first.DisposeAsync().AsTask().WaitAsync(Timeout);
            Assert.Empty(Directory.EnumerateFileSystemEntries(firstDirectory));
            Assert.Equal(VsockDeviceExitReason.FrontEndDisconnected, (await first.Completion.WaitAsync(Timeout)).Reason);
            await firstVm.DisposeAsync();
            firstVm = null;

            // Act: a new device and a new QEMU, same guest CID.
            second = VsockDevice.Start(Options(Directory.CreateDirectory(Path.Combine(root, "d2")).FullName));
            secondVm = await BootAsync(kernel, image.Path, second, root);
            using var echo = await OpenEchoAsync(second.Options.UdsPath);
            var payload = RandomNumberGenerator.GetBytes((256 * 1024) + 1);
            var send = echo.SendAsync(payload).WaitAsync(Timeout);
            var back = await ReceiveExactlyAsync(echo, payload.Length);
            await send;

            // Assert
            Assert.Equal(payload, back);
            Assert.False(second.Completion.IsCompleted);
        }
        finally
        {
            if (secondVm is not null)
            {
                await secondVm.DisposeAsync();
            }

            if (firstVm is not null)
            {
                await firstVm.DisposeAsync();
            }

            hostListener?.Dispose();
            if (second is not null)
            {
                await second.DisposeAsync();
            }

            if (first is not null)
            {
                await first.DisposeAsync();
            }

            Directory.Delete(root, recursive: true);
        }
    }

    private static VsockDeviceOptions Options(string directory) => new()
    {
        SocketPath = Path.Combine(directory, "vu.sock"),
        UdsPath = Path.Combine(directory, "v.sock"),
        GuestCid = 3,
        AllowedHostPorts = [HostPort],
    };

    private static string HostListenerPath(VsockDevice device) =>
        device.Options.UdsPath + "_" + HostPort.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Starts <paramref name="command"/> in the guest's background, detached from the command connection.</summary>
    private static async Task RunDetachedAsync(string udsPath, string command)
    {
        using var socket = await VsockDeviceFixture.ConnectWithRetryAsync(udsPath, TestGuestImage.CommandPort);
        await socket.SendAsync(Encoding.ASCII.GetBytes($"{{ {command}; }} </dev/null >/dev/null 2>&1 &\nexit\n")).WaitAsync(Timeout);
        await VsockDeviceFixture.ReadToEndAsync(socket);
    }

    private static async Task<TestVm> BootAsync(GuestKernel kernel, string initrd, VsockDevice device, string root)
    {
        var vm = await TestVm.StartAsync(kernel, initrd, device.Options.SocketPath, Path.Combine(root, "cache"));
        try
        {
            await vm.WaitForConsoleAsync(TestGuestImage.Marker, BootFixture.BootTimeout);
            return vm;
        }
        catch
        {
            await vm.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Opens the guest command service and turns its shell into <c>cat</c>: once the ready line is
    /// back, every byte sent comes back. Nothing else is sent before, so the shell reads no further
    /// than its own line.
    /// </summary>
    private static async Task<Socket> OpenEchoAsync(string udsPath)
    {
        var socket = await VsockDeviceFixture.ConnectWithRetryAsync(udsPath, TestGuestImage.CommandPort);
        try
        {
            await socket.SendAsync(Encoding.ASCII.GetBytes($"echo {EchoReady}; exec cat\n")).WaitAsync(Timeout);
            var line = new List<byte>();
            var one = new byte[1];
            while (!Encoding.ASCII.GetString([.. line]).EndsWith(EchoReady + "\n", StringComparison.Ordinal))
            {
                Assert.True(await socket.ReceiveAsync(one).WaitAsync(Timeout) == 1, $"the guest shell closed before '{EchoReady}'; got '{Encoding.ASCII.GetString([.. line])}'");
                line.Add(one[0]);
            }

            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static async Task<byte[]> ReceiveExactlyAsync(Socket socket, int length)
    {
        var buffer = new byte[length];
        var filled = 0;
        while (filled < length)
        {
            var read = await socket.ReceiveAsync(buffer.AsMemory(filled)).AsTask().WaitAsync(Timeout);
            Assert.True(read > 0, $"the echo ended after {filled} of {length} bytes");
            filled += read;
        }

        return buffer;
    }

    /// <summary>Asserts <paramref name="task"/> ends, normally (EOF) or with a socket error, instead of hanging.</summary>
    private async Task AssertEndsAsync(Task task, string what)
    {
        await Task.WhenAny(task, Task.Delay(Timeout));
        Assert.True(task.IsCompleted, $"{what} still hangs after the device closed the connection");
        output.WriteLine($"{what} ended: {task.Exception?.InnerException?.Message ?? "end of stream"}");
        if (task.Exception is { } failed)
        {
            Assert.IsType<SocketException>(failed.InnerException);
        }
    }
}
