// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Cocoon.Agent.Tests.Infrastructure;
using Cocoon.Protocol;
using Cocoon.Protocol.Agent.V1;
using Cocoon.Vsock.Streams;
using Grpc.Core;
using Grpc.Net.Client;
using static Cocoon.Agent.Tests.Infrastructure.SocketHelpers;

namespace Cocoon.Agent.Forwarding.Tests;

/// <summary>
/// Socket forwards in the agent as a real process on a UNIX socket: connect streams out of the box,
/// and listeners, announcements and accept streams into it (the host's part played by the test).
/// </summary>
public sealed class SocketForwardTests : IClassFixture<AgentProcessFixture>, IDisposable
{
    private readonly AgentProcessFixture _fixture;
    private readonly GrpcChannel _channel;
    private readonly Protocol.Agent.V1.SocketForwards.SocketForwardsClient _forwards;

    public SocketForwardTests(AgentProcessFixture fixture)
    {
        _fixture = fixture;
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, cancellationToken) => new NetworkStream(await ConnectUnixAsync(fixture.SocketPath), ownsSocket: true),
        };
        _channel = GrpcChannel.ForAddress("http://cocoon-agent", new GrpcChannelOptions { HttpHandler = handler });
        _forwards = new Protocol.Agent.V1.SocketForwards.SocketForwardsClient(_channel);
    }

    public void Dispose() => _channel.Dispose();

    [Fact]
    public async Task Connect_UnixServer_HalfCloseBothWaysCarriesBytes()
    {
        var path = TestPath("app");
        using var server = Listen(path);
        var serve = Task.Run(async () =>
        {
            using var peer = await server.AcceptAsync();
            var question = await ReadToEndAsync(peer);
            await SendAllAsync(peer, SHA256.HashData(question));
            peer.Shutdown(SocketShutdown.Send);
        });
        var body = RandomNumberGenerator.GetBytes(512 * 1024);

        using var stream = await OpenStreamAsync(_fixture, new ConnectRequest(path));
        await SendAllAsync(stream, body);
        stream.Shutdown(SocketShutdown.Send);
        var answer = await ReadToEndAsync(stream).WaitAsync(StepTimeout);
        await serve.WaitAsync(StepTimeout);

        Assert.Equal(SHA256.HashData(body), answer);
    }

    [Fact]
    public async Task Connect_NoSuchSocket_NotFoundNamingPath()
    {
        var ex = await Assert.ThrowsAsync<StreamException>(() => OpenStreamAsync(_fixture, new ConnectRequest("/nonexistent/cocoon-test.sock")));

        Assert.Equal(StreamStatusCode.NotFound, ex.Status);
        Assert.Contains("/nonexistent/cocoon-test.sock", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Connect_StaleSocketFile_Refused()
    {
        var path = TestPath("stale");
        using (Listen(path + ".tmp"))
        {
            // .NET removes the file of a socket it bound when disposed; under another name it stays, stale.
            File.Move(path + ".tmp", path);
        }

        var ex = await Assert.ThrowsAsync<StreamException>(() => OpenStreamAsync(_fixture, new ConnectRequest(path)));

        Assert.Equal(StreamStatusCode.Refused, ex.Status);
    }

    [Fact]
    public async Task Accept_AnnouncedConnection_SplicesBothWaysWithHalfClose()
    {
        await using var forward = await BindAndWatchAsync();
        var (client, token) = await forward.ConnectAsync();
        using (client)
        {
            using var stream = await OpenStreamAsync(_fixture, new AcceptRequest(token));
            await SendAllAsync(client, "from the guest client"u8.ToArray());
            client.Shutdown(SocketShutdown.Send);
            var fromClient = await ReadToEndAsync(stream).WaitAsync(StepTimeout);
            await SendAllAsync(stream, "from the host service"u8.ToArray());
            stream.Shutdown(SocketShutdown.Send);
            var fromHost = await ReadToEndAsync(client).WaitAsync(StepTimeout);

            Assert.Equal("from the guest client", Encoding.ASCII.GetString(fromClient));
            Assert.Equal("from the host service", Encoding.ASCII.GetString(fromHost));
        }
    }

    [Fact]
    public async Task Accept_TokenTakenTwice_SecondIsNotFound()
    {
        await using var forward = await BindAndWatchAsync();
        var (client, token) = await forward.ConnectAsync();
        using (client)
        {
            using var first = await OpenStreamAsync(_fixture, new AcceptRequest(token));

            var ex = await Assert.ThrowsAsync<StreamException>(() => OpenStreamAsync(_fixture, new AcceptRequest(token)));

            Assert.Equal(StreamStatusCode.NotFound, ex.Status);
        }
    }

    [Fact]
    public async Task Accept_UnknownToken_NotFound()
    {
        var ex = await Assert.ThrowsAsync<StreamException>(() => OpenStreamAsync(_fixture, new AcceptRequest("0123456789abcdef0123456789abcdef")));

        Assert.Equal(StreamStatusCode.NotFound, ex.Status);
    }

    [Fact]
    public async Task Accept_Refused_GuestClientClosedAtOnce()
    {
        await using var forward = await BindAndWatchAsync();
        var (client, token) = await forward.ConnectAsync();
        using (client)
        {
            using var stream = await OpenStreamAsync(_fixture, new AcceptRequest(token, Refuse: true));

            Assert.True(await ClosedAsync(client).WaitAsync(StepTimeout));
        }
    }

    [Fact]
    public async Task Bind_NobodyWatching_ClientClosedAtOnce()
    {
        var id = ForwardId.Compute(null, TestPath("unwatched"));
        var listener = await BindAsync(id, null);
        try
        {
            using var client = await ConnectUnixAsync(listener);

            Assert.True(await ClosedAsync(client).WaitAsync(StepTimeout));
        }
        finally
        {
            await UnbindAsync(id);
        }
    }

    [Fact]
    public async Task Bind_WithLink_LinkReachesListenerAndUnbindRemovesBoth()
    {
        var link = Path.Combine(Path.GetDirectoryName(_fixture.SocketPath)!, "linked", "app.sock");
        var forward = await BindAndWatchAsync(link);
        var (client, _) = await forward.ConnectAsync(link);
        client.Dispose();

        await forward.DisposeAsync();

        Assert.False(File.Exists(forward.ListenerPath));
        Assert.Null(new FileInfo(link).LinkTarget);
        Assert.False(await UnbindAsync(forward.Id));
    }

    [Fact]
    public async Task Bind_Twice_AlreadyExists()
    {
        await using var forward = await BindAndWatchAsync();

        var ex = await Assert.ThrowsAsync<RpcException>(() => BindAsync(forward.Id, null));

        Assert.Equal(StatusCode.AlreadyExists, ex.StatusCode);
    }

    [Theory]
    [InlineData("../../etc/passwd")]
    [InlineData("ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789")]
    [InlineData("")]
    public async Task Bind_ForgedForwardId_InvalidArgument(string id)
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() => BindAsync(id, null));

        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
    }

    [Fact]
    public async Task Bind_ContainerNotCreatedYet_ListenerWaitsForItsSpec()
    {
        var id = ForwardId.Compute("later", "/run/app.sock");

        var reply = await _forwards.BindAsync(new BindSocketForwardRequest { ForwardId = id, Container = "later", Destination = "/run/app.sock" }).ResponseAsync.WaitAsync(StepTimeout);
        using (await ConnectUnixAsync(reply.ListenerPath).WaitAsync(StepTimeout))
        {
            // Connected: the listener is there (with nobody watching, the agent closes the client at once).
        }

        var removed = await UnbindAsync(id);

        Assert.EndsWith($"/{id}.sock", reply.ListenerPath, StringComparison.Ordinal);
        Assert.True(removed);
    }

    [Fact]
    public async Task Bind_ContainerForwardWithLinkPath_InvalidArgumentNothingBound()
    {
        var id = ForwardId.Compute("later", "/run/app.sock");

        var ex = await Assert.ThrowsAsync<RpcException>(() => _forwards.BindAsync(new BindSocketForwardRequest { ForwardId = id, Container = "later", Destination = "/run/app.sock", LinkPath = TestPath("link") }).ResponseAsync.WaitAsync(StepTimeout));

        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.False(await UnbindAsync(id));
    }

    private string TestPath(string name) =>
        Path.Combine(Path.GetDirectoryName(_fixture.SocketPath)!, name + "-" + Guid.NewGuid().ToString("N")[..8] + ".sock");

    private async Task<string> BindAsync(string id, string? link)
    {
        var reply = await _forwards.BindAsync(new BindSocketForwardRequest { ForwardId = id, LinkPath = link ?? string.Empty }).ResponseAsync.WaitAsync(StepTimeout);
        return reply.ListenerPath;
    }

    private async Task<bool> UnbindAsync(string id)
    {
        var reply = await _forwards.UnbindAsync(new UnbindSocketForwardRequest { ForwardId = id }).ResponseAsync.WaitAsync(StepTimeout);
        return reply.Removed;
    }

    /// <summary>Watches announcements first, then binds a fresh forward (at <paramref name="link"/> when given).</summary>
    private async Task<WatchedForward> BindAndWatchAsync(string? link = null)
    {
        var id = ForwardId.Compute(null, link ?? TestPath("forward"));
        var watch = new CancellationTokenSource(StepTimeout);
        var announcements = _forwards.WatchAccepts(new WatchAcceptsRequest(), cancellationToken: watch.Token);
        Assert.True(await announcements.ResponseStream.MoveNext(watch.Token).WaitAsync(StepTimeout));
        Assert.Equal(string.Empty, announcements.ResponseStream.Current.ForwardId);
        var listener = await BindAsync(id, link);
        return new WatchedForward(this, id, listener, announcements, watch);
    }

    private static Socket Listen(string path)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(path));
        socket.Listen();
        return socket;
    }

    /// <summary>A bound forward with a running WatchAccepts call; dispose unbinds it.</summary>
    private sealed class WatchedForward(SocketForwardTests tests, string id, string listenerPath, AsyncServerStreamingCall<AcceptedConnection> announcements, CancellationTokenSource watch) : IAsyncDisposable
    {
        public string Id => id;

        public string ListenerPath => listenerPath;

        /// <summary>Connects a guest client (to the listener, or <paramref name="path"/>) and returns it with the token announced for it.</summary>
        public async Task<(Socket Client, string Token)> ConnectAsync(string? path = null)
        {
            var next = announcements.ResponseStream.MoveNext(watch.Token);
            var client = await ConnectUnixAsync(path ?? listenerPath);
            Assert.True(await next.WaitAsync(StepTimeout));
            Assert.Equal(id, announcements.ResponseStream.Current.ForwardId);
            Assert.True(StreamHeader.IsToken(announcements.ResponseStream.Current.Token));
            return (client, announcements.ResponseStream.Current.Token);
        }

        public async ValueTask DisposeAsync()
        {
            announcements.Dispose();
            watch.Dispose();
            await tests.UnbindAsync(id);
        }
    }
}
