// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Buffers.Binary;
using System.Net.Sockets;
using Cocoon.Shim.Protocol;
using Cocoon.Shim.Tests.Infrastructure;
using Cocoon.Shim.Ttrpc;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cocoon.Shim.Tests.Ttrpc;

/// <summary>The server against hostile frames (written by hand on a socket pair) and a real client over a UNIX socket.</summary>
public sealed class TtrpcServerTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private const string Service = "test.Echo";

    private readonly Socket _clientSide;
    private readonly NetworkStream _client;
    private readonly Task _serving;
    private readonly CancellationTokenSource _stop = new();

    public TtrpcServerTests()
    {
        var (server, client) = UnixSocketPair.Create();
        _clientSide = client;
        _client = new NetworkStream(client, ownsSocket: true);
        _serving = NewServer().ServeConnectionAsync(new NetworkStream(server, ownsSocket: true), _stop.Token);
    }

    private static TtrpcServer NewServer() => new(new Dictionary<string, TtrpcHandler>
    {
        // Echo answers the string it got; its metadata's namespace comes back after a slash.
        [TtrpcServer.Key(Service, "Echo")] = TtrpcServer.Unary(StringValue.Parser, (request, context, _) =>
            Task.FromResult<IMessage>(new StringValue { Value = request.Value + "/" + context.Namespace })),
        [TtrpcServer.Key(Service, "Fail")] = TtrpcServer.Unary(StringValue.Parser, (request, _, _) =>
            throw new CocoonException(CocoonErrorCode.NotFound, $"no task '{request.Value}'")),
        [TtrpcServer.Key(Service, "Boom")] = TtrpcServer.Unary(StringValue.Parser, (_, _, _) =>
            throw new InvalidOperationException("a bug")),
    }, NullLogger.Instance);

    [Fact]
    public async Task Request_Echo_AnswersOnItsStreamWithMetadata()
    {
        await SendRequestAsync(7, "Echo", new StringValue { Value = "hi" }, ("containerd-namespace-ttrpc", "ns1"));

        var (streamId, response) = await ReadResponseAsync();

        Assert.Equal(7u, streamId);
        Assert.Equal(0, response.Status?.Code ?? 0);
        Assert.Equal("hi/ns1", StringValue.Parser.ParseFrom(response.Payload).Value);
    }

    [Fact]
    public async Task OversizedFrame_AnsweredResourceExhausted_ConnectionStillServes()
    {
        var payload = new byte[TtrpcFrameHeader.MaxPayload + 1];
        await WriteFrameAsync(new TtrpcFrameHeader((uint)payload.Length, 3, TtrpcMessageType.Request, 0), payload);

        var (streamId, response) = await ReadResponseAsync();
        Assert.Equal(3u, streamId);
        Assert.Equal((int)TtrpcCode.ResourceExhausted, response.Status.Code);
        Assert.Contains("exceeds", response.Status.Message, StringComparison.Ordinal);

        await AssertStillServesAsync();
    }

    [Fact]
    public async Task UnknownFrameType_Dropped_ConnectionStillServes()
    {
        await WriteFrameAsync(new TtrpcFrameHeader(3, 5, (TtrpcMessageType)0x7f, 0), [1, 2, 3]);
        await WriteFrameAsync(new TtrpcFrameHeader(0, 9, TtrpcMessageType.Response, 0), []);

        // The next answer on the wire is the echo's: nothing was sent for the two frames above.
        await AssertStillServesAsync();
    }

    [Fact]
    public async Task GarbagePayload_AnsweredInvalidArgument()
    {
        await WriteFrameAsync(new TtrpcFrameHeader(4, 11, TtrpcMessageType.Request, 0), [0xff, 0xff, 0xff, 0xff]);

        var (streamId, response) = await ReadResponseAsync();

        Assert.Equal(11u, streamId);
        Assert.Equal((int)TtrpcCode.InvalidArgument, response.Status.Code);
        await AssertStillServesAsync();
    }

    [Fact]
    public async Task EvenStreamId_AnsweredInvalidArgument()
    {
        await SendRequestAsync(4, "Echo", new StringValue { Value = "x" });

        var (streamId, response) = await ReadResponseAsync();

        Assert.Equal(4u, streamId);
        Assert.Equal((int)TtrpcCode.InvalidArgument, response.Status.Code);
    }

    [Theory]
    [InlineData("Nope", 12)] // Unimplemented
    [InlineData("Fail", 5)] // NotFound, from CocoonErrorCode.NotFound
    [InlineData("Boom", 2)] // Unknown
    public async Task Request_FailingOrUnknownMethod_MapsToStatus(string method, int expected)
    {
        await SendRequestAsync(13, method, new StringValue { Value = "t1" });

        var (_, response) = await ReadResponseAsync();

        Assert.Equal(expected, response.Status.Code);
        Assert.NotEmpty(response.Status.Message);
    }

    [Fact]
    public async Task TruncatedFrame_EndsOnlyThatConnection()
    {
        var header = new byte[TtrpcFrameHeader.Size];
        new TtrpcFrameHeader(100, 1, TtrpcMessageType.Request, 0).Write(header);
        await _client.WriteAsync(header.AsMemory(0, 6));
        _clientSide.Shutdown(SocketShutdown.Send);

        await _serving.WaitAsync(Timeout);

        Assert.Equal(0, await _client.ReadAsync(new byte[1]).AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task Client_OverUnixSocket_RoundTripsAndMapsErrors()
    {
        var dir = Directory.CreateTempSubdirectory("cocoon-ttrpc-");
        var path = Path.Combine(dir.FullName, "s.sock");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen();
        using var stop = new CancellationTokenSource();
        var serving = NewServer().ServeAsync(listener, stop.Token);
        try
        {
            await using var client = await TtrpcClient.ConnectAsync("unix://" + path, CancellationToken.None).WaitAsync(Timeout);
            var metadata = new Dictionary<string, string> { [TtrpcCallContext.NamespaceKey] = "k8s.io" };

            var calls = Enumerable.Range(0, 8).Select(i => client.CallAsync(Service, "Echo", new StringValue { Value = $"m{i}" }, StringValue.Parser, metadata, CancellationToken.None));
            var answers = await Task.WhenAll(calls).WaitAsync(Timeout);
            var failure = await Assert.ThrowsAsync<TtrpcException>(() =>
                client.CallAsync(Service, "Fail", new StringValue { Value = "t9" }, StringValue.Parser, null, CancellationToken.None).WaitAsync(Timeout));

            Assert.Equal(Enumerable.Range(0, 8).Select(i => $"m{i}/k8s.io"), answers.Select(a => a.Value));
            Assert.Equal(TtrpcCode.NotFound, failure.Code);
            Assert.Contains("t9", failure.Message, StringComparison.Ordinal);
        }
        finally
        {
            await stop.CancelAsync();
            await serving.WaitAsync(Timeout);
            dir.Delete(recursive: true);
        }
    }

    private async Task AssertStillServesAsync()
    {
        await SendRequestAsync(21, "Echo", new StringValue { Value = "again" });
        var (streamId, response) = await ReadResponseAsync();
        Assert.Equal(21u, streamId);
        Assert.Equal("again/", StringValue.Parser.ParseFrom(response.Payload).Value);
    }

    private async Task SendRequestAsync(uint streamId, string method, IMessage message, params (string Key, string Value)[] metadata)
    {
        var request = new TtrpcRequest { Service = Service, Method = method, Payload = message.ToByteString() };
        foreach (var (key, value) in metadata)
        {
            request.Metadata.Add(new TtrpcKeyValue { Key = key, Value = value });
        }

        var payload = request.ToByteArray();
        await WriteFrameAsync(new TtrpcFrameHeader((uint)payload.Length, streamId, TtrpcMessageType.Request, 0), payload);
    }

    private async Task WriteFrameAsync(TtrpcFrameHeader header, byte[] payload)
    {
        var bytes = new byte[TtrpcFrameHeader.Size];
        header.Write(bytes);
        await _client.WriteAsync(bytes).AsTask().WaitAsync(Timeout);
        await _client.WriteAsync(payload).AsTask().WaitAsync(Timeout);
    }

    private async Task<(uint StreamId, TtrpcResponse Response)> ReadResponseAsync()
    {
        var header = new byte[TtrpcFrameHeader.Size];
        await _client.ReadExactlyAsync(header).AsTask().WaitAsync(Timeout);
        Assert.Equal((byte)TtrpcMessageType.Response, header[8]);
        var payload = new byte[BinaryPrimitives.ReadUInt32BigEndian(header)];
        await _client.ReadExactlyAsync(payload).AsTask().WaitAsync(Timeout);
        return (BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(4)), TtrpcResponse.Parser.ParseFrom(payload));
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _stop.CancelAsync();
        await _client.DisposeAsync();
        await _serving.WaitAsync(Timeout);
        _stop.Dispose();
    }
}
