// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Net.Sockets;
using Cocoon.Agent.Tests.Infrastructure;
using Cocoon.Protocol.Agent.V1;
using Cocoon.Vsock.Streams;
using Grpc.Net.Client;
using ProcessRpc = Cocoon.Protocol.Agent.V1.Process;

namespace Cocoon.Agent.Tests;

/// <summary>
/// An exec's stdio on data streams, at the protocol level: the agent announces two tokens, refuses a
/// token it did not announce or that was taken, and starts the process on both streams once they are open.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class StdioStreamsTests(AgentProcessFixture fixture) : IClassFixture<AgentProcessFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Exec_StdioStreams_TokensAnnouncedThenBytesOnTheStreams()
    {
        using var channel = Channel(fixture.SocketPath);
        using var call = new ProcessRpc.ProcessClient(channel).Exec();
        var start = new ExecStart { StdioStreams = true, Stdin = true };
        start.Argv.AddRange(["sh", "-c", "cat; echo to-stderr >&2"]);

        await call.RequestStream.WriteAsync(new ExecClientMessage { Start = start }).WaitAsync(Timeout);
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(Timeout));
        var streams = call.ResponseStream.Current.Streams;
        var bogus = await Assert.ThrowsAsync<StreamException>(() => OpenAsync(new string('0', StreamHeader.TokenLength)));
        using var stdio = await OpenAsync(streams.StdioToken);
        using var stderr = await OpenAsync(streams.StderrToken);
        var again = await Assert.ThrowsAsync<StreamException>(() => OpenAsync(streams.StdioToken));
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(Timeout));
        var started = call.ResponseStream.Current.KindCase;
        await stdio.SendAsync("through the stream\n"u8.ToArray(), SocketFlags.None).WaitAsync(Timeout);
        stdio.Shutdown(SocketShutdown.Send);
        stderr.Shutdown(SocketShutdown.Send);
        var output = await ReadToEndAsync(stdio);
        var errors = await ReadToEndAsync(stderr);
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(Timeout));
        var exit = call.ResponseStream.Current;

        Assert.True(StreamHeader.IsToken(streams.StdioToken));
        Assert.True(StreamHeader.IsToken(streams.StderrToken));
        Assert.Equal(StreamStatusCode.NotFound, bogus.Status);
        Assert.Equal(StreamStatusCode.NotFound, again.Status);
        Assert.Equal(ExecServerMessage.KindOneofCase.Started, started);
        Assert.Equal("through the stream\n", output);
        Assert.Equal("to-stderr\n", errors);
        Assert.Equal(0, exit.Exit.Code);
    }

    private async Task<Socket> OpenAsync(string token)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(fixture.SocketPath + "_1025")).WaitAsync(Timeout);
            await StreamClient.OpenAsync(socket, new AcceptRequest(token)).WaitAsync(Timeout);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static async Task<string> ReadToEndAsync(Socket socket)
    {
        // Raw reads: .NET's NetworkStream refuses a socket whose sending side is shut down.
        var bytes = new MemoryStream();
        var buffer = new byte[4096];
        int read;
        while ((read = await socket.ReceiveAsync(buffer.AsMemory(), SocketFlags.None).AsTask().WaitAsync(Timeout)) > 0)
        {
            bytes.Write(buffer, 0, read);
        }

        return System.Text.Encoding.UTF8.GetString(bytes.ToArray());
    }

    private static GrpcChannel Channel(string socketPath) => GrpcChannel.ForAddress("http://agent", new GrpcChannelOptions
    {
        HttpHandler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            },
        },
    });
}
