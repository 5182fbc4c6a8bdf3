// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Net.Sockets;
using System.Runtime.InteropServices;
using Cocoon.Protocol;
using Cocoon.Tests.Common;

namespace Cocoon.Vsock.Tests;

public sealed class VsockListenerTests
{
    private const string VsockDevice = "/dev/vsock";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public void DeviceFact_DeviceMissing_ReportsSkipNamingIt()
    {
        var missing = new DeviceFactAttribute("/nonexistent/vsock");
        var present = new DeviceFactAttribute("/dev/null") { ReadWrite = true };

        Assert.Equal("/nonexistent/vsock does not exist on this host", missing.Skip);
        Assert.Null(present.Skip);
    }

    [Fact]
    public void SockaddrVm_Size_Is16Bytes()
    {
        Assert.Equal(16, Marshal.SizeOf<Interop.SockaddrVm>());
        Assert.Equal(4, (int)Marshal.OffsetOf<Interop.SockaddrVm>(nameof(Interop.SockaddrVm.svm_port)));
        Assert.Equal(8, (int)Marshal.OffsetOf<Interop.SockaddrVm>(nameof(Interop.SockaddrVm.svm_cid)));
    }

    [Fact]
    public void PollFd_Size_Is8Bytes()
    {
        Assert.Equal(8, Marshal.SizeOf<Interop.PollFd>());
        Assert.Equal(6, (int)Marshal.OffsetOf<Interop.PollFd>(nameof(Interop.PollFd.revents)));
    }

    [Fact]
    public async Task AcceptAsync_OverUnixSocket_ReturnsConnectedSocket()
    {
        // The accept loop is family-agnostic: a UNIX socket exercises it where AF_VSOCK loopback is missing.
        var directory = Directory.CreateTempSubdirectory("cocoon-listener-").FullName;
        try
        {
            var path = Path.Combine(directory, "l.sock");
            using var listener = VsockListener.BindUnix(path);
            using var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);

            await client.ConnectAsync(new UnixDomainSocketEndPoint(path)).WaitAsync(Timeout);
            using var accepted = await listener.AcceptAsync().AsTask().WaitAsync(Timeout);
            await client.SendAsync("ping"u8.ToArray(), SocketFlags.None).WaitAsync(Timeout);
            var buffer = new byte[4];
            var read = await accepted!.ReceiveAsync(buffer, SocketFlags.None).WaitAsync(Timeout);

            Assert.Equal(4, read);
            Assert.Equal("ping"u8.ToArray(), buffer);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task AcceptAsync_AfterDispose_ReturnsNull()
    {
        var directory = Directory.CreateTempSubdirectory("cocoon-listener-").FullName;
        try
        {
            var path = Path.Combine(directory, "l.sock");
            var listener = VsockListener.BindUnix(path);
            var pending = listener.AcceptAsync().AsTask();

            listener.Dispose();
            var result = await pending.WaitAsync(Timeout);

            Assert.Null(result);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [DeviceFact(VsockDevice)]
    public async Task Bind_Vsock_ListensAndReportsPort()
    {
        // AF_VSOCK bind works with /dev/vsock alone; no connection is made, so vsock_loopback is not needed.
        using var listener = VsockListener.Bind(new VsockEndPoint(VsockCids.Any, VsockEndPoint.AnyPort));
        var endPoint = Assert.IsType<VsockEndPoint>(listener.LocalEndPoint);
        var pending = listener.AcceptAsync().AsTask();
        listener.Dispose();

        Assert.NotEqual(VsockEndPoint.AnyPort, endPoint.Port);
        Assert.Null(await pending.WaitAsync(Timeout));
    }

    [DeviceFact(VsockDevice)]
    public void Bind_SamePortTwice_ThrowsAlreadyExists()
    {
        using var first = VsockListener.Bind(new VsockEndPoint(VsockCids.Any, VsockEndPoint.AnyPort));
        var port = ((VsockEndPoint)first.LocalEndPoint).Port;

        var ex = Assert.Throws<CocoonException>(() => VsockListener.Bind(new VsockEndPoint(VsockCids.Any, port)));

        Assert.Equal(CocoonErrorCode.AlreadyExists, ex.Code);
        Assert.Contains(port.ToString(System.Globalization.CultureInfo.InvariantCulture), ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void VsockEndPoint_ToString_NamesCidAndPort()
    {
        Assert.Equal("vsock:any:1024", new VsockEndPoint(VsockCids.Any, 1024).ToString());
        Assert.Equal("vsock:3:1025", new VsockEndPoint(3, 1025).ToString());
        Assert.Equal(new VsockEndPoint(3, 1), new VsockEndPoint(3, 1));
    }
}
