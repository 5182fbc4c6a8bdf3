// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace Cocoon.EndToEnd.Tests.Forwarding;

/// <summary><c>pod.portDial</c> on the box's control.sock, over a plain UNIX socket (docs/control-api.md).</summary>
public sealed partial class PortForwardTests
{
    private string ControlSocket => Path.Combine(fixture.Environment.StateRoot, "boxes", fixture.Name, "control.sock");

    [Fact]
    public async Task PortDial_Httpd_ResultLineThenTheRawConnection()
    {
        var (socket, answer) = await PortDialClient.DialAsync(ControlSocket, """{"network":"tcp","port":80}""");
        using var _ = socket;

        await socket.SendAsync("GET /f5 HTTP/1.0\r\n\r\n"u8.ToArray());
        var response = await PortDialClient.ReadToEndAsync(socket).WaitAsync(Timeout);

        var result = answer.GetProperty("result");
        Assert.Equal(7, answer.GetProperty("id").GetInt32());
        Assert.Equal("tcp", result.GetProperty("network").GetString());
        Assert.Equal(80, result.GetProperty("port").GetInt32());
        Assert.Equal("127.0.0.1", result.GetProperty("address").GetString());
        var body = response.AsSpan(response.AsSpan().IndexOf("\r\n\r\n"u8) + 4);
        Assert.Equal(fixture.Hashes[5], Convert.ToHexStringLower(SHA256.HashData(body)));
    }

    [Fact]
    public async Task PortDial_BytesSentWithTheRequest_DeliveredFirstAndHalfClosePassedOn()
    {
        var (socket, answer) = await PortDialClient.DialAsync(ControlSocket, """{"network":"tcp","port":7000,"address":"::1"}""", "early "u8.ToArray());
        using var _ = socket;

        await socket.SendAsync("late"u8.ToArray());
        socket.Shutdown(SocketShutdown.Send);
        var echoed = await PortDialClient.ReadToEndAsync(socket).WaitAsync(Timeout);

        Assert.Equal("::1", answer.GetProperty("result").GetProperty("address").GetString());
        Assert.Equal("early late", Encoding.ASCII.GetString(echoed));
    }

    [Theory]
    [InlineData("""{"port":80}""", -32602, "network")]
    [InlineData("""{"network":"sctp","port":80}""", -32602, "network")]
    [InlineData("""{"network":"tcp"}""", -32602, "port")]
    [InlineData("""{"network":"tcp","port":0}""", -32602, "port")]
    [InlineData("""{"network":"tcp","port":65536}""", -32602, "port")]
    [InlineData("""{"network":"tcp","port":80,"address":"not-an-ip"}""", -32602, "address")]
    [InlineData("""{"network":"tcp","port":80,"container":"no/such"}""", -32602, "container")]
    [InlineData("""{"network":"tcp","port":81}""", -32001, null)]
    public async Task PortDial_BadInputOrRefused_ErrorLineAndTheConnectionStaysJson(string parameters, int code, string? field)
    {
        var (socket, answer) = await PortDialClient.DialAsync(ControlSocket, parameters);
        using var _ = socket;

        await socket.SendAsync("""{"jsonrpc":"2.0","id":8,"method":"pod.info"}"""u8.ToArray().Append((byte)'\n').ToArray());
        var info = await PortDialClient.ReadLineAsync(socket);

        var error = answer.GetProperty("error");
        Assert.Equal(code, error.GetProperty("code").GetInt32());
        if (field is null)
        {
            Assert.Equal("refused", error.GetProperty("data").GetProperty("status").GetString());
            Assert.Contains("port 81", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        }
        else
        {
            Assert.Equal(field, error.GetProperty("data").GetProperty("field").GetString());
        }

        Assert.Equal("running", info!.Value.GetProperty("result").GetProperty("state").GetString());
    }
}
