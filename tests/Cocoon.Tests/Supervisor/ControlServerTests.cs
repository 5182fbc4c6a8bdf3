// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Runtime.Versioning;
using Cocoon.Tests.Common;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cocoon.Supervisor.Tests;

/// <summary>The control server over a real UNIX socket, with test methods instead of a box.</summary>
public sealed class ControlServerTests : IAsyncLifetime
{
    private readonly TempStateRoot _root = new();
    private ControlServer _server = null!;

    private string SocketPath => Path.Combine(_root.Path, "control.sock");

    public Task InitializeAsync()
    {
        var dispatcher = new ControlDispatcher()
            .Register("test.echo", (request, _) => Task.FromResult(new ControlReply(w => w.WriteNumberValue(request.GetNumber("n", 0, -10, 10)))))
            .Register("test.fail", (_, _) => throw new InvalidOperationException("boom"))
            .Register("test.raw", (_, _) => Task.FromResult(new ControlReply(
                w => w.WriteStringValue("raw"),
                async (socket, buffered) =>
                {
                    using (socket)
                    {
                        // Echo what came after the request line, then everything else until the client's end.
                        await socket.SendAsync(buffered);
                        var chunk = new byte[4096];
                        for (var read = await socket.ReceiveAsync(chunk); read > 0; read = await socket.ReceiveAsync(chunk))
                        {
                            await socket.SendAsync(chunk.AsMemory(0, read));
                        }
                    }
                })));
        _server = ControlServer.Start(SocketPath, dispatcher, NullLogger.Instance);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _root.Dispose();
    }

