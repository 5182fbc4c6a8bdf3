// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Cocoon.Protocol;
using Cocoon.Vsock.Streams;
using Cocoon.Vsock.Tests.Infrastructure;

namespace Cocoon.Vsock.Tests.Streams;

public sealed class StreamClientTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task OpenAsync_Path_SendsHeaderWithConnectLineBeforeOk()
    {
        // The fake device answers OK and the status line only after it read the CONNECT line, then
        // echoes what followed it: the header must already be there, in the same write, not after OK.
        var request = new DialRequest(DialNetwork.Tcp, 8080, "10.0.0.5");
        await using var server = new FakeHybridVsockServer("OK 1073741824\nok\n"u8.ToArray());

        using var socket = await StreamClient.OpenAsync(server.Path, request).WaitAsync(Timeout);
        var header = StreamHeader.Encode(request);
        var echoed = new byte[header.Length];
        var read = 0;
        while (read < echoed.Length)
        {
            read += await socket.ReceiveAsync(echoed.AsMemory(read)).AsTask().WaitAsync(Timeout);
        }

        Assert.Equal($"CONNECT {AgentPorts.Streams}", await server.ReceivedLine.Task.WaitAsync(Timeout));
        Assert.Equal(header, echoed);
        Assert.Equal(header.Length, server.BytesAfterLine);
    }

    [Fact]
    public async Task OpenAsync_Path_ErrorStatus_ThrowsStreamExceptionWithItsCode()
    {
        await using var server = new FakeHybridVsockServer("OK 7\nerror refused nothing listens on tcp 127.0.0.1:81\n"u8.ToArray());

        var ex = await Assert.ThrowsAsync<StreamException>(() => StreamClient.OpenAsync(server.Path, new DialRequest(DialNetwork.Tcp, 81)).WaitAsync(Timeout));

        Assert.Equal(StreamStatusCode.Refused, ex.Status);
        Assert.Contains("port 81", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenAsync_Path_DeviceRefuses_ThrowsUnavailableNotStreamException()
    {
        await using var server = new FakeHybridVsockServer(reply: null);

        var ex = await Assert.ThrowsAsync<CocoonException>(() => StreamClient.OpenAsync(server.Path, new DialRequest(DialNetwork.Tcp, 80)).WaitAsync(Timeout));

        Assert.IsNotType<StreamException>(ex);
        Assert.Equal(CocoonErrorCode.Unavailable, ex.Code);
    }
}
