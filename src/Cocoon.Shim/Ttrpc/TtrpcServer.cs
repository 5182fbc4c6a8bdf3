// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Collections.Frozen;
using System.Net.Sockets;
using Cocoon.Shim.Protocol;
using Google.Protobuf;
using Microsoft.Extensions.Logging;

namespace Cocoon.Shim.Ttrpc;

/// <summary>What a handler knows of its call.</summary>
/// <param name="Metadata">The request's metadata (containerd sends its namespace here).</param>
internal sealed record TtrpcCallContext(IReadOnlyDictionary<string, string> Metadata)
{
    /// <summary>The metadata key under which containerd names the namespace of a call.</summary>
    public const string NamespaceKey = "containerd-namespace-ttrpc";

    /// <summary>The containerd namespace of the call, or null when it names none.</summary>
    public string? Namespace => Metadata.TryGetValue(NamespaceKey, out var ns) ? ns : null;
}

/// <summary>A unary method: the request's payload in, the response message out (or a thrown status).</summary>
internal delegate Task<IMessage> TtrpcHandler(ReadOnlyMemory<byte> payload, TtrpcCallContext context, CancellationToken cancellationToken);

/// <summary>
/// A ttrpc server for unary calls over UNIX-socket connections. Each connection has one read loop;
/// every request runs on its own task (containerd keeps a Wait open while it calls Kill), and
/// responses are written one frame at a time.
/// <para>
/// Hostile input never ends the server: an oversized frame is drained and answered
/// ResourceExhausted, a frame of another type is dropped, a request that does not parse or uses an
/// even stream id is answered InvalidArgument, and a truncated frame ends only its connection.
/// </para>
/// </summary>
internal sealed class TtrpcServer
{
    private readonly FrozenDictionary<string, TtrpcHandler> _methods;
    private readonly ILogger _logger;

    /// <summary>A server for <paramref name="methods"/>, keyed <c>service/method</c> (see <see cref="Key"/>).</summary>
    public TtrpcServer(IReadOnlyDictionary<string, TtrpcHandler> methods, ILogger logger)
    {
        _methods = methods.ToFrozenDictionary(StringComparer.Ordinal);
        _logger = logger;
    }

    /// <summary>The key of a method in the table.</summary>
    public static string Key(string service, string method) => service + "/" + method;

    /// <summary>A handler for messages of type <typeparamref name="TRequest"/>.</summary>
    public static TtrpcHandler Unary<TRequest>(MessageParser<TRequest> parser, Func<TRequest, TtrpcCallContext, CancellationToken, Task<IMessage>> handler)
        where TRequest : IMessage<TRequest>
        => async (payload, context, cancellationToken) =>
        {
            TRequest request;
            try
            {
                request = parser.ParseFrom(payload.Span);
            }
            catch (InvalidProtocolBufferException e)
            {
                throw new TtrpcException(TtrpcCode.InvalidArgument, $"the request of type {typeof(TRequest).Name} does not parse: {e.Message}");
            }

            return await handler(request, context, cancellationToken).ConfigureAwait(false);
        };