    [Fact]
    [SupportedOSPlatform("linux")]
    public void Start_Socket_IsOwnerOnly()
    {
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(SocketPath));
    }

    [Fact]
    public async Task Call_KnownMethod_ResultWithTheSameId()
    {
        using var client = await LineSocketClient.ConnectAsync(SocketPath);

        var answer = await client.CallAsync("""{"jsonrpc":"2.0","id":"a1","method":"test.echo","params":{"n":3}}""");

        Assert.Equal("2.0", answer.GetProperty("jsonrpc").GetString());
        Assert.Equal("a1", answer.GetProperty("id").GetString());
        Assert.Equal(3, answer.GetProperty("result").GetInt32());
    }

    [Fact]
    public async Task Call_UnknownMethod_MethodNotFoundAndKeepsServing()
    {
        using var client = await LineSocketClient.ConnectAsync(SocketPath);

        var unknown = await client.CallAsync("""{"jsonrpc":"2.0","id":1,"method":"pod.nothing"}""");
        var next = await client.CallAsync("""{"jsonrpc":"2.0","id":2,"method":"test.echo"}""");

        Assert.Equal(-32601, unknown.GetProperty("error").GetProperty("code").GetInt32());
        Assert.Contains("pod.nothing", unknown.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, next.GetProperty("result").GetInt32());
    }

    [Fact]
    public async Task Call_MalformedJson_ParseErrorWithNullIdAndKeepsServing()
    {
        using var client = await LineSocketClient.ConnectAsync(SocketPath);

        var malformed = await client.CallAsync("""{"jsonrpc":"2.0","id":1,"method":""");
        var next = await client.CallAsync("""{"jsonrpc":"2.0","id":2,"method":"test.echo"}""");

        Assert.Equal(-32700, malformed.GetProperty("error").GetProperty("code").GetInt32());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, malformed.GetProperty("id").ValueKind);
        Assert.Equal(2, next.GetProperty("id").GetInt32());
    }

    [Theory]
    [InlineData("""[{"jsonrpc":"2.0","id":1,"method":"test.echo"}]""")]
    [InlineData("""{"id":1,"method":"test.echo"}""")]
    [InlineData("""{"jsonrpc":"2.0","id":1,"method":7}""")]
    [InlineData("""{"jsonrpc":"2.0","id":1,"method":"test.echo","params":5}""")]
    [InlineData("""{"jsonrpc":"2.0","id":{},"method":"test.echo"}""")]
    public async Task Call_NotARequest_InvalidRequest(string line)
    {
        using var client = await LineSocketClient.ConnectAsync(SocketPath);

        var answer = await client.CallAsync(line);

        Assert.Equal(-32600, answer.GetProperty("error").GetProperty("code").GetInt32());
    }

    [Theory]
    [InlineData("""{"n":"three"}""")]
    [InlineData("""{"n":11}""")]
    public async Task Call_BadParam_InvalidParamsNamingTheField(string parameters)
    {
        using var client = await LineSocketClient.ConnectAsync(SocketPath);

        var answer = await client.CallAsync($$"""{"jsonrpc":"2.0","id":1,"method":"test.echo","params":{{parameters}}}""");

        var error = answer.GetProperty("error");
        Assert.Equal(-32602, error.GetProperty("code").GetInt32());
        Assert.Equal("n", error.GetProperty("data").GetProperty("field").GetString());
        Assert.Contains("'n'", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Call_HandlerThrows_InternalErrorAndKeepsServing()
    {
        using var client = await LineSocketClient.ConnectAsync(SocketPath);

        var failed = await client.CallAsync("""{"jsonrpc":"2.0","id":1,"method":"test.fail"}""");
        var next = await client.CallAsync("""{"jsonrpc":"2.0","id":2,"method":"test.echo"}""");

        Assert.Equal(-32603, failed.GetProperty("error").GetProperty("code").GetInt32());
        Assert.Equal(2, next.GetProperty("id").GetInt32());
    }

    [Fact]
    public async Task Call_Notification_NoAnswer()
    {
        using var client = await LineSocketClient.ConnectAsync(SocketPath);

        await client.SendAsync("""{"jsonrpc":"2.0","method":"test.echo"}""" + "\n");
        var answer = await client.CallAsync("""{"jsonrpc":"2.0","id":9,"method":"test.echo"}""");

        Assert.Equal(9, answer.GetProperty("id").GetInt32());
    }

    [Fact]
    public async Task Call_LineOverOneMiB_ErrorThenConnectionClosedAndServerServesOthers()
    {
        using var client = await LineSocketClient.ConnectAsync(SocketPath);
        var huge = new byte[ControlServer.MaxLineBytes + 1];
        huge.AsSpan().Fill((byte)' ');

        // The server may close while the tail is still being sent.
        try
        {
            await client.SendAsync(huge);
        }
        catch (IOException)
        {
        }

        var error = await client.ReadAnswerAsync();
        var closed = await client.ReadAnswerAsync();
        using var other = await LineSocketClient.ConnectAsync(SocketPath);
        var next = await other.CallAsync("""{"jsonrpc":"2.0","id":1,"method":"test.echo"}""");

        Assert.Equal(-32600, error!.Value.GetProperty("error").GetProperty("code").GetInt32());
        Assert.Null(closed);
        Assert.Equal(1, next.GetProperty("id").GetInt32());
    }

    [Fact]
    public async Task Call_ClientLeavesMidRequest_DroppedAndServerServesOthers()
    {
        using (var client = await LineSocketClient.ConnectAsync(SocketPath))
        {
            await client.SendAsync("""{"jsonrpc":"2.0","id":1,"meth""");
            client.ShutdownSend();
            Assert.Null(await client.ReadAnswerAsync());
        }

        using var other = await LineSocketClient.ConnectAsync(SocketPath);
        var next = await other.CallAsync("""{"jsonrpc":"2.0","id":2,"method":"test.echo"}""");

        Assert.Equal(2, next.GetProperty("id").GetInt32());
    }

    [Fact]
    public async Task Call_TakeOver_ResultLineThenTheRawConnection()
    {
        using var client = await LineSocketClient.ConnectAsync(SocketPath);

        await client.SendAsync("""{"jsonrpc":"2.0","id":1,"method":"test.raw"}""" + "\n" + """{"not":"a request"}""" + "\n");
        client.ShutdownSend();
        var answer = await client.ReadAnswerAsync();
        var echoed = await client.ReadAnswerAsync();
        var closed = await client.ReadAnswerAsync();

        Assert.Equal("raw", answer!.Value.GetProperty("result").GetString());
        Assert.Equal("a request", echoed!.Value.GetProperty("not").GetString());
        Assert.Null(closed);
    }

    [Fact]
    public void Register_SameMethodTwice_Throws()
    {
        var dispatcher = new ControlDispatcher().Register("a", (_, _) => Task.FromResult(new ControlReply(w => w.WriteNullValue())));

        Assert.Throws<InvalidOperationException>(() => dispatcher.Register("a", (_, _) => Task.FromResult(new ControlReply(w => w.WriteNullValue()))));
    }
}
