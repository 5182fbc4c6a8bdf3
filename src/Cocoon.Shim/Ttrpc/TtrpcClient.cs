// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Collections.Concurrent;
using System.Net.Sockets;
using Cocoon.Shim.Protocol;
using Google.Protobuf;

namespace Cocoon.Shim.Ttrpc;

/// <summary>
/// A ttrpc client for unary calls over one UNIX-socket connection: requests take odd stream ids
/// (1, 3, 5, ...), one read loop matches responses to them. The shim needs it to publish events to
/// containerd's <c>TTRPC_ADDRESS</c>; tests use it to call the server.
/// </summary>
internal sealed class TtrpcClient : IAsyncDisposable
{
    private readonly Stream _connection;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly ConcurrentDictionary<uint, TaskCompletionSource<TtrpcResponse>> _pending = new();
    private readonly CancellationTokenSource _closed = new();
    private readonly Task _reader;
    private uint _nextStreamId = 1;

    private TtrpcClient(Stream connection)
    {
        _connection = connection;
        _reader = ReadLoopAsync();
    }

    /// <summary>Connects to the server at <paramref name="address"/>: a socket path, or <c>unix://PATH</c>.</summary>
    public static async Task<TtrpcClient> ConnectAsync(string address, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(address);
        var path = address.StartsWith("unix://", StringComparison.Ordinal) ? address["unix://".Length..] : address;
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        return new TtrpcClient(new NetworkStream(socket, ownsSocket: true));
    }

    /// <summary>A client over an already connected stream (tests).</summary>
    public static TtrpcClient Over(Stream connection) => new(connection);

    /// <summary>Calls <paramref name="service"/>/<paramref name="method"/> and parses the answer.</summary>
    /// <exception cref="TtrpcException">The server's non-OK status, or Unavailable when the connection is gone.</exception>
    public async Task<TResponse> CallAsync<TResponse>(
        string service, string method, IMessage request, MessageParser<TResponse> parser,
        IReadOnlyDictionary<string, string>? metadata, CancellationToken cancellationToken)
        where TResponse : IMessage<TResponse>
    {
        var envelope = new TtrpcRequest { Service = service, Method = method, Payload = request.ToByteString() };
        if (metadata is not null)
        {
            foreach (var (key, value) in metadata)
            {
                envelope.Metadata.Add(new TtrpcKeyValue { Key = key, Value = value });
            }
        }

        var pending = new TaskCompletionSource<TtrpcResponse>(TaskCreationOptions.RunContinuationsAsynchronously);
        uint streamId;
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            streamId = _nextStreamId;
            _nextStreamId += 2;
            _pending[streamId] = pending;
            if (_closed.IsCancellationRequested)
            {
                throw new TtrpcException(TtrpcCode.Unavailable, "the ttrpc connection is closed");
            }

            await _connection.WriteAsync(TtrpcFraming.Encode(streamId, TtrpcMessageType.Request, envelope.ToByteArray()), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            _pending.TryRemove(_nextStreamId - 2, out _);
            throw new TtrpcException(TtrpcCode.Unavailable, $"the ttrpc connection broke: {e.Message}", e);
        }
        finally
        {
            _writeLock.Release();
        }

        TtrpcResponse response;
        try
        {
            response = await pending.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _pending.TryRemove(streamId, out _);
        }

        if (response.Status is { Code: not 0 } status)
        {
            throw new TtrpcException((TtrpcCode)status.Code, status.Message);
        }

        return parser.ParseFrom(response.Payload);
    }

    private async Task ReadLoopAsync()
    {
        try
        {
            while (true)
            {
                var frame = await TtrpcFraming.ReadAsync(_connection, _closed.Token).ConfigureAwait(false);
                if (frame.Status is TtrpcReadStatus.Closed or TtrpcReadStatus.Truncated)
                {
                    break;
                }

                if (frame.Header.Type != TtrpcMessageType.Response || !_pending.TryRemove(frame.Header.StreamId, out var waiter))
                {
                    continue;
                }

                if (frame.Status is TtrpcReadStatus.Oversized)
                {
                    waiter.TrySetException(new TtrpcException(TtrpcCode.ResourceExhausted, $"the response of {frame.Header.Length} bytes exceeds ttrpc's limit"));
                    continue;
                }

                try
                {
                    waiter.TrySetResult(TtrpcResponse.Parser.ParseFrom(frame.Payload));
                }
                catch (InvalidProtocolBufferException e)
                {
                    waiter.TrySetException(new TtrpcException(TtrpcCode.Internal, $"the response does not parse: {e.Message}"));
                }
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException)
        {
            // The connection is gone; every waiter learns it below.
        }
        finally
        {
            await _closed.CancelAsync().ConfigureAwait(false);
            foreach (var (_, waiter) in _pending)
            {
                waiter.TrySetException(new TtrpcException(TtrpcCode.Unavailable, "the ttrpc connection closed before the answer"));
            }
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await _closed.CancelAsync().ConfigureAwait(false);
        await _connection.DisposeAsync().ConfigureAwait(false);
        await _reader.ConfigureAwait(false);
        _closed.Dispose();
        _writeLock.Dispose();
    }
}