    /// <summary>Accepts connections on <paramref name="listener"/> until cancelled; each is served on its own.</summary>
    public async Task ServeAsync(Socket listener, CancellationToken cancellationToken)
    {
        var connections = new List<Task>();
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                Socket client;
                try
                {
                    client = await listener.AcceptAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }

                connections.RemoveAll(t => t.IsCompleted);
                connections.Add(ServeConnectionAsync(new NetworkStream(client, ownsSocket: true), cancellationToken));
            }
        }
        finally
        {
            await Task.WhenAll(connections).ConfigureAwait(false);
        }
    }

    /// <summary>Serves one connection until the peer closes it, it breaks, or <paramref name="cancellationToken"/> fires.</summary>
    public async Task ServeConnectionAsync(Stream connection, CancellationToken cancellationToken)
    {
        using var writeLock = new SemaphoreSlim(1, 1);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var calls = new List<Task>();
        try
        {
            while (true)
            {
                TtrpcReadResult frame;
                try
                {
                    frame = await TtrpcFraming.ReadAsync(connection, stop.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException)
                {
                    break;
                }

                if (frame.Status is TtrpcReadStatus.Closed)
                {
                    break;
                }

                if (frame.Status is TtrpcReadStatus.Truncated)
                {
                    ShimLog.TruncatedFrame(_logger, frame.Header.StreamId);
                    break;
                }

                calls.RemoveAll(t => t.IsCompleted);
                if (frame.Header.Type != TtrpcMessageType.Request)
                {
                    ShimLog.DroppedFrame(_logger, (byte)frame.Header.Type, frame.Header.StreamId);
                    continue;
                }

                if (frame.Status is TtrpcReadStatus.Oversized)
                {
                    calls.Add(SendAsync(connection, writeLock, frame.Header.StreamId, Failure(TtrpcCode.ResourceExhausted,
                        $"message of {frame.Header.Length} bytes exceeds ttrpc's limit of {TtrpcFrameHeader.MaxPayload} bytes")));
                    continue;
                }

                if (frame.Header.StreamId % 2 == 0)
                {
                    calls.Add(SendAsync(connection, writeLock, frame.Header.StreamId, Failure(TtrpcCode.InvalidArgument,
                        $"stream id {frame.Header.StreamId} is even; a client's requests use odd stream ids")));
                    continue;
                }

                calls.Add(HandleAsync(connection, writeLock, frame, stop.Token));
            }
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(calls).ConfigureAwait(false);
            await connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task HandleAsync(Stream connection, SemaphoreSlim writeLock, TtrpcReadResult frame, CancellationToken cancellationToken)
    {
        TtrpcResponse response;
        try
        {
            response = await DispatchAsync(frame.Payload, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            var (code, message) = TtrpcException.StatusOf(e);
            if (code == TtrpcCode.Unknown)
            {
                ShimLog.HandlerFailed(_logger, e);
            }

            response = Failure(code, message);
        }

        await SendAsync(connection, writeLock, frame.Header.StreamId, response).ConfigureAwait(false);
    }

    private async Task<TtrpcResponse> DispatchAsync(byte[] payload, CancellationToken cancellationToken)
    {
        TtrpcRequest request;
        try
        {
            request = TtrpcRequest.Parser.ParseFrom(payload);
        }
        catch (InvalidProtocolBufferException e)
        {
            return Failure(TtrpcCode.InvalidArgument, $"the request frame does not parse: {e.Message}");
        }

        if (!_methods.TryGetValue(Key(request.Service, request.Method), out var handler))
        {
            return Failure(TtrpcCode.Unimplemented, $"method {request.Service}/{request.Method} is not implemented");
        }

        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in request.Metadata)
        {
            metadata[pair.Key] = pair.Value;
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (request.TimeoutNano > 0)
        {
            deadline.CancelAfter(TimeSpan.FromTicks(Math.Max(1, request.TimeoutNano / 100)));
        }

        var result = await handler(request.Payload.Memory, new TtrpcCallContext(metadata), deadline.Token).ConfigureAwait(false);
        return new TtrpcResponse { Status = new TtrpcStatus { Code = (int)TtrpcCode.Ok }, Payload = result.ToByteString() };
    }

    private static TtrpcResponse Failure(TtrpcCode code, string message)
        => new() { Status = new TtrpcStatus { Code = (int)code, Message = message } };

    private async Task SendAsync(Stream connection, SemaphoreSlim writeLock, uint streamId, TtrpcResponse response)
    {
        byte[] frame;
        try
        {
            frame = TtrpcFraming.Encode(streamId, TtrpcMessageType.Response, response.ToByteArray());
        }
        catch (TtrpcException e)
        {
            frame = TtrpcFraming.Encode(streamId, TtrpcMessageType.Response, Failure(e.Code, e.Message).ToByteArray());
        }

        // An answer is written even when the connection is closing (Shutdown's own answer is).
        try
        {
            await writeLock.WaitAsync(CancellationToken.None).ConfigureAwait(false);
            try
            {
                await connection.WriteAsync(frame, CancellationToken.None).ConfigureAwait(false);
            }
            finally
            {
                writeLock.Release();
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException)
        {
            ShimLog.ResponseLost(_logger, streamId, e.Message);
        }
    }
}
