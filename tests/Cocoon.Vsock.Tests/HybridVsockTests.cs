// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Text;
using Cocoon.Vsock.Tests.Infrastructure;

namespace Cocoon.Vsock.Tests;

public sealed class HybridVsockTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task ConnectAsync_OkAnswer_SendsConnectLineAndKeepsFollowingBytes()
    {
        // The device's OK line and the guest's first bytes arrive in one write: none may be swallowed.
        await using var server = new FakeHybridVsockServer("OK 1073741824\nfirst"u8.ToArray());

        using var socket = await HybridVsock.ConnectAsync(server.Path, 1024).WaitAsync(Timeout);
        var line = await server.ReceivedLine.Task.WaitAsync(Timeout);
        var buffer = new byte[5];
        var read = 0;
        while (read < buffer.Length)
        {
            read += await socket.ReceiveAsync(buffer.AsMemory(read)).AsTask().WaitAsync(Timeout);
        }

        Assert.Equal("CONNECT 1024", line);
        Assert.Equal("first", Encoding.ASCII.GetString(buffer));
    }

    [Fact]
    public async Task ConnectAsync_ClosedWithoutOk_ThrowsUnavailableNamingPortAndPath()
    {
        await using var server = new FakeHybridVsockServer(reply: null);

        var ex = await Assert.ThrowsAsync<CocoonException>(() => HybridVsock.ConnectAsync(server.Path, 1025).WaitAsync(Timeout));

        Assert.Equal(CocoonErrorCode.Unavailable, ex.Code);
        Assert.Contains("1025", ex.Message, StringComparison.Ordinal);
        Assert.Contains(server.Path, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConnectAsync_UnexpectedAnswer_ThrowsUnavailable()
    {
        await using var server = new FakeHybridVsockServer("NOPE\n"u8.ToArray());

        var ex = await Assert.ThrowsAsync<CocoonException>(() => HybridVsock.ConnectAsync(server.Path, 1024).WaitAsync(Timeout));

        Assert.Equal(CocoonErrorCode.Unavailable, ex.Code);
        Assert.Contains("NOPE", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConnectAsync_MissingSocket_ThrowsUnavailable()
    {
        var ex = await Assert.ThrowsAsync<CocoonException>(() => HybridVsock.ConnectAsync("/tmp/cocoon-no-such-dir/vsock.sock", 1024).WaitAsync(Timeout));

        Assert.Equal(CocoonErrorCode.Unavailable, ex.Code);
        Assert.Contains("/tmp/cocoon-no-such-dir/vsock.sock", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConnectAsync_PathTooLong_ThrowsInvalidArgument()
    {
        var path = "/tmp/" + new string('x', 200);

        var ex = await Assert.ThrowsAsync<CocoonException>(() => HybridVsock.ConnectAsync(path, 1024).WaitAsync(Timeout));

        Assert.Equal(CocoonErrorCode.InvalidArgument, ex.Code);
    }
}
