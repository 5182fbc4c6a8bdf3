// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Net.Sockets;
using Cocoon.GuestAgent;
using Grpc.Core;

namespace Cocoon.Tests.GuestAgent;

/// <summary>
/// A call that fails in the transport becomes one human message per failure class; the .NET text
/// stays in the inner exception (<c>COCOON_DEBUG=1</c> shows it).
/// </summary>
public sealed class AgentCallFailureTests
{
    public static TheoryData<Exception> ClosedConnections() => new()
    {
        new HttpIOException(HttpRequestError.ResponseEnded, "The response ended prematurely."),
        new HttpRequestException("An error occurred while sending the request.", new IOException("Unable to read data from the transport connection: Connection reset by peer.", new SocketException((int)SocketError.ConnectionReset))),
    };

    [Theory]
    [MemberData(nameof(ClosedConnections))]
    public void ToCocoonException_ConnectionClosedDuringExec_BoxStoppedWhileTheCommandRan(Exception transport)
    {
        var rpc = new RpcException(new Status(StatusCode.Unavailable, "Error reading next message. " + transport.GetType().Name + ": " + transport.Message, transport));

        var ex = Assert.IsType<CocoonException>(GrpcGuestAgent.ToCocoonException(rpc, "Exec", "web"));

        Assert.Equal(CocoonErrorCode.Unavailable, ex.Code);
        Assert.Equal("box 'web' stopped while the command ran", ex.Message);
    }

    [Fact]
    public void ToCocoonException_PingUnanswered_BoxStoppedAnswering()
    {
        var ping = new HttpRequestException("An HTTP/2 connection could not be established.", new IOException("The HTTP/2 server didn't respond to a ping request within the configured KeepAlivePingTimeout."));
        var rpc = new RpcException(new Status(StatusCode.Internal, "Error reading next message. IOException: " + ping.InnerException!.Message, ping));

        var ex = Assert.IsType<CocoonException>(GrpcGuestAgent.ToCocoonException(rpc, "Exec", "web"));

        Assert.Equal(CocoonErrorCode.Unavailable, ex.Code);
        Assert.StartsWith("box 'web' stopped answering while the command ran", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("HTTP/2", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ToCocoonException_AgentError_KeepsTheAgentsMessage()
    {
        var rpc = new RpcException(new Status(StatusCode.NotFound, "executable 'nope' not found"));

        var ex = Assert.IsType<CocoonException>(GrpcGuestAgent.ToCocoonException(rpc, "Exec", "web"));

        Assert.Equal(CocoonErrorCode.NotFound, ex.Code);
        Assert.Equal("executable 'nope' not found", ex.Message);
    }
}
